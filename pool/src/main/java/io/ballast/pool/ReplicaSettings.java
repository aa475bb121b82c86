package io.ballast.pool;

import io.ballast.core.settings.Checks;
import io.ballast.core.settings.Setting;
import io.ballast.core.settings.SettingException;
import io.ballast.core.settings.SettingValues;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Settings of the read replicas: one pool per replica, and the bounds within which a replica may
 * serve reads that carry no {@link WalPosition}. Immutable; build with {@link #fromEnv} or {@link
 * #builder}. Each replica's pool starts from the primary's settings ({@link PoolSettings}) and
 * takes the host, database, credentials and parameters its own URL gives; it is named {@code
 * replica-1}, {@code replica-2}, … in the order given.
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>variable</th><th>builder</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code DATABASE_REPLICA_URLS}</td><td>{@code replica(String)}</td>
 *       <td>replica URLs, comma-separated, each of {@code DATABASE_URL}'s form</td><td>none</td></tr>
 *   <tr><td>{@code DB_REPLICA_MAX_LAG_MS}</td><td>{@code maxLag(Duration)}</td>
 *       <td>the most a replica may be behind in time and still serve reads without a position</td>
 *       <td>5 s</td></tr>
 *   <tr><td>{@code DB_REPLICA_MAX_LAG_BYTES}</td><td>{@code maxLagBytes(long)}</td>
 *       <td>the most it may be behind in WAL bytes</td><td>16 MiB</td></tr>
 *   <tr><td>{@code DB_REPLICA_CHECK_INTERVAL_MS}</td><td>{@code checkInterval(Duration)}</td>
 *       <td>how often each replica's replay position is read</td><td>250 ms</td></tr>
 * </table>
 */
public final class ReplicaSettings {
  /** The variable holding the replica URLs. */
  public static final String DATABASE_REPLICA_URLS = "DATABASE_REPLICA_URLS";

  /** The most a replica may lag in time and still serve reads that carry no position. */
  public static final Setting<Duration> MAX_LAG =
      Setting.millis("replica_max_lag", Duration.ZERO, Duration.ofHours(1))
          .variable("DB_REPLICA_MAX_LAG_MS")
          .defaultValue(Duration.ofSeconds(5))
          .build();

  /** The most a replica may lag in WAL bytes and still serve reads that carry no position. */
  public static final Setting<Long> MAX_LAG_BYTES =
      Setting.<Long>of(
              "replica_max_lag_bytes",
              s -> Long.valueOf(s.trim()),
              "a whole number of bytes between 0 and 1099511627776 (1 TiB)")
          .check(v -> v < 0 || v > (1L << 40) ? "be between 0 and 1099511627776 (1 TiB)" : null)
          .variable("DB_REPLICA_MAX_LAG_BYTES")
          .defaultValue(16L << 20)
          .build();

  /** How often the replicas' replay positions (and the primary's write position) are read. */
  public static final Setting<Duration> CHECK_INTERVAL =
      Setting.millis("replica_check_interval", Duration.ofMillis(20), Duration.ofMinutes(1))
          .variable("DB_REPLICA_CHECK_INTERVAL_MS")
          .defaultValue(Duration.ofMillis(250))
          .build();

  /** Splits before each URL scheme, so that a multi-host URL's commas stay inside it. */
  private static final Pattern URL_START =
      Pattern.compile(",\\s*(?=(?:postgres|postgresql|jdbc:postgresql):)");

  private final List<PoolSettings> replicas;
  private final SettingValues values;

  private ReplicaSettings(List<PoolSettings> replicas, SettingValues values) {
    this.replicas = List.copyOf(replicas);
    this.values = values.copy();
  }

  /** No replicas: every read goes to the primary. */
  public static ReplicaSettings none(PoolSettings primary) {
    return builder(primary).build();
  }

  /** A builder whose replicas start from {@code primary}'s settings. */
  public static Builder builder(PoolSettings primary) {
    return new Builder(Objects.requireNonNull(primary, "primary"));
  }

