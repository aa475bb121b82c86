package io.ballast.resilience;

import io.ballast.core.SettingException;
import io.ballast.core.internal.Settings;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;

/**
 * Settings of the database breaker, transaction retry, the bulkhead and the Redis breaker. Immutable; build with
 * {@link #fromEnv()} or {@link #builder()}.
 *
 * <table>
 *   <caption>Environment</caption>
 *   <tr><th>variable</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code BALLAST_DB_BREAKER_FAILURES}</td><td>failures in a row (of the kinds that count) that open
 *       the database breaker</td><td>5</td></tr>
 *   <tr><td>{@code BALLAST_DB_BREAKER_OPEN_SECONDS}</td><td>how long it stays open before trial calls</td><td>30</td></tr>
 *   <tr><td>{@code BALLAST_DB_BREAKER_TRIAL_CALLS}</td><td>successful trial calls that close it again</td><td>2</td></tr>
 *   <tr><td>{@code BALLAST_TX_RETRY_MAX_ATTEMPTS}</td><td>attempts of a retried transaction, the first
 *       included</td><td>5</td></tr>
 *   <tr><td>{@code BALLAST_TX_RETRY_INITIAL_DELAY_MS}, {@code BALLAST_TX_RETRY_MAX_DELAY_MS}</td><td>backoff
 *       before the second attempt, doubling with jitter up to the maximum</td><td>20, 1000</td></tr>
 *   <tr><td>{@code BALLAST_BULKHEAD_ENABLED}</td><td>bound concurrent database work</td><td>false</td></tr>
 *   <tr><td>{@code BALLAST_BULKHEAD_MAX_CONCURRENT}</td><td>the bound; 0 means the pool's size</td><td>0</td></tr>
 *   <tr><td>{@code BALLAST_BULKHEAD_MAX_WAIT_MS}</td><td>how long work waits for a place before it is
 *       refused</td><td>100</td></tr>
 *   <tr><td>{@code BALLAST_REDIS_BREAKER_FAILURES}, {@code BALLAST_REDIS_BREAKER_OPEN_SECONDS}</td><td>the same
 *       for the Redis breaker the cache uses</td><td>5, 5</td></tr>
 * </table>
 */
public final class ResilienceSettings {
  public static final String DB_FAILURES_VARIABLE = "BALLAST_DB_BREAKER_FAILURES";
  public static final String DB_OPEN_VARIABLE = "BALLAST_DB_BREAKER_OPEN_SECONDS";
  public static final String DB_TRIALS_VARIABLE = "BALLAST_DB_BREAKER_TRIAL_CALLS";
  public static final String RETRY_ATTEMPTS_VARIABLE = "BALLAST_TX_RETRY_MAX_ATTEMPTS";
  public static final String RETRY_INITIAL_VARIABLE = "BALLAST_TX_RETRY_INITIAL_DELAY_MS";
  public static final String RETRY_MAX_VARIABLE = "BALLAST_TX_RETRY_MAX_DELAY_MS";
  public static final String BULKHEAD_ENABLED_VARIABLE = "BALLAST_BULKHEAD_ENABLED";
  public static final String BULKHEAD_MAX_VARIABLE = "BALLAST_BULKHEAD_MAX_CONCURRENT";
  public static final String BULKHEAD_WAIT_VARIABLE = "BALLAST_BULKHEAD_MAX_WAIT_MS";
  public static final String REDIS_FAILURES_VARIABLE = "BALLAST_REDIS_BREAKER_FAILURES";
  public static final String REDIS_OPEN_VARIABLE = "BALLAST_REDIS_BREAKER_OPEN_SECONDS";

  private final int dbFailureThreshold;
  private final Duration dbOpenDuration;
  private final int dbTrialCalls;
  private final int retryMaxAttempts;
  private final Duration retryInitialDelay;
  private final Duration retryMaxDelay;
  private final boolean bulkheadEnabled;
  private final int bulkheadMaxConcurrent;
  private final Duration bulkheadMaxWait;
  private final int redisFailureThreshold;
  private final Duration redisOpenDuration;

  private ResilienceSettings(Builder b) {
    this.dbFailureThreshold = b.dbFailureThreshold;
    this.dbOpenDuration = b.dbOpenDuration;
    this.dbTrialCalls = b.dbTrialCalls;
    this.retryMaxAttempts = b.retryMaxAttempts;
    this.retryInitialDelay = b.retryInitialDelay;
    this.retryMaxDelay = b.retryMaxDelay;
    this.bulkheadEnabled = b.bulkheadEnabled;
    this.bulkheadMaxConcurrent = b.bulkheadMaxConcurrent;
    this.bulkheadMaxWait = b.bulkheadMaxWait;
    this.redisFailureThreshold = b.redisFailureThreshold;
    this.redisOpenDuration = b.redisOpenDuration;
  }

