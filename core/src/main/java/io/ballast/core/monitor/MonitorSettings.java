package io.ballast.core.monitor;

import io.ballast.core.AppEnv;
import io.ballast.core.SettingException;
import io.ballast.core.internal.Settings;
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
 *   <tr><td>{@code BALLAST_QUERY_STATS_WINDOW}</td><td>minutes of statistics kept</td><td>60</td></tr>
 *   <tr><td>{@code BALLAST_QUERY_TIMEOUT_SIMPLE}, {@code _STANDARD}, {@code _COMPLEX}, {@code _REPORT}</td>
 *       <td>seconds per class</td><td>1, 5, 15, 30</td></tr>
 * </table>
 */
public final class MonitorSettings {
  public static final String SLOW_DEBUG_VARIABLE = "BALLAST_SLOW_QUERY_DEBUG_MS";
  public static final String SLOW_WARN_VARIABLE = "BALLAST_SLOW_QUERY_WARN_MS";
  public static final String LOG_BIND_VALUES_VARIABLE = "BALLAST_LOG_BIND_VALUES";
  public static final String N_PLUS_ONE_VARIABLE = "BALLAST_N_PLUS_ONE_THRESHOLD";
  public static final String WINDOW_VARIABLE = "BALLAST_QUERY_STATS_WINDOW";
  public static final String TIMEOUT_VARIABLE_PREFIX = "BALLAST_QUERY_TIMEOUT_";

  private final AppEnv appEnv;
  private final Duration slowDebug;
  private final Duration slowWarn;
  private final boolean logBindValues;
  private final int nPlusOneThreshold;
  private final Duration window;
  private final int maxPatterns;
  private final Map<QueryClass, Duration> timeouts;

  private MonitorSettings(Builder b) {
    this.appEnv = b.appEnv;
    this.slowDebug = b.slowDebug;
    this.slowWarn = b.slowWarn;
    this.logBindValues = b.logBindValues;
    this.nPlusOneThreshold = b.nPlusOneThreshold;
    this.window = b.window;
    this.maxPatterns = b.maxPatterns;
    this.timeouts = Map.copyOf(b.timeouts);
  }

  /** The environment whose defaults these settings started from. */
  public AppEnv appEnv() {
    return appEnv;
  }

  public static MonitorSettings defaults(AppEnv env) {
    return builder(env).build();
  }

  public static Builder builder(AppEnv env) {
    return new Builder(Objects.requireNonNull(env, "env"));
  }

  /** From {@code env}; used by {@code CoreSettings.fromEnv}. */
  public static MonitorSettings fromEnv(AppEnv appEnv, Function<String, String> env) {
    var b = builder(appEnv);
    var debug = Settings.get(env, SLOW_DEBUG_VARIABLE);
    if (debug != null) {
      b.slowDebug = Duration.ofMillis(Settings.parseInt("slow_query_debug_ms", debug, 0, 3_600_000, SLOW_DEBUG_VARIABLE));
    }
    var warn = Settings.get(env, SLOW_WARN_VARIABLE);
    if (warn != null) {
      b.slowWarn = Duration.ofMillis(Settings.parseInt("slow_query_warn_ms", warn, 1, 3_600_000, SLOW_WARN_VARIABLE));
    }
    var binds = Settings.get(env, LOG_BIND_VALUES_VARIABLE);
    if (binds != null) {
      b.logBindValues = Settings.parseBoolean("log_bind_values", binds, LOG_BIND_VALUES_VARIABLE);
      b.bindSource = LOG_BIND_VALUES_VARIABLE;
    }
    var nPlusOne = Settings.get(env, N_PLUS_ONE_VARIABLE);
    if (nPlusOne != null) {
      b.nPlusOneThreshold = Settings.parseInt("n_plus_one_threshold", nPlusOne, 2, 100_000, N_PLUS_ONE_VARIABLE);
    }
    var window = Settings.get(env, WINDOW_VARIABLE);
    if (window != null) {
      b.window = Duration.ofMinutes(Settings.parseInt("query_stats_window", window, 1, 1440, WINDOW_VARIABLE));
    }
    for (var c : QueryClass.values()) {
      var variable = TIMEOUT_VARIABLE_PREFIX + c.name();
      var raw = Settings.get(env, variable);
      if (raw != null) {
        b.timeouts.put(c, Settings.parseSeconds("query_timeout_" + c.name().toLowerCase(Locale.ROOT), raw, 1, 3600, variable));
      }
    }
    return b.build();
  }

