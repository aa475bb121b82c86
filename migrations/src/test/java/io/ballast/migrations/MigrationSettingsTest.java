package io.ballast.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.core.MigrationSet;
import io.ballast.core.settings.AppEnv;
import io.ballast.core.settings.SettingException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MigrationSettingsTest {

  @Test
  void defaults_migrateOutsideProductionAndValidateInIt() {
    assertThat(MigrationSettings.defaults(AppEnv.DEVELOPMENT).mode())
        .isEqualTo(MigrationMode.MIGRATE);
    assertThat(MigrationSettings.defaults(AppEnv.STAGING).mode()).isEqualTo(MigrationMode.MIGRATE);
    assertThat(MigrationSettings.defaults(AppEnv.PRODUCTION).mode())
        .isEqualTo(MigrationMode.VALIDATE);
    var d = MigrationSettings.defaults(AppEnv.DEVELOPMENT);
    assertThat(d.locations()).containsExactly("classpath:db/migration");
    assertThat(d.historyTable()).isEqualTo("flyway_schema_history");
    assertThat(d.allowClean()).isFalse();
    assertThat(d.applicationSet())
        .isEqualTo(
            new MigrationSet(
                "app", 1000, "flyway_schema_history", java.util.List.of("classpath:db/migration")));
  }

  @Test
  void fromEnv_readsEveryVariable() {
    var s =
        MigrationSettings.fromEnv(
            Map.of(
                "APP_ENV",
                "production",
                "BALLAST_MIGRATIONS_MODE",
                "Off",
                "BALLAST_MIGRATIONS_LOCATIONS",
                "classpath:db/a, filesystem:/srv/sql",
                "BALLAST_MIGRATIONS_TABLE",
                "schema_log"));
    assertThat(s.mode()).isEqualTo(MigrationMode.OFF);
    assertThat(s.locations()).containsExactly("classpath:db/a", "filesystem:/srv/sql");
    assertThat(s.historyTable()).isEqualTo("schema_log");
  }

  @Test
  void badValues_nameSettingRuleValueAndSource() {
    assertThatThrownBy(() -> MigrationSettings.fromEnv(Map.of("BALLAST_MIGRATIONS_MODE", "apply")))
        .isInstanceOf(SettingException.class)
        .hasMessage(
            "migrations_mode must be one of migrate, validate, off, but was apply (from BALLAST_MIGRATIONS_MODE)");
    assertThatThrownBy(
            () -> MigrationSettings.fromEnv(Map.of("BALLAST_MIGRATIONS_LOCATIONS", "db/migration")))
        .hasMessage(
            "migrations_locations must be classpath:<path> or filesystem:<path>, comma-separated, but was"
                + " db/migration (from BALLAST_MIGRATIONS_LOCATIONS)");
    assertThatThrownBy(() -> MigrationSettings.builder(AppEnv.DEVELOPMENT).locations())
        .hasMessage(
            "migrations_locations must be classpath:<path> or filesystem:<path>, comma-separated, but was"
                + "  (from builder)");
    assertThatThrownBy(
            () -> MigrationSettings.fromEnv(Map.of("BALLAST_MIGRATIONS_LOCK_TIMEOUT_SECONDS", "0")))
        .hasMessage(
            "migrations_lock_timeout must be between 1s and 1d, but was 0s"
                + " (from BALLAST_MIGRATIONS_LOCK_TIMEOUT_SECONDS)");
    assertThatThrownBy(
            () -> MigrationSettings.fromEnv(Map.of("BALLAST_MIGRATIONS_TABLE", "Bad-Table")))
        .hasMessage(
            "migrations_table must be a table name matching [a-z_][a-z0-9_]{0,62}, but was Bad-Table"
                + " (from BALLAST_MIGRATIONS_TABLE)");
    assertThatThrownBy(
            () -> MigrationSettings.fromEnv(Map.of("BALLAST_MIGRATIONS_ALLOW_CLEAN", "maybe")))
        .hasMessage(
            "allow_clean must be true or false, but was maybe (from BALLAST_MIGRATIONS_ALLOW_CLEAN)");
  }

  @Test
  void lockTimeouts_readTheirSecondsVariables_andTheOldNames() {
    var s =
        MigrationSettings.fromEnv(
            Map.of(
                "BALLAST_MIGRATIONS_LOCK_TIMEOUT_SECONDS",
                "30",
                "BALLAST_MIGRATIONS_STATEMENT_LOCK_TIMEOUT",
                "2"));
    assertThat(s.lockTimeout()).isEqualTo(java.time.Duration.ofSeconds(30));
    assertThat(s.statementLockTimeout()).isEqualTo(java.time.Duration.ofSeconds(2));
    var base = MigrationSettings.builder(AppEnv.STAGING).historyTable("h").build();
    assertThat(MigrationSettings.from(base).allowClean(true).build().historyTable()).isEqualTo("h");
  }

  @Test
  void clean_isNeverAllowedInProduction() {
    assertThatThrownBy(
            () ->
                MigrationSettings.fromEnv(
                    Map.of("APP_ENV", "production", "BALLAST_MIGRATIONS_ALLOW_CLEAN", "true")))
        .hasMessage(
            "allow_clean must be false in production (clean drops every object in the schema), but was true"
                + " (from BALLAST_MIGRATIONS_ALLOW_CLEAN)");
    assertThatThrownBy(() -> MigrationSettings.builder(AppEnv.PRODUCTION).allowClean(true).build())
        .hasMessageEndingWith("(from builder)");
    assertThat(MigrationSettings.builder(AppEnv.STAGING).allowClean(true).build().allowClean())
        .isTrue();
  }

  @Test
  void migrationSet_rejectsBadNamesAndTables() {
    assertThatThrownBy(() -> MigrationSet.of("Audit", "classpath:x"))
        .hasMessage("migration set name must match [a-z][a-z0-9_]{0,30}, but was Audit");
    assertThatThrownBy(
            () -> new MigrationSet("audit", 1, "audit;drop", java.util.List.of("classpath:x")))
        .hasMessage(
            "history table of migration set 'audit' must match [a-z_][a-z0-9_]{0,62}, but was audit;drop");
    assertThat(MigrationSet.of("audit", "classpath:x").historyTable())
        .isEqualTo("flyway_schema_history_audit");
  }

  @Test
  void concurrently_rewritesIndexDefinitions() {
    assertThat(
            FlywayMigrations.concurrently("CREATE UNIQUE INDEX u ON public.t USING btree (email)"))
        .isEqualTo("CREATE UNIQUE INDEX CONCURRENTLY u ON public.t USING btree (email)");
    assertThat(
            FlywayMigrations.concurrently("CREATE INDEX i ON s.t USING gin (doc jsonb_path_ops)"))
        .isEqualTo("CREATE INDEX CONCURRENTLY i ON s.t USING gin (doc jsonb_path_ops)");
  }
}
