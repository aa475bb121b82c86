package io.ballast.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.core.settings.SettingException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OpsSettingsTest {
  @Test
  void defaults() {
    var s = OpsSettings.fromEnv(Map.of());
    assertThat(s.vacuumDeadPercent()).isEqualTo(10);
    assertThat(s.vacuumMinDeadRows()).isEqualTo(1000);
    assertThat(s.analyzeChangedPercent()).isEqualTo(10);
    assertThat(s.reindexBloatPercent()).isEqualTo(40);
    assertThat(s.reindexMinSizeMb()).isEqualTo(8);
    assertThat(s.lockTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(s.retention()).isEmpty();
    assertThat(s.batchSize()).isEqualTo(1000);
    assertThat(s.batchPause()).isEqualTo(Duration.ofMillis(50));
    assertThat(s.batchTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.jobsEnabled()).isTrue();
    assertThat(s.jobsTick()).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.jobsTable()).isEqualTo("ballast_job_runs");
    assertThat(s)
        .hasToString(
            "OpsSettings[vacuum at 10% dead, reindex at 40% bloat, 0 retention policies, batches of"
                + " 1000, jobs every PT30S]");
  }

  @Test
  void fromEnv_readsEveryVariable() {
    var s =
        OpsSettings.fromEnv(
            Map.ofEntries(
                Map.entry("BALLAST_VACUUM_DEAD_PERCENT", "20"),
                Map.entry("BALLAST_VACUUM_MIN_DEAD_ROWS", "50"),
                Map.entry("BALLAST_ANALYZE_CHANGED_PERCENT", "30"),
                Map.entry("BALLAST_REINDEX_BLOAT_PERCENT", "60"),
                Map.entry("BALLAST_REINDEX_MIN_SIZE_MB", "1"),
                Map.entry("BALLAST_MAINTENANCE_LOCK_TIMEOUT_MS", "250"),
                Map.entry("BALLAST_RETENTION", "events.created_at:365:events_archive:730"),
                Map.entry("BALLAST_RETENTION_BATCH_SIZE", "500"),
                Map.entry("BALLAST_RETENTION_BATCH_PAUSE_MS", "0"),
                Map.entry("BALLAST_RETENTION_STATEMENT_TIMEOUT_MS", "9000"),
                Map.entry("BALLAST_JOBS_ENABLED", "false"),
                Map.entry("BALLAST_JOBS_TICK_SECONDS", "5"),
                Map.entry("BALLAST_JOBS_TABLE", "ops.job_runs")));
    assertThat(s.vacuumDeadPercent()).isEqualTo(20);
    assertThat(s.vacuumMinDeadRows()).isEqualTo(50);
    assertThat(s.analyzeChangedPercent()).isEqualTo(30);
    assertThat(s.reindexBloatPercent()).isEqualTo(60);
    assertThat(s.reindexMinSizeMb()).isEqualTo(1);
    assertThat(s.lockTimeout()).isEqualTo(Duration.ofMillis(250));
    assertThat(s.retention())
        .containsExactly(
            RetentionPolicy.of("events", "created_at", Duration.ofDays(365))
                .archiveTo("events_archive", Duration.ofDays(730)));
    assertThat(s.batchSize()).isEqualTo(500);
    assertThat(s.batchPause()).isZero();
    assertThat(s.batchTimeout()).isEqualTo(Duration.ofSeconds(9));
    assertThat(s.jobsEnabled()).isFalse();
    assertThat(s.jobsTick()).isEqualTo(Duration.ofSeconds(5));
    assertThat(s.jobsTable()).isEqualTo("ops.job_runs");
    assertThat(OpsSettings.from(s).batchSize(7).build().jobsTable()).isEqualTo("ops.job_runs");
  }

  @Test
  void wrongValues_failWithTheSettingTheValueTheRuleAndTheSource() {
    assertThatThrownBy(() -> OpsSettings.fromEnv(Map.of("BALLAST_VACUUM_DEAD_PERCENT", "101")))
        .isInstanceOf(SettingException.class)
        .hasMessage(
            "vacuum_dead_percent must be between 0 and 100, but was 101 (from"
                + " BALLAST_VACUUM_DEAD_PERCENT)");
    assertThatThrownBy(() -> OpsSettings.fromEnv(Map.of("BALLAST_RETENTION_BATCH_SIZE", "many")))
        .isInstanceOf(SettingException.class)
        .hasMessageStartingWith("retention_batch_size must be")
        .hasMessageEndingWith("but was many (from BALLAST_RETENTION_BATCH_SIZE)");
    assertThatThrownBy(() -> OpsSettings.fromEnv(Map.of("BALLAST_JOBS_TABLE", "Runs; drop")))
        .isInstanceOf(SettingException.class)
        .hasMessage(
            "jobs_table must be a lower-case table name, optionally schema-qualified, but was"
                + " Runs; drop (from BALLAST_JOBS_TABLE)");
    assertThatThrownBy(
            () ->
                OpsSettings.fromEnv(
                    Map.of("BALLAST_RETENTION", "events.created_at:30:events_archive:10")))
        .isInstanceOf(SettingException.class)
        .hasMessageContaining("the purge age longer than the archive age")
        .hasMessageContaining("(from BALLAST_RETENTION)");
    assertThatThrownBy(() -> OpsSettings.builder().lockTimeout(Duration.ZERO))
        .isInstanceOf(SettingException.class)
        .hasMessage(
            "maintenance_lock_timeout must be between 1ms and 10m, but was 0s (from builder)");
  }
}
