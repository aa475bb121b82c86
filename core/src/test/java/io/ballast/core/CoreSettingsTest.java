package io.ballast.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.core.settings.AppEnv;
import io.ballast.core.settings.SettingException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CoreSettingsTest {

  @Test
  void defaults_areDevelopmentWithTenSecondGrace() {
    var s = CoreSettings.defaults();
    assertThat(s.appEnv()).isEqualTo(AppEnv.DEVELOPMENT);
    assertThat(s.shutdownGrace()).isEqualTo(Duration.ofSeconds(10));
    assertThat(s.healthCheckTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(s).hasToString("CoreSettings{appEnv=development, shutdownGrace=10s}");
  }

  @Test
  void fromEnv_readsAppEnvInAnyCase_theGraceInSeconds_andTheHealthTimeoutInMilliseconds() {
    var s =
        CoreSettings.fromEnv(
            Map.of(
                "APP_ENV",
                "Production",
                "BALLAST_SHUTDOWN_GRACE_SECONDS",
                "25",
                "BALLAST_HEALTH_TIMEOUT_MS",
                "1500"));
    assertThat(s.appEnv()).isEqualTo(AppEnv.PRODUCTION);
    assertThat(s.shutdownGrace()).isEqualTo(Duration.ofSeconds(25));
    assertThat(s.healthCheckTimeout()).isEqualTo(Duration.ofMillis(1500));
  }

  @Test
  void fromEnv_theOldGraceVariable_stillWorks() {
    assertThat(CoreSettings.fromEnv(Map.of("BALLAST_SHUTDOWN_GRACE", "7")).shutdownGrace())
        .isEqualTo(Duration.ofSeconds(7));
    assertThat(
            CoreSettings.fromEnv(
                    Map.of("BALLAST_SHUTDOWN_GRACE", "7", "BALLAST_SHUTDOWN_GRACE_SECONDS", "9"))
                .shutdownGrace())
        .as("the new name wins")
        .isEqualTo(Duration.ofSeconds(9));
  }

  @Test
  void fromEnv_unknownAppEnv_namesTheAllowedValues() {
    assertThatThrownBy(() -> CoreSettings.fromEnv(Map.of("APP_ENV", "prod")))
        .isInstanceOf(SettingException.class)
        .hasMessage(
            "APP_ENV must be one of development, staging, production, but was prod (from APP_ENV)");
  }

  @Test
  void fromEnv_badValues_nameSettingRuleValueAndVariable() {
    assertThatThrownBy(() -> CoreSettings.fromEnv(Map.of("BALLAST_SHUTDOWN_GRACE_SECONDS", "soon")))
        .isInstanceOf(SettingException.class)
        .hasMessage(
            "shutdown_grace must be a whole number of seconds, between 0s and 10m, but was soon"
                + " (from BALLAST_SHUTDOWN_GRACE_SECONDS)");
    assertThatThrownBy(() -> CoreSettings.fromEnv(Map.of("BALLAST_SHUTDOWN_GRACE", "601")))
        .hasMessage(
            "shutdown_grace must be between 0s and 10m, but was 601s (from BALLAST_SHUTDOWN_GRACE)");
    assertThatThrownBy(() -> CoreSettings.fromEnv(Map.of("BALLAST_HEALTH_TIMEOUT_MS", "50")))
        .hasMessage(
            "health_check_timeout must be between 100ms and 1m, but was 50ms (from BALLAST_HEALTH_TIMEOUT_MS)");
    assertThatThrownBy(
            () -> CoreSettings.fromEnv(Map.of("BALLAST_CURSOR_SECRET", "too-short-secret")))
        .hasMessage(
            "cursor_secret must be at least 32 characters long, but was a value of 16 characters"
                + " (from BALLAST_CURSOR_SECRET)")
        .hasMessageNotContaining("too-short");
  }

  @Test
  void builder_checksWithTheSameRules() {
    assertThatThrownBy(() -> CoreSettings.builder().shutdownGrace(Duration.ofSeconds(-1)))
        .isInstanceOf(SettingException.class)
        .hasMessage("shutdown_grace must be between 0s and 10m, but was -1s (from builder)");
    assertThatThrownBy(() -> CoreSettings.builder().healthCheckTimeout(Duration.ofMinutes(2)))
        .hasMessage("health_check_timeout must be between 100ms and 1m, but was 2m (from builder)");
  }

  @Test
  void toBuilder_keepsEveryValue_andFrom_isTheSame() {
    var base =
        CoreSettings.builder()
            .appEnv(AppEnv.STAGING)
            .shutdownGrace(Duration.ofSeconds(3))
            .cursorSecret("x".repeat(40))
            .build();
    var copy = base.toBuilder().healthCheckTimeout(Duration.ofSeconds(1)).build();
    assertThat(copy.appEnv()).isEqualTo(AppEnv.STAGING);
    assertThat(copy.shutdownGrace()).isEqualTo(Duration.ofSeconds(3));
    assertThat(copy.cursorSecret()).isEqualTo("x".repeat(40));
    assertThat(copy.healthCheckTimeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(base.healthCheckTimeout())
        .as("the base is unchanged")
        .isEqualTo(Duration.ofSeconds(2));
    assertThat(CoreSettings.from(base).build().shutdownGrace()).isEqualTo(Duration.ofSeconds(3));
    assertThat(copy.toString()).contains("cursorSecret=****").doesNotContain("xxxx");
  }
}
