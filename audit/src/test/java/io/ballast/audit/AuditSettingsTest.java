package io.ballast.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.core.settings.AppEnv;
import io.ballast.core.settings.SettingException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AuditSettingsTest {

  @Test
  void defaults_enforceTheRlsCheckOnlyInProduction() {
    var dev = AuditSettings.fromEnv(Map.of());
    assertThat(dev.rlsCheck()).isEqualTo(AuditSettings.RlsCheck.WARN);
    assertThat(dev.sealInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(dev.retentionMonths()).isZero();
    assertThat(dev.partitionsAhead()).isEqualTo(2);
    assertThat(dev.keyed()).isFalse();
    assertThat(AuditSettings.fromEnv(Map.of("APP_ENV", "production")).rlsCheck())
        .isEqualTo(AuditSettings.RlsCheck.ENFORCE);
    assertThat(
            AuditSettings.fromEnv(Map.of("APP_ENV", "production", "BALLAST_RLS_CHECK", "warn"))
                .rlsCheck())
        .isEqualTo(AuditSettings.RlsCheck.WARN);
  }

  @Test
  void fromEnv_readsEverySetting() {
    var s =
        AuditSettings.fromEnv(
            Map.of(
                "BALLAST_AUDIT_KEY",
                "s".repeat(32),
                "BALLAST_AUDIT_SEAL_INTERVAL_MS",
                "250",
                "BALLAST_AUDIT_RETENTION_MONTHS",
                "13",
                "BALLAST_AUDIT_PARTITIONS_AHEAD",
                "3",
                "BALLAST_RLS_TABLES",
                "orders, app.notes",
                "BALLAST_RLS_CHECK",
                "ENFORCE"));
    assertThat(s.keyed()).isTrue();
    assertThat(s.sealInterval()).isEqualTo(Duration.ofMillis(250));
    assertThat(s.retentionMonths()).isEqualTo(13);
    assertThat(s.partitionsAhead()).isEqualTo(3);
    assertThat(s.protectedTables()).containsExactlyInAnyOrder("orders", "app.notes");
    assertThat(s.rlsCheck()).isEqualTo(AuditSettings.RlsCheck.ENFORCE);
  }

  @Test
  void badValues_nameTheSettingTheValueAndTheRule_withoutTheSecret() {
    assertThatThrownBy(() -> AuditSettings.fromEnv(Map.of("BALLAST_AUDIT_KEY", "short-secret")))
        .isInstanceOf(SettingException.class)
        .hasMessage(
            "audit_key must be at least 32 characters long, but was a value of 12 characters "
                + "(from BALLAST_AUDIT_KEY)")
        .message()
        .doesNotContain("short-secret");
    assertThatThrownBy(() -> AuditSettings.fromEnv(Map.of("BALLAST_AUDIT_SEAL_INTERVAL_MS", "5")))
        .hasMessage(
            "audit_seal_interval must be between 10ms and 1h, but was 5ms (from BALLAST_AUDIT_SEAL_INTERVAL_MS)");
    assertThatThrownBy(() -> AuditSettings.fromEnv(Map.of("BALLAST_AUDIT_RETENTION_MONTHS", "-1")))
        .hasMessage(
            "audit_retention_months must be between 0 and 1200, but was -1 (from BALLAST_AUDIT_RETENTION_MONTHS)");
    assertThatThrownBy(
            () -> AuditSettings.fromEnv(Map.of("BALLAST_AUDIT_PARTITIONS_AHEAD", "many")))
        .hasMessage(
            "audit_partitions_ahead must be a whole number between 1 and 36, but was many "
                + "(from BALLAST_AUDIT_PARTITIONS_AHEAD)");
    assertThatThrownBy(() -> AuditSettings.fromEnv(Map.of("BALLAST_RLS_TABLES", "orders;drop")))
        .hasMessage(
            "rls_tables must list tables as name or schema.name, but was orders;drop (from BALLAST_RLS_TABLES)");
    assertThatThrownBy(() -> AuditSettings.fromEnv(Map.of("BALLAST_RLS_CHECK", "off")))
        .hasMessage("rls_check must be one of enforce, warn, but was off (from BALLAST_RLS_CHECK)");
    assertThatThrownBy(() -> AuditSettings.builder(AppEnv.DEVELOPMENT).sealInterval(Duration.ZERO))
        .hasMessage("audit_seal_interval must be between 10ms and 1h, but was 0s (from builder)");
  }

  @Test
  void previousKeysAndTheAdminRole_areRead_andABadPreviousKeyIsRefusedWithoutEchoingIt() {
    var s =
        AuditSettings.fromEnv(
            Map.of(
                "BALLAST_AUDIT_KEY",
                "n".repeat(32),
                "BALLAST_AUDIT_PREVIOUS_KEYS",
                " " + "a".repeat(32) + "  " + "b".repeat(40) + " ",
                "BALLAST_AUDIT_ADMIN_ROLE",
                "auditor"));
    assertThat(s.previousKeys()).containsExactly("a".repeat(32), "b".repeat(40));
    assertThat(s.adminRole()).isEqualTo("auditor");
    assertThat(s.toString()).doesNotContain("aaaa").doesNotContain("nnnn");
    assertThat(AuditSettings.fromEnv(Map.of()).adminRole()).isEqualTo("admin");
    assertThatThrownBy(
            () ->
                AuditSettings.fromEnv(
                    Map.of("BALLAST_AUDIT_PREVIOUS_KEYS", "a".repeat(32) + " old-secret")))
        .isInstanceOf(SettingException.class)
        .hasMessageContaining("audit_previous_keys must be")
        .hasMessageContaining("BALLAST_AUDIT_PREVIOUS_KEYS")
        .message()
        .doesNotContain("old-secret")
        .doesNotContain("aaaa");
    assertThatThrownBy(() -> AuditSettings.builder(AppEnv.DEVELOPMENT).adminRole(""))
        .hasMessageContaining("audit_admin_role must be");
  }

  @Test
  void toBuilder_keepsEveryValue_andTheProfileDefaultNamesItsSource() {
    var base =
        AuditSettings.builder(AppEnv.PRODUCTION)
            .retentionMonths(6)
            .protectedTables("orders")
            .build();
    var copy = AuditSettings.from(base).partitionsAhead(4).protectedTables("notes").build();
    assertThat(copy.retentionMonths()).isEqualTo(6);
    assertThat(copy.partitionsAhead()).isEqualTo(4);
    assertThat(copy.protectedTables()).containsExactlyInAnyOrder("orders", "notes");
    assertThat(copy.rlsCheck()).isEqualTo(AuditSettings.RlsCheck.ENFORCE);
    assertThat(base.protectedTables()).containsExactly("orders");
  }

  @Test
  void toString_masksTheKey() {
    var s = AuditSettings.builder(AppEnv.STAGING).key("super-secret-key-".repeat(3)).build();
    assertThat(s.toString()).contains("keyed (****)").doesNotContain("super-secret");
  }
}