  /** DEBUG threshold of the slow-query log; zero: never. */
  public Duration slowDebug() {
    return slowDebug;
  }

  /** WARN threshold of the slow-query log; also what counts as slow in the statistics. */
  public Duration slowWarn() {
    return slowWarn;
  }

  /** Whether slow-query lines carry bind values (development only). */
  public boolean logBindValues() {
    return logBindValues;
  }

  public int nPlusOneThreshold() {
    return nPlusOneThreshold;
  }

  public Duration window() {
    return window;
  }

  /** Fingerprints itemised per statistics interval. */
  public int maxPatterns() {
    return maxPatterns;
  }

  public Duration timeout(QueryClass queryClass) {
    return timeouts.get(queryClass);
  }

  @Override
  public String toString() {
    return "MonitorSettings{slowDebug=" + Settings.human(slowDebug) + ", slowWarn=" + Settings.human(slowWarn)
        + ", logBindValues=" + logBindValues + ", nPlusOneThreshold=" + nPlusOneThreshold + ", window="
        + Settings.human(window) + ", timeouts=" + new EnumMap<>(timeouts) + "}";
  }

  /** Builder of {@link MonitorSettings}. */
  public static final class Builder {
    private final AppEnv appEnv;
    private Duration slowDebug;
    private Duration slowWarn = Duration.ofSeconds(1);
    private boolean logBindValues;
    private String bindSource = Settings.BUILDER;
    private int nPlusOneThreshold = 10;
    private Duration window = Duration.ofHours(1);
    private int maxPatterns = 50;
    private final Map<QueryClass, Duration> timeouts = new EnumMap<>(QueryClass.class);

    private Builder(AppEnv appEnv) {
      this.appEnv = appEnv;
      this.slowDebug = appEnv == AppEnv.DEVELOPMENT ? Duration.ofMillis(100) : Duration.ZERO;
      timeouts.put(QueryClass.SIMPLE, Duration.ofSeconds(1));
      timeouts.put(QueryClass.STANDARD, Duration.ofSeconds(5));
      timeouts.put(QueryClass.COMPLEX, Duration.ofSeconds(15));
      timeouts.put(QueryClass.REPORT, Duration.ofSeconds(30));
    }

    public Builder slowDebug(Duration threshold) {
      this.slowDebug = Settings.requireBetween("slow_query_debug", threshold, Duration.ZERO, Duration.ofHours(1),
          Settings.BUILDER);
      return this;
    }

    public Builder slowWarn(Duration threshold) {
      this.slowWarn = Settings.requireBetween("slow_query_warn", threshold, Duration.ofMillis(1), Duration.ofHours(1),
          Settings.BUILDER);
      return this;
    }

    /** Bind values in slow-query lines: personal data in logs, so development only. */
    public Builder logBindValues(boolean log) {
      this.logBindValues = log;
      this.bindSource = Settings.BUILDER;
      return this;
    }

    public Builder nPlusOneThreshold(int threshold) {
      this.nPlusOneThreshold = Settings.requireBetween("n_plus_one_threshold", threshold, 2, 100_000, Settings.BUILDER);
      return this;
    }

    public Builder window(Duration window) {
      this.window = Settings.requireBetween("query_stats_window", window, Duration.ofMinutes(1), Duration.ofDays(1),
          Settings.BUILDER);
      return this;
    }

    public Builder maxPatterns(int max) {
      this.maxPatterns = Settings.requireBetween("max_patterns", max, 1, 1000, Settings.BUILDER);
      return this;
    }

    /** The timeout of a class, in whole seconds (1 s to 1 h). */
    public Builder timeout(QueryClass queryClass, Duration timeout) {
      Settings.requireBetween("query_timeout_" + queryClass.name().toLowerCase(Locale.ROOT), timeout,
          Duration.ofSeconds(1), Duration.ofHours(1), Settings.BUILDER);
      timeouts.put(queryClass, timeout);
      return this;
    }

    public MonitorSettings build() {
      if (logBindValues && appEnv != AppEnv.DEVELOPMENT) {
        throw new SettingException("log_bind_values", "be false outside development (bind values are personal data)",
            true, bindSource);
      }
      return new MonitorSettings(this);
    }
  }
}
