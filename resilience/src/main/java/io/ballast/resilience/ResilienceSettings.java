package io.ballast.resilience;

import io.ballast.core.settings.Checks;
import io.ballast.core.settings.Setting;
import io.ballast.core.settings.SettingValues;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;

/**
 * Settings of the database breaker, transaction retry, the bulkhead and the Redis breaker.
 * Immutable; build with {@link #defaults()}, {@link #builder()}, {@link #fromEnv()}, {@link
 * #fromEnv(Map)}, or {@link #toBuilder()} / {@link #from(ResilienceSettings)}.
 *
 * <table>
 *   <caption>Environment</caption>
 *   <tr><th>variable</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code BALLAST_DB_BREAKER_FAILURES}</td><td>failures in a row (of the kinds that count) that open
 *       the database breaker, 1–1000</td><td>5</td></tr>
 *   <tr><td>{@code BALLAST_DB_BREAKER_OPEN_SECONDS}</td><td>how long it stays open at most before trial calls
 *       (earlier once the database accepts connections again)</td><td>30</td></tr>
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
  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#dbFailureThreshold}, which gives its
   * unit, range and default.
   */
  public static final Setting<Integer> DB_BREAKER_FAILURES =
      Setting.integer("db_breaker_failures", 1, 1000)
          .variable("BALLAST_DB_BREAKER_FAILURES")
          .defaultValue(5)
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#dbOpenDuration}, which gives its
   * unit, range and default.
   */
  public static final Setting<Duration> DB_BREAKER_OPEN =
      Setting.seconds("db_breaker_open", Duration.ofMillis(1), Duration.ofHours(1))
          .variable("BALLAST_DB_BREAKER_OPEN_SECONDS")
          .defaultValue(Duration.ofSeconds(30))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#dbTrialCalls}, which gives its unit,
   * range and default.
   */
  public static final Setting<Integer> DB_BREAKER_TRIAL_CALLS =
      Setting.integer("db_breaker_trial_calls", 1, 100)
          .variable("BALLAST_DB_BREAKER_TRIAL_CALLS")
          .defaultValue(2)
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#retryMaxAttempts}, which gives its
   * unit, range and default.
   */
  public static final Setting<Integer> TX_RETRY_MAX_ATTEMPTS =
      Setting.integer("tx_retry_max_attempts", 1, 50)
          .variable("BALLAST_TX_RETRY_MAX_ATTEMPTS")
          .defaultValue(5)
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#retryDelays}, which gives its unit,
   * range and default.
   */
  public static final Setting<Duration> TX_RETRY_INITIAL_DELAY =
      Setting.millis("tx_retry_initial_delay", Duration.ofMillis(1), Duration.ofMinutes(1))
          .variable("BALLAST_TX_RETRY_INITIAL_DELAY_MS")
          .defaultValue(Duration.ofMillis(20))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#retryDelays}, which gives its unit,
   * range and default.
   */
  public static final Setting<Duration> TX_RETRY_MAX_DELAY =
      Setting.millis("tx_retry_max_delay", Duration.ofMillis(1), Duration.ofMinutes(10))
          .variable("BALLAST_TX_RETRY_MAX_DELAY_MS")
          .defaultValue(Duration.ofSeconds(1))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#bulkhead}, which gives its unit,
   * range and default.
   */
  public static final Setting<Boolean> BULKHEAD_ENABLED =
      Setting.bool("bulkhead_enabled")
          .variable("BALLAST_BULKHEAD_ENABLED")
          .defaultValue(false)
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#bulkheadMaxConcurrent}, which gives
   * its unit, range and default.
   */
  public static final Setting<Integer> BULKHEAD_MAX_CONCURRENT =
      Setting.integer("bulkhead_max_concurrent", 0, 10_000)
          .variable("BALLAST_BULKHEAD_MAX_CONCURRENT")
          .defaultValue(0)
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#bulkheadMaxWait}, which gives its
   * unit, range and default.
   */
  public static final Setting<Duration> BULKHEAD_MAX_WAIT =
      Setting.millis("bulkhead_max_wait", Duration.ZERO, Duration.ofMinutes(1))
          .variable("BALLAST_BULKHEAD_MAX_WAIT_MS")
          .defaultValue(Duration.ofMillis(100))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#redisFailureThreshold}, which gives
   * its unit, range and default.
   */
  public static final Setting<Integer> REDIS_BREAKER_FAILURES =
      Setting.integer("redis_breaker_failures", 1, 1000)
          .variable("BALLAST_REDIS_BREAKER_FAILURES")
          .defaultValue(5)
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#redisOpenDuration}, which gives its
   * unit, range and default.
   */
  public static final Setting<Duration> REDIS_BREAKER_OPEN =
      Setting.seconds("redis_breaker_open", Duration.ofMillis(1), Duration.ofHours(1))
          .variable("BALLAST_REDIS_BREAKER_OPEN_SECONDS")
          .defaultValue(Duration.ofSeconds(5))
          .build();

  private final SettingValues values;

  private ResilienceSettings(Builder b) {
    this.values = b.values.copy();
  }

  /** Every default. */
  public static ResilienceSettings defaults() {
    return builder().build();
  }

  /** A builder starting from every default. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding {@code base}'s values. */
  public static Builder from(ResilienceSettings base) {
    return base.toBuilder();
  }

  /** A builder holding these values. */
  public Builder toBuilder() {
    var b = new Builder();
    b.values = values.copy();
    return b;
  }

  /** Settings from the process environment (the variables of the class comment). */
  public static ResilienceSettings fromEnv() {
    return fromEnv(System::getenv);
  }

  /**
   * Settings from {@code env} (the variables of the class comment); a wrong value fails naming the
   * variable, the value and what is allowed.
   */
  public static ResilienceSettings fromEnv(Map<String, String> env) {
    return fromEnv(env::get);
  }

  static ResilienceSettings fromEnv(Function<String, String> env) {
    var b = builder();
    b.values.read(
        env,
        DB_BREAKER_FAILURES,
        DB_BREAKER_OPEN,
        DB_BREAKER_TRIAL_CALLS,
        TX_RETRY_MAX_ATTEMPTS,
        TX_RETRY_INITIAL_DELAY,
        TX_RETRY_MAX_DELAY,
        BULKHEAD_ENABLED,
        BULKHEAD_MAX_CONCURRENT,
        BULKHEAD_MAX_WAIT,
        REDIS_BREAKER_FAILURES,
        REDIS_BREAKER_OPEN);
    return b.build();
  }

  /** As set by {@link Builder#dbFailureThreshold}. */
  public int dbFailureThreshold() {
    return values.get(DB_BREAKER_FAILURES);
  }

  /** As set by {@link Builder#dbOpenDuration}. */
  public Duration dbOpenDuration() {
    return values.get(DB_BREAKER_OPEN);
  }

  /** As set by {@link Builder#dbTrialCalls}. */
  public int dbTrialCalls() {
    return values.get(DB_BREAKER_TRIAL_CALLS);
  }

  /** As set by {@link Builder#retryMaxAttempts}. */
  public int retryMaxAttempts() {
    return values.get(TX_RETRY_MAX_ATTEMPTS);
  }

  /** The first retry delay, as set by {@link Builder#retryDelays}. */
  public Duration retryInitialDelay() {
    return values.get(TX_RETRY_INITIAL_DELAY);
  }

  /** The longest retry delay, as set by {@link Builder#retryDelays}. */
  public Duration retryMaxDelay() {
    return values.get(TX_RETRY_MAX_DELAY);
  }

  /** Whether the bulkhead limits concurrent database calls, as set by {@link Builder#bulkhead}. */
  public boolean bulkheadEnabled() {
    return values.get(BULKHEAD_ENABLED);
  }

  /** The bulkhead's bound; 0 means the pool's size. */
  public int bulkheadMaxConcurrent() {
    return values.get(BULKHEAD_MAX_CONCURRENT);
  }

  /** As set by {@link Builder#bulkheadMaxWait}. */
  public Duration bulkheadMaxWait() {
    return values.get(BULKHEAD_MAX_WAIT);
  }

  /** As set by {@link Builder#redisFailureThreshold}. */
  public int redisFailureThreshold() {
    return values.get(REDIS_BREAKER_FAILURES);
  }

  /** As set by {@link Builder#redisOpenDuration}. */
  public Duration redisOpenDuration() {
    return values.get(REDIS_BREAKER_OPEN);
  }

  @Override
  public String toString() {
    return "ResilienceSettings[db breaker "
        + dbFailureThreshold()
        + " failures / open "
        + Checks.human(dbOpenDuration())
        + " / "
        + dbTrialCalls()
        + " trials, retry "
        + retryMaxAttempts()
        + " attempts "
        + Checks.human(retryInitialDelay())
        + ".."
        + Checks.human(retryMaxDelay())
        + ", bulkhead "
        + (bulkheadEnabled()
            ? (bulkheadMaxConcurrent() == 0 ? "pool size" : bulkheadMaxConcurrent())
                + " / wait "
                + Checks.human(bulkheadMaxWait())
            : "off")
        + ", redis breaker "
        + redisFailureThreshold()
        + " failures / open "
        + Checks.human(redisOpenDuration())
        + "]";
  }

  /** Builds {@link ResilienceSettings}; each setter checks its value. */
  public static final class Builder {
    private SettingValues values = new SettingValues();

    private Builder() {}

    /** Failures in a row that open the database breaker: 1 to 1 000, default 5. */
    public Builder dbFailureThreshold(int failures) {
      values.set(DB_BREAKER_FAILURES, failures);
      return this;
    }

    /**
     * The longest the database breaker stays open before trial calls: 1 ms to 1 h, default 30 s.
     */
    public Builder dbOpenDuration(Duration duration) {
      values.set(DB_BREAKER_OPEN, duration);
      return this;
    }

    /** Successful trial calls that close the database breaker: 1 to 100, default 2. */
    public Builder dbTrialCalls(int calls) {
      values.set(DB_BREAKER_TRIAL_CALLS, calls);
      return this;
    }

    /** Attempts of a retried transaction, the first included: 1 to 50, default 5. */
    public Builder retryMaxAttempts(int attempts) {
      values.set(TX_RETRY_MAX_ATTEMPTS, attempts);
      return this;
    }

    /**
     * Backoff before the second attempt (1 ms to 1 min, default 20 ms) and its cap (1 ms to 10 min,
     * 1 s).
     */
    public Builder retryDelays(Duration initial, Duration max) {
      values.set(TX_RETRY_INITIAL_DELAY, initial);
      values.set(TX_RETRY_MAX_DELAY, max);
      return this;
    }

    /** Whether concurrent database work is bounded; default false. */
    public Builder bulkhead(boolean enabled) {
      values.set(BULKHEAD_ENABLED, enabled);
      return this;
    }

    /** The bulkhead's bound: 0 (the pool's size) to 10 000, default 0. */
    public Builder bulkheadMaxConcurrent(int max) {
      values.set(BULKHEAD_MAX_CONCURRENT, max);
      return this;
    }

    /** How long work waits for a place in the bulkhead: 0 to 1 min, default 100 ms. */
    public Builder bulkheadMaxWait(Duration wait) {
      values.set(BULKHEAD_MAX_WAIT, wait);
      return this;
    }

    /** Failures in a row that open the Redis breaker: 1 to 1 000, default 5. */
    public Builder redisFailureThreshold(int failures) {
      values.set(REDIS_BREAKER_FAILURES, failures);
      return this;
    }

    /** How long the Redis breaker stays open: 1 ms to 1 h, default 5 s. */
    public Builder redisOpenDuration(Duration duration) {
      values.set(REDIS_BREAKER_OPEN, duration);
      return this;
    }

    /**
     * Builds the settings.
     *
     * @throws io.ballast.core.settings.SettingException when the retry's cap is below its first
     *     delay, naming where each came from
     */
    public ResilienceSettings build() {
      values.requireAtLeast(TX_RETRY_MAX_DELAY, TX_RETRY_INITIAL_DELAY);
      return new ResilienceSettings(this);
    }
  }
}
