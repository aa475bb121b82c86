package io.ballast.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CoreSettingsTest {

  @Test
  void defaults_areDevelopmentWithTenSecondGrace() {
    var s = CoreSettings.defaults();
    assertThat(s.appEnv()).isEqualTo(AppEnv.DEVELOPMENT);
    assertThat(s.shutdownGrace()).isEqualTo(Duration.ofSeconds(10));
    assertThat(s).hasToString("CoreSettings{appEnv=development, shutdownGrace=10s}");
  }

  @Test
  void fromEnv_readsAppEnvInAnyCaseAndTheGrace() {
    var s = CoreSettings.fromEnv(Map.of("APP_ENV", "Production", "BALLAST_SHUTDOWN_GRACE", "25"));
    assertThat(s.appEnv()).isEqualTo(AppEnv.PRODUCTION);
    assertThat(s.shutdownGrace()).isEqualTo(Duration.ofSeconds(25));
  }

  @Test
  void fromEnv_unknownAppEnv_namesTheAllowedValues() {
    assertThatThrownBy(() -> CoreSettings.fromEnv(Map.of("APP_ENV", "prod")))
        .isInstanceOf(SettingException.class)
        .hasMessage("APP_ENV must be one of development, staging, production, but was prod (from APP_ENV)");
  }

  @Test
  void fromEnv_badGrace_namesSettingValueAndSource() {
    assertThatThrownBy(() -> CoreSettings.fromEnv(Map.of("BALLAST_SHUTDOWN_GRACE", "soon")))
        .hasMessage("shutdown_grace must be a whole number of seconds between 0 and 600, but was soon"
            + " (from BALLAST_SHUTDOWN_GRACE)");
    assertThatThrownBy(() -> CoreSettings.fromEnv(Map.of("BALLAST_SHUTDOWN_GRACE", "601")))
        .hasMessage("shutdown_grace must be between 0 and 600 seconds, but was 601 (from BALLAST_SHUTDOWN_GRACE)");
  }

  @Test
  void builder_rejectsNegativeGrace() {
    assertThatThrownBy(() -> CoreSettings.builder().shutdownGrace(Duration.ofSeconds(-1)))
        .isInstanceOf(SettingException.class)
        .hasMessage("shutdown_grace must be between 0s and 10m, but was -1000ms (from builder)");
  }
}
