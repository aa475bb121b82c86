package io.ballast.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.core.settings.SettingException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CacheSettingsTest {
  @Test
  void defaults_areSaneForAService() {
    var s = CacheSettings.fromEnv(Map.of());
    assertThat(s.redisUrl()).isEqualTo("redis://127.0.0.1:6379");
    assertThat(s.redisEnabled()).isTrue();
    assertThat(s.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(s.commandTimeout()).isEqualTo(Duration.ofMillis(500));
    assertThat(s.defaultTtl()).isEqualTo(Duration.ofMinutes(5));
    assertThat(s.degradedTtl()).isEqualTo(Duration.ofSeconds(10));
    assertThat(s.namespace()).isEqualTo("ballast:");
    assertThat(s.distributedSingleFlight()).isFalse();
  }

  @Test
  void fromEnv_readsEveryVariable() {
    var s =
        CacheSettings.fromEnv(
            Map.of(
                "REDIS_URL",
                "redis://:s3cret@cache.internal:6380/2",
                "REDIS_ENABLED",
                "false",
                "REDIS_CONNECTION_TIMEOUT_MS",
                "750",
                "REDIS_COMMAND_TIMEOUT_MS",
                "120",
                "REDIS_MAX_RETRIES",
                "5",
                "REDIS_RETRY_DELAY_MS",
                "50",
                "CACHE_TTL_SECONDS",
                "60",
                "CACHE_DEGRADED_TTL_SECONDS",
                "3",
                "CACHE_NAMESPACE",
                "shop:",
                "CACHE_DISTRIBUTED_SINGLE_FLIGHT",
                "true"));
    assertThat(s.redisUrl()).isEqualTo("redis://:s3cret@cache.internal:6380/2");
    assertThat(s.redisEnabled()).isFalse();
    assertThat(s.connectTimeout()).isEqualTo(Duration.ofMillis(750));
    assertThat(s.commandTimeout()).isEqualTo(Duration.ofMillis(120));
    assertThat(s.maxRetries()).isEqualTo(5);
    assertThat(s.retryDelay()).isEqualTo(Duration.ofMillis(50));
    assertThat(s.defaultTtl()).isEqualTo(Duration.ofSeconds(60));
    assertThat(s.degradedTtl()).isEqualTo(Duration.ofSeconds(3));
    assertThat(s.namespace()).isEqualTo("shop:");
    assertThat(s.distributedSingleFlight()).isTrue();
  }

  @Test
  void password_isMaskedInToStringAndErrors() {
    var s = CacheSettings.fromEnv(Map.of("REDIS_URL", "redis://app:s3cret@cache.internal:6380"));
    assertThat(s.toString()).contains("redis://****@cache.internal:6380").doesNotContain("s3cret");
    assertThat(s.maskedRedisUrl()).isEqualTo("redis://****@cache.internal:6380");
    assertThatThrownBy(
            () -> CacheSettings.fromEnv(Map.of("REDIS_URL", "http://:s3cret@cache.internal")))
        .isInstanceOf(SettingException.class)
        .hasMessage(
            "redis_url must start with redis:// or rediss://, but was http://****@cache.internal "
                + "(from REDIS_URL)");
  }

  /** Regression: {@code redis://host:notaport} started and only logged "unreachable (NXDOMAIN)". */
  @Test
  void malformedRedisUrl_failsAtStartNamingWhatIsWrong() {
    assertThatThrownBy(
            () -> CacheSettings.fromEnv(Map.of("REDIS_URL", "redis://cache.internal:notaport")))
        .isInstanceOf(SettingException.class)
        .hasMessage(
            "redis_url must have a port that is a whole number between 1 and 65535, but was "
                + "redis://cache.internal:notaport (from REDIS_URL)");
    assertThatThrownBy(
            () -> CacheSettings.fromEnv(Map.of("REDIS_URL", "redis://:pw@cache.internal:70000")))
        .hasMessage(
            "redis_url must have a port that is a whole number between 1 and 65535, but was "
                + "redis://****@cache.internal:70000 (from REDIS_URL)");
    assertThatThrownBy(() -> CacheSettings.fromEnv(Map.of("REDIS_URL", "redis://:pw@:6379")))
        .hasMessage(
            "redis_url must name a host (redis://[:password@]<host>:6379[/db]), but was redis://****@:6379 "
                + "(from REDIS_URL)");
    assertThatThrownBy(() -> CacheSettings.fromEnv(Map.of("REDIS_URL", "redis://h:6379/zero")))
        .hasMessage(
            "redis_url must have a database number after the host (redis://host:6379/<0-15>), but was "
                + "redis://h:6379/zero (from REDIS_URL)");
    assertThat(CacheSettings.fromEnv(Map.of("REDIS_URL", "redis://[::1]:6380/2")).maskedRedisUrl())
        .isEqualTo("redis://[::1]:6380/2");
  }

  /**
   * Every reserved character in the password and the user, raw or encoded: none of it in any
   * message.
   */
  @Test
  void reservedCharactersInRedisPassword_neverReachAMessage() {
    var reserved = ":/?#[]@!$&'()*+,;=% \"";
    for (int i = 0; i < reserved.length(); i++) {
      var c = reserved.charAt(i);
      var secret = "Zq7Head" + c + "Wv9Tail";
      var enc = java.net.URLEncoder.encode(secret, java.nio.charset.StandardCharsets.UTF_8);
      for (var url :
          java.util.List.of(
              "redis://:" + secret + "@h:6379",
              "redis://" + secret + ":x@h:6379/0",
              "redis://u:" + secret + "@h:notaport",
              "redis://u:" + enc + "@h:6379/x",
              "redis://u:" + secret + "@h",
              "http://u:" + secret + "@h",
              "rediss://:" + secret + "@")) {
        String text;
        try {
          var s = CacheSettings.fromEnv(Map.of("REDIS_URL", url));
          text = s.toString() + s.maskedRedisUrl();
        } catch (RuntimeException e) {
          text = String.valueOf(e) + e.getCause();
        }
        assertThat(text).as(url).doesNotContain("Zq7Head").doesNotContain("Wv9Tail");
      }
    }
  }

  @Test
  void wrongValues_failWithTheSettingTheValueAndWhatIsAllowed() {
    assertThatThrownBy(() -> CacheSettings.fromEnv(Map.of("REDIS_COMMAND_TIMEOUT_MS", "-5")))
        .hasMessage(
            "redis_command_timeout must be between 1ms and 1m, but was -5ms (from REDIS_COMMAND_TIMEOUT_MS)");
    assertThatThrownBy(() -> CacheSettings.fromEnv(Map.of("REDIS_CONNECTION_TIMEOUT_MS", "soon")))
        .hasMessage(
            "redis_connection_timeout must be a whole number of milliseconds, between 10ms and 1m, but was "
                + "soon (from REDIS_CONNECTION_TIMEOUT_MS)");
    assertThatThrownBy(() -> CacheSettings.fromEnv(Map.of("CACHE_TTL_SECONDS", "0")))
        .hasMessage("cache_ttl must be between 1ms and 30d, but was 0s (from CACHE_TTL_SECONDS)");
    assertThatThrownBy(() -> CacheSettings.fromEnv(Map.of("REDIS_ENABLED", "yes")))
        .hasMessage("redis_enabled must be true or false, but was yes (from REDIS_ENABLED)");
    assertThatThrownBy(() -> CacheSettings.fromEnv(Map.of("CACHE_NAMESPACE", "a b")))
        .hasMessage(
            "cache_namespace must be up to 64 of A-Z a-z 0-9 _ . : { } -, but was a b (from CACHE_NAMESPACE)");
    assertThatThrownBy(() -> CacheSettings.builder().defaultTtl(Duration.ofSeconds(-1)))
        .hasMessage("cache_ttl must be between 1ms and 30d, but was -1s (from builder)");
    assertThatThrownBy(
            () ->
                CacheSettings.builder()
                    .retryDelay(Duration.ofSeconds(2))
                    .reconnectDelayMax(Duration.ofSeconds(1))
                    .build())
        .hasMessage(
            "redis_reconnect_delay_max must be at least redis_retry_delay (2s, from builder), but was 1s"
                + " (from builder)");
  }

  /**
   * Regression: REDIS_RETRY_DELAY=15000 failed with "redis_reconnect_delay_max must be at least
   * redis_retry_delay (15s), but was 10s (from builder)", although no builder was used.
   */
  @Test
  void crossCheckFromTheEnvironment_namesTheVariableAndTheDefault() {
    assertThatThrownBy(() -> CacheSettings.fromEnv(Map.of("REDIS_RETRY_DELAY_MS", "15000")))
        .hasMessage(
            "redis_reconnect_delay_max must be at least redis_retry_delay (15s, from REDIS_RETRY_DELAY_MS),"
                + " but was 10s (from default)");
    assertThatThrownBy(() -> CacheSettings.fromEnv(Map.of("REDIS_RETRY_DELAY", "15000")))
        .as("the old name, read with a deprecation warning, is named as the source")
        .hasMessageContaining("(15s, from REDIS_RETRY_DELAY)");
  }

  @Test
  void oldVariableNames_stillWork_andToBuilderKeepsEveryValue() {
    var s =
        CacheSettings.fromEnv(
            Map.of("REDIS_COMMAND_TIMEOUT", "120", "REDIS_CONNECTION_TIMEOUT", "900"));
    assertThat(s.commandTimeout()).isEqualTo(Duration.ofMillis(120));
    assertThat(s.connectTimeout()).isEqualTo(Duration.ofMillis(900));
    var copy = CacheSettings.from(s).namespace("x:").build();
    assertThat(copy.commandTimeout()).isEqualTo(Duration.ofMillis(120));
    assertThat(copy.namespace()).isEqualTo("x:");
    assertThat(s.namespace()).isEqualTo("ballast:");
  }

  @Test
  void regionSettings_checkTheirValuesAndTheirCombination() {
    assertThatThrownBy(() -> RegionSettings.builder("users:v2", String.class))
        .hasMessage(
            "region name must be 1 to 63 of A-Z a-z 0-9 _ . - (no colon), starting with a letter or digit, "
                + "but was users:v2 (from builder)");
    assertThatThrownBy(() -> RegionSettings.builder("users", String.class).ttl(Duration.ZERO))
        .hasMessage("users.ttl must be between 1ms and 30d, but was 0s (from builder)");
    assertThatThrownBy(() -> RegionSettings.builder("users", String.class).l1MaxSize(-1))
        .hasMessage("users.l1_max_size must be between 0 and 100000000, but was -1 (from builder)");
    assertThatThrownBy(
            () ->
                RegionSettings.builder("users", String.class)
                    .shortTtl()
                    .l1Ttl(Duration.ofMinutes(2))
                    .build())
        .hasMessage(
            "users.l1_ttl must not be longer than the region's ttl (1m), but was 2m (from builder)");
    assertThatThrownBy(
            () ->
                RegionSettings.builder("users", String.class)
                    .ttl(Duration.ofSeconds(10))
                    .negativeTtl(Duration.ofSeconds(30))
                    .build())
        .hasMessage(
            "users.negative_ttl must not be longer than the region's ttl (10s), but was 30s (from builder)");
    var presets = RegionSettings.builder("users", String.class);
    assertThat(presets.shortTtl().build().ttl()).isEqualTo(Duration.ofMinutes(1));
    assertThat(presets.mediumTtl().build().ttl()).isEqualTo(Duration.ofMinutes(5));
    assertThat(presets.longTtl().build().ttl()).isEqualTo(Duration.ofHours(1));
  }
}
