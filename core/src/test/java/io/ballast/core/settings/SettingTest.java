package io.ballast.core.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The one way settings are declared: parsing, checks, sources, old names, cross-checks, typos. */
class SettingTest {
  static final Setting<Duration> RETRY =
      Setting.millis("retry_delay", Duration.ofMillis(1), Duration.ofMinutes(1))
          .variable("TEST_RETRY_DELAY_MS")
          .deprecated("TEST_RETRY_DELAY")
          .defaultValue(Duration.ofMillis(100))
          .build();
  static final Setting<Duration> RECONNECT_MAX =
      Setting.millis("reconnect_delay_max", Duration.ofMillis(1), Duration.ofMinutes(5))
          .variable("TEST_RECONNECT_DELAY_MAX_MS")
          .defaultValue(Duration.ofSeconds(10))
          .build();

  @Test
  void aValue_remembersWhereItCameFrom() {
    var values = new SettingValues();
    assertThat(values.get(RETRY)).isEqualTo(Duration.ofMillis(100));
    assertThat(values.source(RETRY)).isEqualTo("default");
    values.read(Map.of("TEST_RETRY_DELAY_MS", "250")::get, RETRY);
    assertThat(values.get(RETRY)).isEqualTo(Duration.ofMillis(250));
    assertThat(values.source(RETRY)).isEqualTo("TEST_RETRY_DELAY_MS");
    values.set(RETRY, Duration.ofMillis(5));
    assertThat(values.source(RETRY)).isEqualTo("builder");
  }

  /**
   * Regression: REDIS_RETRY_DELAY=15000 failed with "… must be at least redis_retry_delay (15s),
   * but was 10s (from builder)", naming a builder nobody used. A cross-check names each value's own
   * source.
   */
  @Test
  void crossCheck_namesBothValuesWithTheirOwnSources() {
    var values =
        new SettingValues().read(Map.of("TEST_RETRY_DELAY_MS", "15000")::get, RETRY, RECONNECT_MAX);
    assertThatThrownBy(() -> values.requireAtLeast(RECONNECT_MAX, RETRY))
        .isInstanceOf(SettingException.class)
        .hasMessage(
            "reconnect_delay_max must be at least retry_delay (15s, from TEST_RETRY_DELAY_MS), but was 10s"
                + " (from default)");
    values.set(RECONNECT_MAX, Duration.ofSeconds(12));
    assertThatThrownBy(() -> values.requireAtLeast(RECONNECT_MAX, RETRY))
        .hasMessageEndingWith("but was 12s (from builder)");
  }

  @Test
  void anOldVariableName_isReadWithAWarningNamingTheNewOne() {
    var logs = new ListAppender<ILoggingEvent>();
    logs.start();
    var logger = (Logger) LoggerFactory.getLogger(SettingValues.class);
    logger.addAppender(logs);
    try {
      var values = new SettingValues().read(Map.of("TEST_RETRY_DELAY", "40")::get, RETRY);
      assertThat(values.get(RETRY)).isEqualTo(Duration.ofMillis(40));
      assertThat(values.source(RETRY)).isEqualTo("TEST_RETRY_DELAY");
    } finally {
      logger.detachAppender(logs);
    }
    assertThat(logs.list)
        .extracting(ILoggingEvent::getFormattedMessage)
        .containsExactly(
            "TEST_RETRY_DELAY is deprecated: use TEST_RETRY_DELAY_MS (same meaning, unit now in its "
                + "name: ms)");
  }

  @Test
  void blankVariables_areUnset() {
    var values = new SettingValues().read(Map.of("TEST_RETRY_DELAY_MS", "  ")::get, RETRY);
    assertThat(values.isSet(RETRY)).isFalse();
  }

  @Test
  void eachKind_parsesAndChecksWithOneMessageShape() {
    var count = Setting.integer("workers", 1, 8).build();
    assertThatThrownBy(() -> count.parse("9", "ENV"))
        .hasMessage("workers must be between 1 and 8, but was 9 (from ENV)");
    assertThatThrownBy(() -> count.parse("x", "ENV"))
        .hasMessage("workers must be a whole number between 1 and 8, but was x (from ENV)");
    var flag = Setting.bool("flag").build();
    assertThat(flag.parse(" TRUE ", "ENV")).isTrue();
    assertThatThrownBy(() -> flag.parse("1", "ENV"))
        .hasMessage("flag must be true or false, but was 1 (from ENV)");
    var seconds = Setting.seconds("grace", Duration.ZERO, Duration.ofMinutes(1)).build();
    assertThat(seconds.parse("30", "ENV")).isEqualTo(Duration.ofSeconds(30));
    assertThatThrownBy(() -> seconds.parse("1.5", "ENV"))
        .hasMessage(
            "grace must be a whole number of seconds, between 0s and 1m, but was 1.5 (from ENV)");
    var mode = Setting.oneOf("mode", java.util.concurrent.TimeUnit.class).build();
    assertThat(mode.parse("Seconds", "ENV")).isEqualTo(java.util.concurrent.TimeUnit.SECONDS);
    assertThatThrownBy(() -> mode.parse("weeks", "ENV"))
        .hasMessageStartingWith("mode must be one of nanoseconds, ")
        .hasMessageEndingWith(", days, but was weeks (from ENV)");
    var secret =
        Setting.text("key", java.util.regex.Pattern.compile(".{8,}"), "at least 8 characters long")
            .secret()
            .build();
    assertThatThrownBy(() -> secret.check("abc", "builder"))
        .hasMessage(
            "key must be at least 8 characters long, but was a value of 3 characters (from builder)");
    assertThat(secret.show("abcdefghij")).isEqualTo("****");
  }

  @Test
  void mistypedVariables_getTheClosestKnownName_andOthersAreLeftAlone() {
    var known =
        Set.of("DB_CONNECTION_LIMIT", "BALLAST_SHUTDOWN_GRACE_SECONDS", "REDIS_COMMAND_TIMEOUT_MS");
    var env =
        Map.of(
            "DB_CONECTION_LIMIT",
            "5",
            "BALLAST_SHUTDOWN_GRACE_SECOND",
            "3",
            "REDIS_COMMAND_TIMEOUT_MS",
            "5",
            "DB_SOMETHING_ELSE_ENTIRELY",
            "x",
            "PATH",
            "/bin",
            "REDIS_URL",
            "redis://h");
    assertThat(EnvironmentCheck.mistyped(env, known))
        .containsExactly(
            "BALLAST_SHUTDOWN_GRACE_SECOND is not a Ballast setting; did you mean BALLAST_SHUTDOWN_GRACE_SECONDS?",
            "DB_CONECTION_LIMIT is not a Ballast setting; did you mean DB_CONNECTION_LIMIT?");
  }

  @Test
  void everyDeclaredVariable_isKnown() {
    assertThat(Setting.knownVariables()).contains("TEST_RETRY_DELAY_MS", "TEST_RETRY_DELAY");
  }
}