  public static ResilienceSettings defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public static ResilienceSettings fromEnv() {
    return fromEnv(System::getenv);
  }

  public static ResilienceSettings fromEnv(Map<String, String> env) {
    return fromEnv(env::get);
  }

  static ResilienceSettings fromEnv(Function<String, String> env) {
    var b = builder();
    var v = Settings.get(env, DB_FAILURES_VARIABLE);
    if (v != null) {
      b.dbFailureThreshold = Settings.parseInt("db_breaker_failures", v, 1, 1000, DB_FAILURES_VARIABLE);
    }
    v = Settings.get(env, DB_OPEN_VARIABLE);
    if (v != null) {
      b.dbOpenDuration = Settings.parseSeconds("db_breaker_open", v, 1, 3600, DB_OPEN_VARIABLE);
    }
    v = Settings.get(env, DB_TRIALS_VARIABLE);
    if (v != null) {
      b.dbTrialCalls = Settings.parseInt("db_breaker_trial_calls", v, 1, 100, DB_TRIALS_VARIABLE);
    }
    v = Settings.get(env, RETRY_ATTEMPTS_VARIABLE);
    if (v != null) {
      b.retryMaxAttempts = Settings.parseInt("tx_retry_max_attempts", v, 1, 50, RETRY_ATTEMPTS_VARIABLE);
    }
    v = Settings.get(env, RETRY_INITIAL_VARIABLE);
    if (v != null) {
      b.retryInitialDelay = Duration.ofMillis(Settings.parseInt("tx_retry_initial_delay", v, 1, 60_000,
          RETRY_INITIAL_VARIABLE));
    }
    v = Settings.get(env, RETRY_MAX_VARIABLE);
    if (v != null) {
      b.retryMaxDelay = Duration.ofMillis(Settings.parseInt("tx_retry_max_delay", v, 1, 600_000, RETRY_MAX_VARIABLE));
    }
    v = Settings.get(env, BULKHEAD_ENABLED_VARIABLE);
    if (v != null) {
      b.bulkheadEnabled = Settings.parseBoolean("bulkhead_enabled", v, BULKHEAD_ENABLED_VARIABLE);
    }
    v = Settings.get(env, BULKHEAD_MAX_VARIABLE);
    if (v != null) {
      b.bulkheadMaxConcurrent = Settings.parseInt("bulkhead_max_concurrent", v, 0, 10_000, BULKHEAD_MAX_VARIABLE);
    }
    v = Settings.get(env, BULKHEAD_WAIT_VARIABLE);
    if (v != null) {
      b.bulkheadMaxWait = Duration.ofMillis(Settings.parseInt("bulkhead_max_wait", v, 0, 60_000,
          BULKHEAD_WAIT_VARIABLE));
    }
    v = Settings.get(env, REDIS_FAILURES_VARIABLE);
    if (v != null) {
      b.redisFailureThreshold = Settings.parseInt("redis_breaker_failures", v, 1, 1000, REDIS_FAILURES_VARIABLE);
    }
    v = Settings.get(env, REDIS_OPEN_VARIABLE);
    if (v != null) {
      b.redisOpenDuration = Settings.parseSeconds("redis_breaker_open", v, 1, 3600, REDIS_OPEN_VARIABLE);
    }
    return b.build();
  }

  public int dbFailureThreshold() {
    return dbFailureThreshold;
  }

  public Duration dbOpenDuration() {
    return dbOpenDuration;
  }

  public int dbTrialCalls() {
    return dbTrialCalls;
  }

  public int retryMaxAttempts() {
    return retryMaxAttempts;
  }

  public Duration retryInitialDelay() {
    return retryInitialDelay;
  }

  public Duration retryMaxDelay() {
    return retryMaxDelay;
  }

  public boolean bulkheadEnabled() {
    return bulkheadEnabled;
  }

  /** The bulkhead's bound; 0 means the pool's size. */
  public int bulkheadMaxConcurrent() {
    return bulkheadMaxConcurrent;
  }

  public Duration bulkheadMaxWait() {
    return bulkheadMaxWait;
  }

