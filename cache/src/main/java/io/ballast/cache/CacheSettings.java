package io.ballast.cache;

import com.github.benmanes.caffeine.cache.Ticker;
import io.ballast.core.settings.Checks;
import io.ballast.core.settings.Setting;
import io.ballast.core.settings.SettingException;
import io.ballast.core.settings.SettingValues;
import io.ballast.core.settings.Urls;
import io.lettuce.core.RedisURI;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Settings of the cache: how to reach Redis, how long to wait for it, and the defaults of every
 * region. Immutable; build with {@link #defaults()}, {@link #builder()}, {@link #fromEnv()}, {@link
 * #fromEnv(Map)}, or {@link #toBuilder()} / {@link #from(CacheSettings)}.
 *
 * <table>
 *   <caption>Environment</caption>
 *   <tr><th>variable</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code REDIS_URL}</td><td>{@code redis://[:password@]host:port[/db]} or {@code rediss://…}; the
 *       user and password are never shown</td><td>{@code redis://127.0.0.1:6379}</td></tr>
 *   <tr><td>{@code REDIS_ENABLED}</td><td>{@code false} runs {@code RedisCacheModule} on L1 only</td><td>true</td></tr>
 *   <tr><td>{@code REDIS_CONNECTION_TIMEOUT_MS} (was {@code REDIS_CONNECTION_TIMEOUT})</td><td>connect and
 *       handshake timeout</td><td>2000</td></tr>
 *   <tr><td>{@code REDIS_COMMAND_TIMEOUT_MS} (was {@code REDIS_COMMAND_TIMEOUT})</td><td>time a Redis command may
 *       take before the cache falls back</td><td>500</td></tr>
 *   <tr><td>{@code REDIS_MAX_RETRIES}</td><td>attempts to replay an invalidation that could not reach Redis,
 *       once it is back</td><td>3</td></tr>
 *   <tr><td>{@code REDIS_RETRY_DELAY_MS} (was {@code REDIS_RETRY_DELAY})</td><td>first reconnect delay; doubles up
 *       to {@link Builder#reconnectDelayMax}</td><td>100</td></tr>
 *   <tr><td>{@code CACHE_TTL_SECONDS}</td><td>default TTL of a region</td><td>300</td></tr>
 *   <tr><td>{@code CACHE_DEGRADED_TTL_SECONDS}</td><td>how old an L1 entry may be and still be served while
 *       invalidations from other instances cannot arrive</td><td>10</td></tr>
 *   <tr><td>{@code CACHE_NAMESPACE}</td><td>prefix of every Redis key and channel</td><td>{@code ballast:}</td></tr>
 *   <tr><td>{@code CACHE_DISTRIBUTED_SINGLE_FLIGHT}</td><td>one load per key across instances, through a short
 *       Redis lock</td><td>false</td></tr>
 * </table>
 */
public final class CacheSettings {
  static final Duration MAX_TTL = Duration.ofDays(30);

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#redisUrl}, which gives its unit,
   * range and default.
   */
  public static final Setting<String> REDIS_URL_SETTING =
      Setting.<String>of(
              "redis_url", String::trim, "a Redis URL (redis://[:password@]host:port[/db])")
          .check(CacheSettings::urlProblem)
          .show(CacheSettings::mask)
          .variable("REDIS_URL")
          .defaultValue("redis://127.0.0.1:6379")
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#redisEnabled}, which gives its unit,
   * range and default.
   */
  public static final Setting<Boolean> REDIS_ENABLED =
      Setting.bool("redis_enabled").variable("REDIS_ENABLED").defaultValue(true).build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#connectTimeout}, which gives its
   * unit, range and default.
   */
  public static final Setting<Duration> CONNECT_TIMEOUT =
      Setting.millis("redis_connection_timeout", Duration.ofMillis(10), Duration.ofMinutes(1))
          .variable("REDIS_CONNECTION_TIMEOUT_MS")
          .deprecated("REDIS_CONNECTION_TIMEOUT")
          .defaultValue(Duration.ofSeconds(2))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#commandTimeout}, which gives its
   * unit, range and default.
   */
  public static final Setting<Duration> COMMAND_TIMEOUT =
      Setting.millis("redis_command_timeout", Duration.ofMillis(1), Duration.ofMinutes(1))
          .variable("REDIS_COMMAND_TIMEOUT_MS")
          .deprecated("REDIS_COMMAND_TIMEOUT")
          .defaultValue(Duration.ofMillis(500))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#maxRetries}, which gives its unit,
   * range and default.
   */
  public static final Setting<Integer> MAX_RETRIES =
      Setting.integer("redis_max_retries", 0, 100)
          .variable("REDIS_MAX_RETRIES")
          .defaultValue(3)
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#retryDelay}, which gives its unit,
   * range and default.
   */
  public static final Setting<Duration> RETRY_DELAY =
      Setting.millis("redis_retry_delay", Duration.ofMillis(1), Duration.ofMinutes(1))
          .variable("REDIS_RETRY_DELAY_MS")
          .deprecated("REDIS_RETRY_DELAY")
          .defaultValue(Duration.ofMillis(100))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#reconnectDelayMax}, which gives its
   * unit, range and default.
   */
  public static final Setting<Duration> RECONNECT_DELAY_MAX =
      Setting.millis("redis_reconnect_delay_max", Duration.ofMillis(1), Duration.ofMinutes(5))
          .defaultValue(Duration.ofSeconds(10))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#defaultTtl}, which gives its unit,
   * range and default.
   */
  public static final Setting<Duration> TTL =
      Setting.seconds("cache_ttl", Duration.ofMillis(1), MAX_TTL)
          .variable("CACHE_TTL_SECONDS")
          .defaultValue(Duration.ofMinutes(5))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#degradedTtl}, which gives its unit,
   * range and default.
   */
  public static final Setting<Duration> DEGRADED_TTL =
      Setting.seconds("cache_degraded_ttl", Duration.ZERO, Duration.ofHours(1))
          .variable("CACHE_DEGRADED_TTL_SECONDS")
          .defaultValue(Duration.ofSeconds(10))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#namespace}, which gives its unit,
   * range and default.
   */
  public static final Setting<String> NAMESPACE =
      Setting.text(
              "cache_namespace",
              Pattern.compile("[A-Za-z0-9_.:{}-]{0,64}"),
              "up to 64 of A-Z a-z 0-9 _ . : { } -")
          .variable("CACHE_NAMESPACE")
          .defaultValue("ballast:")
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#distributedSingleFlight}, which
   * gives its unit, range and default.
   */
  public static final Setting<Boolean> DISTRIBUTED_SINGLE_FLIGHT =
      Setting.bool("cache_distributed_single_flight")
          .variable("CACHE_DISTRIBUTED_SINGLE_FLIGHT")
          .defaultValue(false)
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#heartbeat}, which gives its unit,
   * range and default.
   */
  public static final Setting<Duration> HEARTBEAT =
      Setting.millis("cache_heartbeat", Duration.ofMillis(10), Duration.ofMinutes(1))
          .defaultValue(Duration.ofSeconds(1))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#requestQueueSize}, which gives its
   * unit, range and default.
   */
  public static final Setting<Integer> REQUEST_QUEUE_SIZE =
      Setting.integer("redis_request_queue_size", 1, 1_000_000).defaultValue(10_000).build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#guardFailureThreshold}, which gives
   * its unit, range and default.
   */
  public static final Setting<Integer> GUARD_FAILURE_THRESHOLD =
      Setting.integer("redis_guard_failure_threshold", 1, 1000).defaultValue(5).build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#guardOpenDuration}, which gives its
   * unit, range and default.
   */
  public static final Setting<Duration> GUARD_OPEN_DURATION =
      Setting.millis("redis_guard_open_duration", Duration.ofMillis(1), Duration.ofMinutes(10))
          .defaultValue(Duration.ofSeconds(5))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#lockTtl}, which gives its unit,
   * range and default.
   */
  public static final Setting<Duration> LOCK_TTL =
      Setting.millis("cache_lock_ttl", Duration.ofMillis(10), Duration.ofMinutes(5))
          .defaultValue(Duration.ofSeconds(5))
          .build();

  /** The variable of {@link #REDIS_URL_SETTING}. */
  public static final String REDIS_URL = "REDIS_URL";

  private final SettingValues values;
  private final Ticker ticker;

  private CacheSettings(Builder b) {
    this.values = b.values.copy();
    this.ticker = b.ticker;
  }

  /** Every default; Redis on {@code redis://127.0.0.1:6379}. */
  public static CacheSettings defaults() {
    return builder().build();
  }

  /** A builder starting from every default. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding {@code base}'s values. */
  public static Builder from(CacheSettings base) {
    return base.toBuilder();
  }

  /** A builder holding these values. */
  public Builder toBuilder() {
    var b = new Builder();
    b.values = values.copy();
    b.ticker = ticker;
    return b;
  }

  /** From the process environment. */
  public static CacheSettings fromEnv() {
    return fromEnv(System::getenv);
  }

  /**
   * Settings from {@code env} (the variables of the class comment); a wrong value fails naming the
   * variable, the value and what is allowed.
   */
  public static CacheSettings fromEnv(Map<String, String> env) {
    return fromEnv(env::get);
  }

  static CacheSettings fromEnv(Function<String, String> env) {
    var b = builder();
    b.values.read(
        env,
        REDIS_URL_SETTING,
        REDIS_ENABLED,
        CONNECT_TIMEOUT,
        COMMAND_TIMEOUT,
        MAX_RETRIES,
        RETRY_DELAY,
        TTL,
        DEGRADED_TTL,
        NAMESPACE,
        DISTRIBUTED_SINGLE_FLIGHT);
    return b.build();
  }

  /**
   * The Redis URL with its password, for the client only; never log it (use {@link
   * #maskedRedisUrl()}).
   */
  public String redisUrl() {
    return values.get(REDIS_URL_SETTING);
  }

  /** The Redis URL without its user information. */
  public String maskedRedisUrl() {
    return mask(redisUrl());
  }

  /** Whether Redis is used at all, as set by {@link Builder#redisEnabled}. */
  public boolean redisEnabled() {
    return values.get(REDIS_ENABLED);
  }

  /** As set by {@link Builder#connectTimeout}. */
  public Duration connectTimeout() {
    return values.get(CONNECT_TIMEOUT);
  }

  /** As set by {@link Builder#commandTimeout}. */
  public Duration commandTimeout() {
    return values.get(COMMAND_TIMEOUT);
  }

  /** As set by {@link Builder#maxRetries}. */
  public int maxRetries() {
    return values.get(MAX_RETRIES);
  }

  /** As set by {@link Builder#retryDelay}. */
  public Duration retryDelay() {
    return values.get(RETRY_DELAY);
  }

  /** As set by {@link Builder#reconnectDelayMax}. */
  public Duration reconnectDelayMax() {
    return values.get(RECONNECT_DELAY_MAX);
  }

  /** The TTL of a region that does not set its own. */
  public Duration defaultTtl() {
    return values.get(TTL);
  }

  /**
   * The oldest an L1 entry may be and still be served while invalidation messages cannot arrive.
   */
  public Duration degradedTtl() {
    return values.get(DEGRADED_TTL);
  }

  /** Prefix of every Redis key and channel the cache uses. */
  public String namespace() {
    return values.get(NAMESPACE);
  }

  /** How often the subscription is checked with a PING. */
  public Duration heartbeat() {
    return values.get(HEARTBEAT);
  }

  /** Bound of Lettuce's request queue: commands beyond it fail at once instead of piling up. */
  public int requestQueueSize() {
    return values.get(REQUEST_QUEUE_SIZE);
  }

  /** Consecutive Redis failures after which the default guard stops calling Redis. */
  public int guardFailureThreshold() {
    return values.get(GUARD_FAILURE_THRESHOLD);
  }

  /** How long the default guard stops calling Redis before it lets one probe call through. */
  public Duration guardOpenDuration() {
    return values.get(GUARD_OPEN_DURATION);
  }

  /** As set by {@link Builder#distributedSingleFlight}. */
  public boolean distributedSingleFlight() {
    return values.get(DISTRIBUTED_SINGLE_FLIGHT);
  }

  /** How long a cross-instance load lock lives at most. */
  public Duration lockTtl() {
    return values.get(LOCK_TTL);
  }

  /**
   * The clock of L1 expiry and of the degraded TTL: a millisecond-resolution clock read with one
   * volatile load, unless a test gave its own through {@link Builder#ticker}.
   */
  public Ticker ticker() {
    return ticker != null ? ticker : CoarseTicker.INSTANCE;
  }

  @Override
  public String toString() {
    return "CacheSettings[redis="
        + (redisEnabled() ? maskedRedisUrl() : "disabled")
        + ", connectTimeout="
        + Checks.human(connectTimeout())
        + ", commandTimeout="
        + Checks.human(commandTimeout())
        + ", ttl="
        + Checks.human(defaultTtl())
        + ", degradedTtl="
        + Checks.human(degradedTtl())
        + ", namespace="
        + namespace()
        + "]";
  }

  /**
   * The URL without its user information: no character of the user name or password, whatever the
   * URL holds.
   */
  static String mask(String url) {
    return Urls.redact(url);
  }

  private static final Pattern HOST =
      Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._-]{0,252})?|\\[[0-9A-Fa-f:.]+]");

  /**
   * Checks the form Ballast supports, {@code redis[s]://[[user]:password@]host[:port][/db]}, itself
   * (Lettuce accepts {@code redis://host:notaport} and fails only when connecting), then lets
   * Lettuce parse it. Messages show the URL without its user information.
   */
  static String urlProblem(String url) {
    if (!url.startsWith("redis://") && !url.startsWith("rediss://")) {
      return "start with redis:// or rediss://";
    }
    var rest = url.substring(url.indexOf("://") + 3);
    var at = rest.lastIndexOf('@');
    var hostPart = at >= 0 ? rest.substring(at + 1) : rest;
    var q = hostPart.indexOf('?');
    if (q >= 0) {
      hostPart = hostPart.substring(0, q);
    }
    String db = null;
    var slash = hostPart.indexOf('/');
    if (slash >= 0) {
      db = hostPart.substring(slash + 1);
      hostPart = hostPart.substring(0, slash);
    }
    String host = hostPart;
    String port = null;
    var colon = hostPart.lastIndexOf(':');
    if (colon >= 0 && !hostPart.endsWith("]")) {
      host = hostPart.substring(0, colon);
      port = hostPart.substring(colon + 1);
    }
    if (!HOST.matcher(host).matches()) {
      return "name a host (redis://[:password@]<host>:6379[/db])";
    }
    if (port != null
        && (!port.matches("[0-9]{1,5}")
            || Integer.parseInt(port) < 1
            || Integer.parseInt(port) > 65535)) {
      return "have a port that is a whole number between 1 and 65535";
    }
    if (db != null && !db.isEmpty() && !db.matches("[0-9]{1,5}")) {
      return "have a database number after the host (redis://host:6379/<0-15>)";
    }
    try {
      RedisURI.create(url);
    } catch (RuntimeException e) {
      return "be a valid Redis URL (redis://[:password@]host:port[/db]), with reserved characters in the password "
          + "percent-encoded";
    }
    return null;
  }

  /** Builds {@link CacheSettings}; each setter checks its value, naming it in the error. */
  public static final class Builder {
    private SettingValues values = new SettingValues();
    private Ticker ticker;

    private Builder() {}

    /**
     * {@code redis://[:password@]host:port[/db]} or {@code rediss://…}, reserved characters
     * percent-encoded.
     */
    public Builder redisUrl(String url) {
      values.set(REDIS_URL_SETTING, Objects.requireNonNull(url, "url").trim());
      return this;
    }

    /**
     * {@code false}: {@code RedisCacheModule} never connects and every region works from L1 only.
     */
    public Builder redisEnabled(boolean enabled) {
      values.set(REDIS_ENABLED, enabled);
      return this;
    }

    /** Connect and handshake timeout: 10 ms to 1 min, default 2 s. */
    public Builder connectTimeout(Duration timeout) {
      values.set(CONNECT_TIMEOUT, timeout);
      return this;
    }

    /** Time a command may take before the cache falls back: 1 ms to 1 min, default 500 ms. */
    public Builder commandTimeout(Duration timeout) {
      values.set(COMMAND_TIMEOUT, timeout);
      return this;
    }

    /** Attempts to replay an invalidation Redis missed: 0 to 100, default 3. */
    public Builder maxRetries(int retries) {
      values.set(MAX_RETRIES, retries);
      return this;
    }

    /** First reconnect delay: 1 ms to 1 min, default 100 ms. */
    public Builder retryDelay(Duration delay) {
      values.set(RETRY_DELAY, delay);
      return this;
    }

    /** The longest reconnect delay the exponential backoff reaches: 1 ms to 5 min, default 10 s. */
    public Builder reconnectDelayMax(Duration delay) {
      values.set(RECONNECT_DELAY_MAX, delay);
      return this;
    }

    /** The TTL of a region that sets none: 1 ms to 30 days, default 5 min. */
    public Builder defaultTtl(Duration ttl) {
      values.set(TTL, ttl);
      return this;
    }

    /** The oldest L1 entry served while invalidations may be missed: 0 to 1 h, default 10 s. */
    public Builder degradedTtl(Duration ttl) {
      values.set(DEGRADED_TTL, ttl);
      return this;
    }

    /**
     * Prefix of every Redis key and channel: up to 64 of A-Z a-z 0-9 _ . : { } -, default {@code
     * ballast:}.
     */
    public Builder namespace(String namespace) {
      values.set(NAMESPACE, namespace);
      return this;
    }

    /** How often the subscription and the guard are checked: 10 ms to 1 min, default 1 s. */
    public Builder heartbeat(Duration interval) {
      values.set(HEARTBEAT, interval);
      return this;
    }

    /** Bound of Lettuce's request queue: 1 to 1 000 000, default 10 000. */
    public Builder requestQueueSize(int size) {
      values.set(REQUEST_QUEUE_SIZE, size);
      return this;
    }

    /**
     * Failures in a row after which the default guard stops calling Redis: 1 to 1 000, default 5.
     */
    public Builder guardFailureThreshold(int failures) {
      values.set(GUARD_FAILURE_THRESHOLD, failures);
      return this;
    }

    /** How long the default guard stops calling Redis: 1 ms to 10 min, default 5 s. */
    public Builder guardOpenDuration(Duration duration) {
      values.set(GUARD_OPEN_DURATION, duration);
      return this;
    }

    /** One load per key across instances, through a short Redis lock; default false. */
    public Builder distributedSingleFlight(boolean enabled) {
      values.set(DISTRIBUTED_SINGLE_FLIGHT, enabled);
      return this;
    }

    /**
     * The clock L1 expiry and the degraded TTL read, in nanoseconds ({@code Ticker.read()}), as
     * Caffeine's own {@code Caffeine.ticker(…)}: for tests, which advance a fake one instead of
     * sleeping. Entries in Redis expire on Redis's own clock whatever this says.
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /** How long a cross-instance load lock lives at most: 10 ms to 5 min, default 5 s. */
    public Builder lockTtl(Duration ttl) {
      values.set(LOCK_TTL, ttl);
      return this;
    }

    /**
     * Builds the settings.
     *
     * @throws SettingException when the reconnect delay's cap is below its first step, naming where
     *     each came from
     */
    public CacheSettings build() {
      values.requireAtLeast(RECONNECT_DELAY_MAX, RETRY_DELAY);
      return new CacheSettings(this);
    }
  }
}
