package io.ballast.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResilienceSettingsTest {
  @Test
  void defaults_mirrorTheSeedConfiguration() {
    var s = ResilienceSettings.fromEnv(Map.of());
    assertThat(s.dbFailureThreshold()).isEqualTo(5);
    assertThat(s.dbOpenDuration()).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.dbTrialCalls()).isEqualTo(2);
    assertThat(s.bulkheadEnabled()).isFalse();
    assertThat(s.bulkheadMaxConcurrent()).isZero();
  }

  @Test
  void fromEnv_readsEveryVariable() {
    var s =
        ResilienceSettings.fromEnv(
            Map.of(
                "BALLAST_DB_BREAKER_FAILURES",
                "3",
                "BALLAST_DB_BREAKER_OPEN_SECONDS",
                "10",
                "BALLAST_DB_BREAKER_TRIAL_CALLS",
                "1",
                "BALLAST_TX_RETRY_MAX_ATTEMPTS",
                "7",
                "BALLAST_TX_RETRY_INITIAL_DELAY_MS",
                "10",
                "BALLAST_TX_RETRY_MAX_DELAY_MS",
                "500",
                "BALLAST_BULKHEAD_ENABLED",
                "true",
                "BALLAST_BULKHEAD_MAX_CONCURRENT",
                "12",
                "BALLAST_BULKHEAD_MAX_WAIT_MS",
                "25",
                "BALLAST_REDIS_BREAKER_FAILURES",
                "4"));
    assertThat(s.dbFailureThreshold()).isEqualTo(3);
    assertThat(s.dbOpenDuration()).isEqualTo(Duration.ofSeconds(10));
    assertThat(s.dbTrialCalls()).isEqualTo(1);
    assertThat(s.retryMaxAttempts()).isEqualTo(7);
    assertThat(s.retryInitialDelay()).isEqualTo(Duration.ofMillis(10));
    assertThat(s.retryMaxDelay()).isEqualTo(Duration.ofMillis(500));
    assertThat(s.bulkheadEnabled()).isTrue();
    assertThat(s.bulkheadMaxConcurrent()).isEqualTo(12);
    assertThat(s.bulkheadMaxWait()).isEqualTo(Duration.ofMillis(25));
    assertThat(s.redisFailureThreshold()).isEqualTo(4);
  }

  @Test
  void wrongValues_failWithTheSettingTheValueAndWhatIsAllowed() {
    assertThatThrownBy(() -> ResilienceSettings.fromEnv(Map.of("BALLAST_DB_BREAKER_FAILURES", "0")))
        .hasMessage(
            "db_breaker_failures must be between 1 and 1000, but was 0 (from BALLAST_DB_BREAKER_FAILURES)");
    assertThatThrownBy(() -> ResilienceSettings.fromEnv(Map.of("BALLAST_BULKHEAD_ENABLED", "on")))
        .hasMessage(
            "bulkhead_enabled must be true or false, but was on (from BALLAST_BULKHEAD_ENABLED)");
    assertThatThrownBy(
            () ->
                ResilienceSettings.builder()
                    .retryDelays(Duration.ofSeconds(2), Duration.ofSeconds(1))
                    .build())
        .hasMessage(
            "tx_retry_max_delay must be at least tx_retry_initial_delay (2s, from builder), but was 1s"
                + " (from builder)");
    assertThatThrownBy(
            () -> ResilienceSettings.fromEnv(Map.of("BALLAST_DB_BREAKER_OPEN_SECONDS", "soon")))
        .hasMessage(
            "db_breaker_open must be a whole number of seconds, between 1ms and 1h, but was soon"
                + " (from BALLAST_DB_BREAKER_OPEN_SECONDS)");
  }

  /**
   * Regression: BALLAST_TX_RETRY_INITIAL_DELAY_MS=1500 failed with "… but was 1s (from builder)"
   * although no builder was used: a cross-check names each value's own source.
   */
  @Test
  void crossCheckFromTheEnvironment_namesTheVariablesAndTheDefault() {
    assertThatThrownBy(
            () -> ResilienceSettings.fromEnv(Map.of("BALLAST_TX_RETRY_INITIAL_DELAY_MS", "1500")))
        .hasMessage(
            "tx_retry_max_delay must be at least tx_retry_initial_delay (1500ms, from "
                + "BALLAST_TX_RETRY_INITIAL_DELAY_MS), but was 1s (from default)");
    assertThatThrownBy(
            () ->
                ResilienceSettings.fromEnv(
                    Map.of(
                        "BALLAST_TX_RETRY_INITIAL_DELAY_MS",
                        "1500",
                        "BALLAST_TX_RETRY_MAX_DELAY_MS",
                        "1200")))
        .hasMessageEndingWith("but was 1200ms (from BALLAST_TX_RETRY_MAX_DELAY_MS)");
  }

  @Test
  void toBuilder_keepsEveryValue() {
    var base = ResilienceSettings.builder().dbFailureThreshold(9).bulkhead(true).build();
    var copy = ResilienceSettings.from(base).dbTrialCalls(4).build();
    assertThat(copy.dbFailureThreshold()).isEqualTo(9);
    assertThat(copy.bulkheadEnabled()).isTrue();
    assertThat(copy.dbTrialCalls()).isEqualTo(4);
    assertThat(base.dbTrialCalls()).isEqualTo(2);
  }
}
