package io.ballast.core.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.core.settings.AppEnv;
import io.ballast.core.settings.SettingException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MonitorSettingsTest {
  @Test
  void defaults_dependOnTheEnvironment() {
    var dev = MonitorSettings.defaults(AppEnv.DEVELOPMENT);
    assertThat(dev.slowDebug()).isEqualTo(Duration.ofMillis(100));
    assertThat(MonitorSettings.defaults(AppEnv.PRODUCTION).slowDebug()).isZero();
    assertThat(dev.slowWarn()).isEqualTo(Duration.ofSeconds(1));
    assertThat(dev.nPlusOneThreshold()).isEqualTo(10);
    assertThat(dev.window()).isEqualTo(Duration.ofHours(1));
    assertThat(dev.timeout(QueryClass.SIMPLE)).isEqualTo(Duration.ofSeconds(1));
    assertThat(dev.timeout(QueryClass.REPORT)).isEqualTo(Duration.ofSeconds(30));
    assertThat(dev.logBindValues()).isFalse();
  }

  @Test
  void fromEnv_readsEveryVariable_withTheUnitInItsName() {
    var s =
        MonitorSettings.fromEnv(
            AppEnv.STAGING,
            Map.of(
                "BALLAST_SLOW_QUERY_DEBUG_MS",
                "50",
                "BALLAST_SLOW_QUERY_WARN_MS",
                "700",
                "BALLAST_N_PLUS_ONE_THRESHOLD",
                "4",
                "BALLAST_QUERY_STATS_WINDOW_MINUTES",
                "15",
                "BALLAST_QUERY_TIMEOUT_COMPLEX_SECONDS",
                "20"));
    assertThat(s.slowDebug()).isEqualTo(Duration.ofMillis(50));
    assertThat(s.slowWarn()).isEqualTo(Duration.ofMillis(700));
    assertThat(s.nPlusOneThreshold()).isEqualTo(4);
    assertThat(s.window()).isEqualTo(Duration.ofMinutes(15));
    assertThat(s.timeout(QueryClass.COMPLEX)).isEqualTo(Duration.ofSeconds(20));
  }

  @Test
  void fromEnv_oldVariableNames_stillWork() {
    var s =
        MonitorSettings.fromEnv(
            AppEnv.DEVELOPMENT,
            Map.of("BALLAST_QUERY_STATS_WINDOW", "5", "BALLAST_QUERY_TIMEOUT_SIMPLE", "2"));
    assertThat(s.window()).isEqualTo(Duration.ofMinutes(5));
    assertThat(s.timeout(QueryClass.SIMPLE)).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void wrongValues_nameSettingRuleValueAndSource() {
    assertThatThrownBy(
            () ->
                MonitorSettings.fromEnv(
                    AppEnv.DEVELOPMENT, Map.of("BALLAST_SLOW_QUERY_WARN_MS", "0")))
        .isInstanceOf(SettingException.class)
        .hasMessage(
            "slow_query_warn must be between 1ms and 1h, but was 0s (from BALLAST_SLOW_QUERY_WARN_MS)");
    assertThatThrownBy(
            () ->
                MonitorSettings.fromEnv(
                    AppEnv.DEVELOPMENT, Map.of("BALLAST_N_PLUS_ONE_THRESHOLD", "many")))
        .hasMessage(
            "n_plus_one_threshold must be a whole number between 2 and 100000, but was many"
                + " (from BALLAST_N_PLUS_ONE_THRESHOLD)");
    assertThatThrownBy(
            () ->
                MonitorSettings.fromEnv(
                    AppEnv.DEVELOPMENT, Map.of("BALLAST_QUERY_TIMEOUT_REPORT_SECONDS", "0")))
        .hasMessage(
            "query_timeout_report must be between 1s and 1h, but was 0s"
                + " (from BALLAST_QUERY_TIMEOUT_REPORT_SECONDS)");
    assertThatThrownBy(
            () -> MonitorSettings.builder(AppEnv.DEVELOPMENT).window(Duration.ofSeconds(10)))
        .hasMessage("query_stats_window must be between 1m and 1d, but was 10s (from builder)");
    assertThatThrownBy(() -> MonitorSettings.builder(AppEnv.DEVELOPMENT).maxPatterns(0))
        .hasMessage("max_patterns must be between 1 and 1000, but was 0 (from builder)");
  }

  /** A cross-check names where the value came from: the variable, not "builder". */
  @Test
  void bindValuesOutsideDevelopment_areRefused_namingTheSource() {
    assertThatThrownBy(
            () ->
                MonitorSettings.fromEnv(
                    AppEnv.PRODUCTION, Map.of("BALLAST_LOG_BIND_VALUES", "true")))
        .hasMessage(
            "log_bind_values must be false outside development (bind values are personal data), but was true"
                + " (from BALLAST_LOG_BIND_VALUES)");
    assertThatThrownBy(() -> MonitorSettings.builder(AppEnv.STAGING).logBindValues(true).build())
        .hasMessage(
            "log_bind_values must be false outside development (bind values are personal data), but was true"
                + " (from builder)");
    assertThat(
            MonitorSettings.fromEnv(AppEnv.DEVELOPMENT, Map.of("BALLAST_LOG_BIND_VALUES", "TRUE"))
                .logBindValues())
        .isTrue();
  }

  @Test
  void toBuilder_keepsEveryValue() {
    var base =
        MonitorSettings.builder(AppEnv.PRODUCTION)
            .slowWarn(Duration.ofMillis(300))
            .timeout(QueryClass.STANDARD, Duration.ofSeconds(7))
            .build();
    var copy = MonitorSettings.from(base).nPlusOneThreshold(3).build();
    assertThat(copy.appEnv()).isEqualTo(AppEnv.PRODUCTION);
    assertThat(copy.slowWarn()).isEqualTo(Duration.ofMillis(300));
    assertThat(copy.timeout(QueryClass.STANDARD)).isEqualTo(Duration.ofSeconds(7));
    assertThat(copy.nPlusOneThreshold()).isEqualTo(3);
    assertThat(base.nPlusOneThreshold()).isEqualTo(10);
  }
}
