package io.ballast.core.monitor;

import io.ballast.core.settings.AppEnv;
import io.ballast.core.settings.Setting;
import io.ballast.core.settings.SettingException;
import io.ballast.core.settings.SettingValues;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Settings of the query monitor and of query timeouts. Immutable; part of {@code CoreSettings}.
 *
 * <table>
 *   <caption>Environment</caption>
 *   <tr><th>variable</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code BALLAST_SLOW_QUERY_DEBUG_MS}</td><td>log at DEBUG over this; 0 = never</td>
 *       <td>100 in development, 0 elsewhere</td></tr>
 *   <tr><td>{@code BALLAST_SLOW_QUERY_WARN_MS}</td><td>log at WARN and count as slow over this</td><td>1000</td></tr>
 *   <tr><td>{@code BALLAST_LOG_BIND_VALUES}</td><td>add bind values to slow-query lines; development only</td>
 *       <td>false</td></tr>
 *   <tr><td>{@code BALLAST_N_PLUS_ONE_THRESHOLD}</td><td>report a fingerprint run more often than this in one
 *       transaction or unit of work</td><td>10</td></tr>
 *   <tr><td>{@code BALLAST_QUERY_STATS_WINDOW_MINUTES} (was {@code BALLAST_QUERY_STATS_WINDOW})</td><td>minutes
 *       of statistics kept</td><td>60</td></tr>
 *   <tr><td>{@code BALLAST_QUERY_TIMEOUT_SIMPLE_SECONDS}, {@code _STANDARD_SECONDS}, {@code _COMPLEX_SECONDS},
 *       {@code _REPORT_SECONDS} (were without {@code _SECONDS})</td><td>seconds per class</td><td>1, 5, 15, 30</td></tr>
 * </table>
 */
public final class MonitorSettings {
  /** The DEBUG threshold of the slow-query log; zero: never. */
  public static final Setting<Duration> SLOW_QUERY_DEBUG =
      Setting.millis("slow_query_debug", Duration.ZERO, Duration.ofHours(1))
          .variable("BALLAST_SLOW_QUERY_DEBUG_MS")
          .build();

  /** The WARN threshold of the slow-query log. */
  public static final Setting<Duration> SLOW_QUERY_WARN =
      Setting.millis("slow_query_warn", Duration.ofMillis(1), Duration.ofHours(1))
          .variable("BALLAST_SLOW_QUERY_WARN_MS")
          .defaultValue(Duration.ofSeconds(1))
          .build();

  /** Bind values in slow-query lines (development only). */
  public static final Setting<Boolean> LOG_BIND_VALUES =
      Setting.bool("log_bind_values")
          .variable("BALLAST_LOG_BIND_VALUES")
          .defaultValue(false)
          .build();

  /** How often a fingerprint may run in one unit of work before it is reported as N+1. */
  public static final Setting<Integer> N_PLUS_ONE_THRESHOLD =
      Setting.integer("n_plus_one_threshold", 2, 100_000)
          .variable("BALLAST_N_PLUS_ONE_THRESHOLD")
          .defaultValue(10)
          .build();

  /** How much statistics history is kept. */
  public static final Setting<Duration> QUERY_STATS_WINDOW =
      Setting.minutes("query_stats_window", Duration.ofMinutes(1), Duration.ofDays(1))
          .variable("BALLAST_QUERY_STATS_WINDOW_MINUTES")
          .deprecated("BALLAST_QUERY_STATS_WINDOW")
          .defaultValue(Duration.ofHours(1))
          .build();

  /** Fingerprints itemised per statistics interval (builder only). */
  public static final Setting<Integer> MAX_PATTERNS =
      Setting.integer("max_patterns", 1, 1000).defaultValue(50).build();

  private static final Map<QueryClass, Setting<Duration>> TIMEOUTS =
      new EnumMap<>(QueryClass.class);

  static {
    var defaults =
        Map.of(
            QueryClass.SIMPLE,
            1,
            QueryClass.STANDARD,
            5,
            QueryClass.COMPLEX,
            15,
            QueryClass.REPORT,
            30);
    for (var c : QueryClass.values()) {
      TIMEOUTS.put(
          c,
          Setting.seconds(
                  "query_timeout_" + c.name().toLowerCase(Locale.ROOT),
                  Duration.ofSeconds(1),
                  Duration.ofHours(1))
              .variable("BALLAST_QUERY_TIMEOUT_" + c.name() + "_SECONDS")
              .deprecated("BALLAST_QUERY_TIMEOUT_" + c.name())
              .defaultValue(Duration.ofSeconds(defaults.get(c)))
              .build());
    }
  }

  private final AppEnv appEnv;
  private final SettingValues values;

  private MonitorSettings(Builder b) {
    this.appEnv = b.appEnv;
    this.values = b.values.copy();
  }

  /** The environment whose defaults these settings started from. */
  public AppEnv appEnv() {
    return appEnv;
  }

  /** Every default for {@code env}. */
  public static MonitorSettings defaults(AppEnv env) {
    return builder(env).build();
  }

  /** A builder starting from the defaults for {@code env}. */
  public static Builder builder(AppEnv env) {
    return new Builder(Objects.requireNonNull(env, "env"));
  }

  /** A builder holding {@code base}'s values. */
  public static Builder from(MonitorSettings base) {
    return base.toBuilder();
  }

