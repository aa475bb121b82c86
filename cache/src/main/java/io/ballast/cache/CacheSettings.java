package io.ballast.cache;

import io.ballast.core.SettingException;
import io.ballast.core.internal.Settings;
import io.ballast.core.internal.Urls;
import io.lettuce.core.RedisURI;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Settings of the cache: how to reach Redis, how long to wait for it, and the defaults of every region.
 * Immutable; build with {@link #fromEnv()} or {@link #builder()}.
 *
 * <table>
 *   <caption>Environment</caption>
 *   <tr><th>variable</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code REDIS_URL}</td><td>{@code redis://[:password@]host:port[/db]} or {@code rediss://…}; the
 *       password is never logged</td><td>{@code redis://127.0.0.1:6379}</td></tr>
 *   <tr><td>{@code REDIS_ENABLED}</td><td>{@code false} runs {@code RedisCacheModule} on L1 only</td><td>true</td></tr>
 *   <tr><td>{@code REDIS_CONNECTION_TIMEOUT}</td><td>connect timeout, ms</td><td>2000</td></tr>
 *   <tr><td>{@code REDIS_COMMAND_TIMEOUT}</td><td>time a Redis command may take before the cache falls back,
 *       ms</td><td>500</td></tr>
 *   <tr><td>{@code REDIS_MAX_RETRIES}</td><td>attempts to replay an invalidation that could not reach Redis,
 *       once it is back</td><td>3</td></tr>
 *   <tr><td>{@code REDIS_RETRY_DELAY}</td><td>first reconnect delay, ms; doubles up to
 *       {@link Builder#reconnectDelayMax}</td><td>100</td></tr>
 *   <tr><td>{@code CACHE_TTL_SECONDS}</td><td>default TTL of a region</td><td>300</td></tr>
 *   <tr><td>{@code CACHE_DEGRADED_TTL_SECONDS}</td><td>how old an L1 entry may be and still be served while
 *       invalidations from other instances cannot arrive</td><td>10</td></tr>
 *   <tr><td>{@code CACHE_NAMESPACE}</td><td>prefix of every Redis key and channel</td><td>{@code ballast:}</td></tr>
 *   <tr><td>{@code CACHE_DISTRIBUTED_SINGLE_FLIGHT}</td><td>one load per key across instances, through a short
 *       Redis lock</td><td>false</td></tr>
 * </table>
 */
public final class CacheSettings {
  public static final String REDIS_URL = "REDIS_URL";
  public static final String ENABLED_VARIABLE = "REDIS_ENABLED";
  public static final String CONNECTION_TIMEOUT_VARIABLE = "REDIS_CONNECTION_TIMEOUT";
  public static final String COMMAND_TIMEOUT_VARIABLE = "REDIS_COMMAND_TIMEOUT";
  public static final String MAX_RETRIES_VARIABLE = "REDIS_MAX_RETRIES";
  public static final String RETRY_DELAY_VARIABLE = "REDIS_RETRY_DELAY";
  public static final String TTL_VARIABLE = "CACHE_TTL_SECONDS";
  public static final String DEGRADED_TTL_VARIABLE = "CACHE_DEGRADED_TTL_SECONDS";
  public static final String NAMESPACE_VARIABLE = "CACHE_NAMESPACE";
  public static final String SINGLE_FLIGHT_VARIABLE = "CACHE_DISTRIBUTED_SINGLE_FLIGHT";

  static final Duration MAX_TTL = Duration.ofDays(30);
  private static final Pattern NAMESPACE = Pattern.compile("[A-Za-z0-9_.:{}-]{0,64}");

  private final String redisUrl;
  private final boolean redisEnabled;
  private final Duration connectTimeout;
  private final Duration commandTimeout;
  private final int maxRetries;
  private final Duration retryDelay;
  private final Duration reconnectDelayMax;
  private final Duration defaultTtl;
  private final Duration degradedTtl;
  private final String namespace;
  private final Duration heartbeat;
  private final int requestQueueSize;
  private final int guardFailureThreshold;
  private final Duration guardOpenDuration;
  private final boolean distributedSingleFlight;
  private final Duration lockTtl;
  private final com.github.benmanes.caffeine.cache.Ticker ticker;

  private CacheSettings(Builder b) {
    this.redisUrl = b.redisUrl;
    this.redisEnabled = b.redisEnabled;
    this.connectTimeout = b.connectTimeout;
    this.commandTimeout = b.commandTimeout;
    this.maxRetries = b.maxRetries;
    this.retryDelay = b.retryDelay;
    this.reconnectDelayMax = b.reconnectDelayMax;
    this.defaultTtl = b.defaultTtl;
    this.degradedTtl = b.degradedTtl;
    this.namespace = b.namespace;
    this.heartbeat = b.heartbeat;
    this.requestQueueSize = b.requestQueueSize;
    this.guardFailureThreshold = b.guardFailureThreshold;
    this.guardOpenDuration = b.guardOpenDuration;
    this.distributedSingleFlight = b.distributedSingleFlight;
    this.lockTtl = b.lockTtl;
    this.ticker = b.ticker;
  }

  /** Every default; Redis on {@code redis://127.0.0.1:6379}. */
  public static CacheSettings defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** From the process environment. */
  public static CacheSettings fromEnv() {
    return fromEnv(System::getenv);
  }

  public static CacheSettings fromEnv(Map<String, String> env) {
    return fromEnv(env::get);
  }

  static CacheSettings fromEnv(Function<String, String> env) {
    var b = builder();
    var url = Settings.get(env, REDIS_URL);
    if (url != null) {
      b.applyUrl(url, REDIS_URL);
    }
    var enabled = Settings.get(env, ENABLED_VARIABLE);
    if (enabled != null) {
      b.redisEnabled = Settings.parseBoolean("redis_enabled", enabled, ENABLED_VARIABLE);
    }
    var connect = Settings.get(env, CONNECTION_TIMEOUT_VARIABLE);
    if (connect != null) {
      b.connectTimeout = millis("redis_connection_timeout", connect, 10, 60_000, CONNECTION_TIMEOUT_VARIABLE);
    }
    var command = Settings.get(env, COMMAND_TIMEOUT_VARIABLE);
    if (command != null) {
      b.commandTimeout = millis("redis_command_timeout", command, 1, 60_000, COMMAND_TIMEOUT_VARIABLE);
    }
    var retries = Settings.get(env, MAX_RETRIES_VARIABLE);
    if (retries != null) {
      b.maxRetries = Settings.parseInt("redis_max_retries", retries, 0, 100, MAX_RETRIES_VARIABLE);
    }
    var delay = Settings.get(env, RETRY_DELAY_VARIABLE);
    if (delay != null) {
      b.retryDelay = millis("redis_retry_delay", delay, 1, 60_000, RETRY_DELAY_VARIABLE);
    }
    var ttl = Settings.get(env, TTL_VARIABLE);
    if (ttl != null) {
      b.defaultTtl = Settings.parseSeconds("cache_ttl", ttl, 1, (int) MAX_TTL.toSeconds(), TTL_VARIABLE);
    }
    var degraded = Settings.get(env, DEGRADED_TTL_VARIABLE);
    if (degraded != null) {
      b.degradedTtl = Settings.parseSeconds("cache_degraded_ttl", degraded, 0, 3600, DEGRADED_TTL_VARIABLE);
    }
    var namespace = Settings.get(env, NAMESPACE_VARIABLE);
    if (namespace != null) {
      b.applyNamespace(namespace, NAMESPACE_VARIABLE);
    }
    var singleFlight = Settings.get(env, SINGLE_FLIGHT_VARIABLE);
    if (singleFlight != null) {
      b.distributedSingleFlight = Settings.parseBoolean("cache_distributed_single_flight", singleFlight,
          SINGLE_FLIGHT_VARIABLE);
    }
    return b.build();
  }

  private static Duration millis(String setting, String raw, int min, int max, String source) {
    return Duration.ofMillis(Settings.parseInt(setting, raw, min, max, source));
  }

  /** The Redis URL with its password, for the client only; never log it (use {@link #maskedRedisUrl()}). */
  public String redisUrl() {
    return redisUrl;
  }

  /** The Redis URL with any password replaced by {@code ****}. */
  public String maskedRedisUrl() {
    return mask(redisUrl);
  }

  public boolean redisEnabled() {
    return redisEnabled;
  }

  public Duration connectTimeout() {
    return connectTimeout;
  }

  public Duration commandTimeout() {
    return commandTimeout;
  }

  public int maxRetries() {
    return maxRetries;
  }

  public Duration retryDelay() {
    return retryDelay;
  }

  public Duration reconnectDelayMax() {
    return reconnectDelayMax;
  }

  /** The TTL of a region that does not set its own. */
  public Duration defaultTtl() {
    return defaultTtl;
  }

  /** The oldest an L1 entry may be and still be served while invalidation messages cannot arrive. */
  public Duration degradedTtl() {
    return degradedTtl;
  }

  /** Prefix of every Redis key and channel the cache uses. */
  public String namespace() {
    return namespace;
  }

  /** How often the subscription is checked with a PING. */
  public Duration heartbeat() {
    return heartbeat;
  }

  /** Bound of Lettuce's request queue: commands beyond it fail at once instead of piling up. */
  public int requestQueueSize() {
    return requestQueueSize;
  }

  /** Consecutive Redis failures after which the default guard stops calling Redis. */
  public int guardFailureThreshold() {
    return guardFailureThreshold;
  }

  /** How long the default guard stops calling Redis before it lets one probe call through. */
  public Duration guardOpenDuration() {
    return guardOpenDuration;
  }

  public boolean distributedSingleFlight() {
    return distributedSingleFlight;
  }

  /** How long a cross-instance load lock lives at most. */
  public Duration lockTtl() {
    return lockTtl;
  }

  /**
   * The clock of L1 expiry and of the degraded TTL: a millisecond-resolution clock read with one volatile load,
   * unless a test gave its own through {@link Builder#ticker}.
   */
  public com.github.benmanes.caffeine.cache.Ticker ticker() {
    return ticker != null ? ticker : CoarseTicker.INSTANCE;
  }

  @Override
  public String toString() {
    return "CacheSettings[redis=" + (redisEnabled ? maskedRedisUrl() : "disabled")
        + ", connectTimeout=" + Settings.human(connectTimeout) + ", commandTimeout=" + Settings.human(commandTimeout)
        + ", ttl=" + Settings.human(defaultTtl) + ", degradedTtl=" + Settings.human(degradedTtl)
        + ", namespace=" + namespace + "]";
  }

  /** The URL without its user information: no character of the user name or password, whatever the URL holds. */
  static String mask(String url) {
    return Urls.redact(url);
  }

  private static final java.util.regex.Pattern HOST = java.util.regex.Pattern.compile(
      "[A-Za-z0-9]([A-Za-z0-9._-]{0,252})?|\\[[0-9A-Fa-f:.]+]");

  /**
   * Checks the form Ballast supports, {@code redis[s]://[[user]:password@]host[:port][/db]}, itself (Lettuce accepts
   * {@code redis://host:notaport} and fails only when connecting), then lets Lettuce parse it. Messages show the
   * URL without its user information.
   */
  static String checkUrl(String url, String source) {
    var masked = mask(url);
    if (!url.startsWith("redis://") && !url.startsWith("rediss://")) {
      throw new SettingException("redis_url", "start with redis:// or rediss://", masked, source);
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
      throw new SettingException("redis_url", "name a host (redis://[:password@]<host>:6379[/db])", masked, source);
    }
    if (port != null && (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535)) {
      throw new SettingException("redis_url", "have a port that is a whole number between 1 and 65535", masked,
          source);
    }
    if (db != null && !db.isEmpty() && !db.matches("[0-9]{1,5}")) {
      throw new SettingException("redis_url", "have a database number after the host (redis://host:6379/<0-15>)",
          masked, source);
    }
    try {
      RedisURI.create(url);
    } catch (RuntimeException e) {
      throw new SettingException("redis_url", "be a valid Redis URL (redis://[:password@]host:port[/db]), "
          + "with reserved characters in the password percent-encoded", masked, source);
    }
    return url;
  }

  /** Builds {@link CacheSettings}; each setter checks its value, naming it in the error. */
  public static final class Builder {
    private String redisUrl = "redis://127.0.0.1:6379";
    private boolean redisEnabled = true;
    private Duration connectTimeout = Duration.ofSeconds(2);
    private Duration commandTimeout = Duration.ofMillis(500);
    private int maxRetries = 3;
    private Duration retryDelay = Duration.ofMillis(100);
    private Duration reconnectDelayMax = Duration.ofSeconds(10);
    private Duration defaultTtl = Duration.ofMinutes(5);
    private Duration degradedTtl = Duration.ofSeconds(10);
    private String namespace = "ballast:";
    private Duration heartbeat = Duration.ofSeconds(1);
    private int requestQueueSize = 10_000;
    private int guardFailureThreshold = 5;
    private Duration guardOpenDuration = Duration.ofSeconds(5);
    private boolean distributedSingleFlight;
    private Duration lockTtl = Duration.ofSeconds(5);
    private com.github.benmanes.caffeine.cache.Ticker ticker;

    private Builder() {}

    /** {@code redis://[:password@]host:port[/db]} or {@code rediss://…}. */
    public Builder redisUrl(String url) {
      applyUrl(url, Settings.BUILDER);
      return this;
    }

    private void applyUrl(String url, String source) {
      Objects.requireNonNull(url, "url");
      this.redisUrl = checkUrl(url.trim(), source);
    }

    /** {@code false}: {@code RedisCacheModule} never connects and every region works from L1 only. */
    public Builder redisEnabled(boolean enabled) {
      this.redisEnabled = enabled;
      return this;
    }

    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = Settings.requireBetween("redis_connection_timeout", timeout, Duration.ofMillis(10),
          Duration.ofMinutes(1), Settings.BUILDER);
      return this;
    }

    public Builder commandTimeout(Duration timeout) {
      this.commandTimeout = Settings.requireBetween("redis_command_timeout", timeout, Duration.ofMillis(1),
          Duration.ofMinutes(1), Settings.BUILDER);
      return this;
    }

    public Builder maxRetries(int retries) {
      this.maxRetries = Settings.requireBetween("redis_max_retries", retries, 0, 100, Settings.BUILDER);
      return this;
    }

    public Builder retryDelay(Duration delay) {
      this.retryDelay = Settings.requireBetween("redis_retry_delay", delay, Duration.ofMillis(1),
          Duration.ofMinutes(1), Settings.BUILDER);
      return this;
    }

    /** The longest reconnect delay the exponential backoff reaches. */
    public Builder reconnectDelayMax(Duration delay) {
      this.reconnectDelayMax = Settings.requireBetween("redis_reconnect_delay_max", delay, Duration.ofMillis(1),
          Duration.ofMinutes(5), Settings.BUILDER);
      return this;
    }

    public Builder defaultTtl(Duration ttl) {
      this.defaultTtl = Settings.requireBetween("cache_ttl", ttl, Duration.ofMillis(1), MAX_TTL, Settings.BUILDER);
      return this;
    }

    public Builder degradedTtl(Duration ttl) {
      this.degradedTtl = Settings.requireBetween("cache_degraded_ttl", ttl, Duration.ZERO, Duration.ofHours(1),
          Settings.BUILDER);
      return this;
    }

    public Builder namespace(String namespace) {
      applyNamespace(namespace, Settings.BUILDER);
      return this;
    }

    private void applyNamespace(String value, String source) {
      if (value == null || !NAMESPACE.matcher(value).matches()) {
        throw new SettingException("cache_namespace", "be up to 64 of A-Z a-z 0-9 _ . : { } -", value, source);
      }
      this.namespace = value;
    }

    public Builder heartbeat(Duration interval) {
      this.heartbeat = Settings.requireBetween("cache_heartbeat", interval, Duration.ofMillis(10),
          Duration.ofMinutes(1), Settings.BUILDER);
      return this;
    }

    public Builder requestQueueSize(int size) {
      this.requestQueueSize = Settings.requireBetween("redis_request_queue_size", size, 1, 1_000_000,
          Settings.BUILDER);
      return this;
    }

    public Builder guardFailureThreshold(int failures) {
      this.guardFailureThreshold = Settings.requireBetween("redis_guard_failure_threshold", failures, 1, 1000,
          Settings.BUILDER);
      return this;
    }

    public Builder guardOpenDuration(Duration duration) {
      this.guardOpenDuration = Settings.requireBetween("redis_guard_open_duration", duration, Duration.ofMillis(1),
          Duration.ofMinutes(10), Settings.BUILDER);
      return this;
    }

    public Builder distributedSingleFlight(boolean enabled) {
      this.distributedSingleFlight = enabled;
      return this;
    }

    /**
     * The clock L1 expiry and the degraded TTL read, in nanoseconds ({@code Ticker.read()}), as Caffeine's own
     * {@code Caffeine.ticker(…)}: for tests, which advance a fake one instead of sleeping. Entries in Redis
     * expire on Redis's own clock whatever this says.
     */
    public Builder ticker(com.github.benmanes.caffeine.cache.Ticker ticker) {
      this.ticker = java.util.Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    public Builder lockTtl(Duration ttl) {
      this.lockTtl = Settings.requireBetween("cache_lock_ttl", ttl, Duration.ofMillis(10), Duration.ofMinutes(5),
          Settings.BUILDER);
      return this;
    }

    public CacheSettings build() {
      if (reconnectDelayMax.compareTo(retryDelay) < 0) {
        throw new SettingException("redis_reconnect_delay_max", "be at least redis_retry_delay ("
            + Settings.human(retryDelay) + ")", Settings.human(reconnectDelayMax), Settings.BUILDER);
      }
      return new CacheSettings(this);
    }
  }
}