  public int redisFailureThreshold() {
    return redisFailureThreshold;
  }

  public Duration redisOpenDuration() {
    return redisOpenDuration;
  }

  @Override
  public String toString() {
    return "ResilienceSettings[db breaker " + dbFailureThreshold + " failures / open " + Settings.human(dbOpenDuration)
        + " / " + dbTrialCalls + " trials, retry " + retryMaxAttempts + " attempts "
        + Settings.human(retryInitialDelay) + ".." + Settings.human(retryMaxDelay) + ", bulkhead "
        + (bulkheadEnabled ? (bulkheadMaxConcurrent == 0 ? "pool size" : bulkheadMaxConcurrent) + " / wait "
        + Settings.human(bulkheadMaxWait) : "off") + ", redis breaker " + redisFailureThreshold + " failures / open "
        + Settings.human(redisOpenDuration) + "]";
  }

  /** Builds {@link ResilienceSettings}; each setter checks its value. */
  public static final class Builder {
    private int dbFailureThreshold = 5;
    private Duration dbOpenDuration = Duration.ofSeconds(30);
    private int dbTrialCalls = 2;
    private int retryMaxAttempts = 5;
    private Duration retryInitialDelay = Duration.ofMillis(20);
    private Duration retryMaxDelay = Duration.ofSeconds(1);
    private boolean bulkheadEnabled;
    private int bulkheadMaxConcurrent;
    private Duration bulkheadMaxWait = Duration.ofMillis(100);
    private int redisFailureThreshold = 5;
    private Duration redisOpenDuration = Duration.ofSeconds(5);

    private Builder() {}

    public Builder dbFailureThreshold(int failures) {
      this.dbFailureThreshold = Settings.requireBetween("db_breaker_failures", failures, 1, 1000, Settings.BUILDER);
      return this;
    }

    public Builder dbOpenDuration(Duration duration) {
      this.dbOpenDuration = Settings.requireBetween("db_breaker_open", duration, Duration.ofMillis(1),
          Duration.ofHours(1), Settings.BUILDER);
      return this;
    }

    public Builder dbTrialCalls(int calls) {
      this.dbTrialCalls = Settings.requireBetween("db_breaker_trial_calls", calls, 1, 100, Settings.BUILDER);
      return this;
    }

    public Builder retryMaxAttempts(int attempts) {
      this.retryMaxAttempts = Settings.requireBetween("tx_retry_max_attempts", attempts, 1, 50, Settings.BUILDER);
      return this;
    }

    public Builder retryDelays(Duration initial, Duration max) {
      this.retryInitialDelay = Settings.requireBetween("tx_retry_initial_delay", initial, Duration.ofMillis(1),
          Duration.ofMinutes(1), Settings.BUILDER);
      this.retryMaxDelay = Settings.requireBetween("tx_retry_max_delay", max, Duration.ofMillis(1),
          Duration.ofMinutes(10), Settings.BUILDER);
      return this;
    }

    public Builder bulkhead(boolean enabled) {
      this.bulkheadEnabled = enabled;
      return this;
    }

    /** The bulkhead's bound; 0 for the pool's size. */
    public Builder bulkheadMaxConcurrent(int max) {
      this.bulkheadMaxConcurrent = Settings.requireBetween("bulkhead_max_concurrent", max, 0, 10_000,
          Settings.BUILDER);
      return this;
    }

    public Builder bulkheadMaxWait(Duration wait) {
      this.bulkheadMaxWait = Settings.requireBetween("bulkhead_max_wait", wait, Duration.ZERO, Duration.ofMinutes(1),
          Settings.BUILDER);
      return this;
    }

    public Builder redisFailureThreshold(int failures) {
      this.redisFailureThreshold = Settings.requireBetween("redis_breaker_failures", failures, 1, 1000,
          Settings.BUILDER);
      return this;
    }

    public Builder redisOpenDuration(Duration duration) {
      this.redisOpenDuration = Settings.requireBetween("redis_breaker_open", duration, Duration.ofMillis(1),
          Duration.ofHours(1), Settings.BUILDER);
      return this;
    }

    public ResilienceSettings build() {
      if (retryMaxDelay.compareTo(retryInitialDelay) < 0) {
        throw new SettingException("tx_retry_max_delay", "be at least tx_retry_initial_delay ("
            + Settings.human(retryInitialDelay) + ")", Settings.human(retryMaxDelay), Settings.BUILDER);
      }
      return new ResilienceSettings(this);
    }
  }
}