  /** From the process environment. */
  public static ReplicaSettings fromEnv(PoolSettings primary) {
    return fromEnv(primary, System::getenv);
  }

  /** From {@code env}, a map of variables. */
  public static ReplicaSettings fromEnv(PoolSettings primary, Map<String, String> env) {
    return fromEnv(primary, env::get);
  }

  static ReplicaSettings fromEnv(PoolSettings primary, Function<String, String> env) {
    var b = builder(primary);
    var urls = Checks.get(env, DATABASE_REPLICA_URLS);
    if (urls != null && !urls.isBlank()) {
      for (var url : URL_START.split(urls.trim(), -1)) {
        var trimmed = url.trim();
        // a comma not followed by another URL: an empty entry, not part of the database name
        b.replica(
            trimmed.endsWith(",") || trimmed.startsWith(",") ? "" : trimmed, DATABASE_REPLICA_URLS);
      }
    }
    b.values.read(env, MAX_LAG, MAX_LAG_BYTES, CHECK_INTERVAL);
    return b.build();
  }

  /** Each replica's pool settings, named {@code replica-1}, {@code replica-2}, … */
  public List<PoolSettings> replicas() {
    return replicas;
  }

  /** The most a replica may lag in time and serve reads that carry no position. */
  public Duration maxLag() {
    return values.get(MAX_LAG);
  }

  /** The most a replica may lag in WAL bytes and serve reads that carry no position. */
  public long maxLagBytes() {
    return values.get(MAX_LAG_BYTES);
  }

  /** How often the replicas' positions are read. */
  public Duration checkInterval() {
    return values.get(CHECK_INTERVAL);
  }

  @Override
  public String toString() {
    var urls = new ArrayList<String>();
    replicas.forEach(r -> urls.add(r.name() + "=" + r.maskedUrl()));
    return "ReplicaSettings{replicas="
        + urls
        + ", replica_max_lag="
        + MAX_LAG.show(maxLag())
        + ", replica_max_lag_bytes="
        + maxLagBytes()
        + ", replica_check_interval="
        + CHECK_INTERVAL.show(checkInterval())
        + "}";
  }

  /** Builder for {@link ReplicaSettings}. */
  public static final class Builder {
    private final PoolSettings primary;
    private final List<PoolSettings> replicas = new ArrayList<>();
    private final SettingValues values = new SettingValues();

    private Builder(PoolSettings primary) {
      this.primary = primary;
    }

    /**
     * Adds a replica by its URL, in {@code DATABASE_URL}'s form; what the URL leaves out (user,
     * password, pool size, timeouts) is the primary's.
     */
    public Builder replica(String url) {
      return replica(url, Checks.BUILDER);
    }

    Builder replica(String url, String source) {
      if (url == null || url.isBlank()) {
        throw new SettingException(
            DATABASE_REPLICA_URLS,
            "be postgresql:// URLs separated by commas, with none empty",
            url == null ? null : "(empty)",
            source);
      }
      if (replicas.size() >= 16) {
        throw new SettingException(
            DATABASE_REPLICA_URLS, "name at most 16 replicas", replicas.size() + 1, source);
      }
      var b = PoolSettings.from(primary).name("replica-" + (replicas.size() + 1));
      b.applyUrl(url, source);
      replicas.add(b.build());
      return this;
    }

    /** The most a replica may lag in time and serve reads without a position: 0 to 1 h, 5 s. */
    public Builder maxLag(Duration lag) {
      values.set(MAX_LAG, lag);
      return this;
    }

    /** The most a replica may lag in WAL bytes and serve reads without a position; 16 MiB. */
    public Builder maxLagBytes(long bytes) {
      values.set(MAX_LAG_BYTES, bytes);
      return this;
    }

    /** How often replay positions are read: 20 ms to 1 min, default 250 ms. */
    public Builder checkInterval(Duration interval) {
      values.set(CHECK_INTERVAL, interval);
      return this;
    }

    /** Builds the settings. */
    public ReplicaSettings build() {
      return new ReplicaSettings(replicas, values);
    }
  }
}