  /** A builder holding these values. */
  public Builder toBuilder() {
    var b = new Builder(appEnv);
    b.values = values.copy();
    return b;
  }

  /** From {@code env}; used by {@code CoreSettings.fromEnv}. */
  public static MonitorSettings fromEnv(AppEnv appEnv, Map<String, String> env) {
    return fromEnv(appEnv, env::get);
  }

  /** From {@code env}; used by {@code CoreSettings.fromEnv}. */
  public static MonitorSettings fromEnv(AppEnv appEnv, Function<String, String> env) {
    var b = builder(appEnv);
    b.values.read(
        env,
        SLOW_QUERY_DEBUG,
        SLOW_QUERY_WARN,
        LOG_BIND_VALUES,
        N_PLUS_ONE_THRESHOLD,
        QUERY_STATS_WINDOW);
    for (var c : QueryClass.values()) {
      b.values.read(env, TIMEOUTS.get(c));
    }
    return b.build();
  }

  /** The setting of a class's timeout. */
  public static Setting<Duration> timeoutSetting(QueryClass queryClass) {
    return TIMEOUTS.get(queryClass);
  }

  /** DEBUG threshold of the slow-query log; zero: never. */
  public Duration slowDebug() {
    return values.get(SLOW_QUERY_DEBUG);
  }

  /** WARN threshold of the slow-query log; also what counts as slow in the statistics. */
  public Duration slowWarn() {
    return values.get(SLOW_QUERY_WARN);
  }

  /** Whether slow-query lines carry bind values (development only). */
  public boolean logBindValues() {
    return values.get(LOG_BIND_VALUES);
  }

  /** Repetitions of one statement in a transaction or unit of work that are reported as N+1. */
  public int nPlusOneThreshold() {
    return values.get(N_PLUS_ONE_THRESHOLD);
  }

  /** The sliding window of the latency statistics. */
  public Duration window() {
    return values.get(QUERY_STATS_WINDOW);
  }

  /** Fingerprints itemised per statistics interval. */
  public int maxPatterns() {
    return values.get(MAX_PATTERNS);
  }

  /** The statement time limit of {@code queryClass}. */
  public Duration timeout(QueryClass queryClass) {
    return values.get(TIMEOUTS.get(queryClass));
  }

  @Override
  public String toString() {
    var timeouts = new EnumMap<QueryClass, Duration>(QueryClass.class);
    for (var c : QueryClass.values()) {
      timeouts.put(c, timeout(c));
    }
    return "MonitorSettings{slowDebug="
        + SLOW_QUERY_DEBUG.show(slowDebug())
        + ", slowWarn="
        + SLOW_QUERY_WARN.show(slowWarn())
        + ", logBindValues="
        + logBindValues()
        + ", nPlusOneThreshold="
        + nPlusOneThreshold()
        + ", window="
        + QUERY_STATS_WINDOW.show(window())
        + ", timeouts="
        + timeouts
        + "}";
  }

  /** Builder of {@link MonitorSettings}. */
  public static final class Builder {
    private final AppEnv appEnv;
    private SettingValues values = new SettingValues();

    private Builder(AppEnv appEnv) {
      this.appEnv = appEnv;
      values.setDefault(
          SLOW_QUERY_DEBUG,
          appEnv == AppEnv.DEVELOPMENT ? Duration.ofMillis(100) : Duration.ZERO,
          "default for " + appEnv.id());
    }

    /**
     * DEBUG threshold of the slow-query log: 0 (never) to 1 h; 100 ms in development, 0 elsewhere.
     */
    public Builder slowDebug(Duration threshold) {
      values.set(SLOW_QUERY_DEBUG, threshold);
      return this;
    }

    /** WARN threshold of the slow-query log: 1 ms to 1 h, default 1 s. */
    public Builder slowWarn(Duration threshold) {
      values.set(SLOW_QUERY_WARN, threshold);
      return this;
    }

    /**
     * Bind values in slow-query lines: personal data in logs, so development only. Default false.
     */
    public Builder logBindValues(boolean log) {
      values.set(LOG_BIND_VALUES, log);
      return this;
    }

    /** Runs of one fingerprint in a unit of work that count as N+1: 2 to 100 000, default 10. */
    public Builder nPlusOneThreshold(int threshold) {
      values.set(N_PLUS_ONE_THRESHOLD, threshold);
      return this;
    }

    /** Statistics history: 1 min to 1 day, default 1 h. */
    public Builder window(Duration window) {
      values.set(QUERY_STATS_WINDOW, window);
      return this;
    }

    /** Fingerprints itemised per statistics interval: 1 to 1 000, default 50. */
    public Builder maxPatterns(int max) {
      values.set(MAX_PATTERNS, max);
      return this;
    }

    /** The timeout of a class, in whole seconds: 1 s to 1 h (defaults 1, 5, 15, 30 s). */
    public Builder timeout(QueryClass queryClass, Duration timeout) {
      values.set(TIMEOUTS.get(queryClass), timeout);
      return this;
    }

    /**
     * Builds the settings.
     *
     * @throws SettingException when bind values would be logged outside development
     */
    public MonitorSettings build() {
      if (values.get(LOG_BIND_VALUES) && appEnv != AppEnv.DEVELOPMENT) {
        throw new SettingException(
            LOG_BIND_VALUES.name(),
            "be false outside development (bind values are " + "personal data)",
            true,
            values.source(LOG_BIND_VALUES));
      }
      return new MonitorSettings(this);
    }
  }
}
