package io.ballast.cache;

import io.ballast.core.settings.Checks;
import io.ballast.core.settings.SettingException;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How one cache region behaves: its name, value type and codec, its TTL (Redis and the default for
 * L1), its L1 size bound and TTL, and how long "not found" is remembered. Immutable; build with
 * {@link #builder(String, Class)}.
 *
 * <pre>{@code
 * RegionSettings.builder("users", User.class).mediumTtl().l1MaxSize(10_000).negativeTtl(Duration.ofSeconds(30)).build()
 * }</pre>
 *
 * @param <V> the value type
 */
public final class RegionSettings<V> {
  /** TTL of {@link Builder#shortTtl()}. */
  public static final Duration SHORT_TTL = Duration.ofMinutes(1);

  /** TTL of {@link Builder#mediumTtl()}. */
  public static final Duration MEDIUM_TTL = Duration.ofMinutes(5);

  /** TTL of {@link Builder#longTtl()}. */
  public static final Duration LONG_TTL = Duration.ofHours(1);

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

  private final String name;
  private final Class<V> type;
  private final CacheCodec<V> codec;
  private final Duration ttl;
  private final Duration l1Ttl;
  private final long l1MaxSize;
  private final Duration negativeTtl;

  private RegionSettings(Builder<V> b) {
    this.name = b.name;
    this.type = b.type;
    this.codec = b.codec == null ? JsonCodec.of(b.type) : b.codec;
    this.ttl = b.ttl;
    this.l1Ttl = b.l1Ttl;
    this.l1MaxSize = b.l1MaxSize;
    this.negativeTtl = b.negativeTtl;
  }

  /**
   * A region called {@code name} holding values of {@code type} (JSON-encoded unless a codec is
   * set).
   */
  public static <V> Builder<V> builder(String name, Class<V> type) {
    return new Builder<>(name, type);
  }

  /** The region's name, unique in a {@link Caches}. */
  public String name() {
    return name;
  }

  /** The type of the values. */
  public Class<V> type() {
    return type;
  }

  /** How values are turned into the bytes stored in Redis and back. */
  public CacheCodec<V> codec() {
    return codec;
  }

  /** The TTL in Redis, or {@code null} for the cache's default ({@code CACHE_TTL_SECONDS}). */
  public Duration ttl() {
    return ttl;
  }

  /** The L1 TTL, or {@code null} for the region's TTL. */
  public Duration l1Ttl() {
    return l1Ttl;
  }

  /** The most entries L1 holds; 0 turns L1 off (every read goes to Redis). */
  public long l1MaxSize() {
    return l1MaxSize;
  }

  /** How long a loader's "not found" is remembered; zero (the default) remembers nothing. */
  public Duration negativeTtl() {
    return negativeTtl;
  }

  @Override
  public String toString() {
    return "RegionSettings["
        + name
        + ", "
        + type.getSimpleName()
        + ", ttl="
        + (ttl == null ? "default" : Checks.human(ttl))
        + ", l1Ttl="
        + (l1Ttl == null ? "ttl" : Checks.human(l1Ttl))
        + ", l1MaxSize="
        + l1MaxSize
        + ", negativeTtl="
        + Checks.human(negativeTtl)
        + "]";
  }

  /** Builds {@link RegionSettings}; setters check their value, {@link #build()} the combination. */
  public static final class Builder<V> {
    private final String name;
    private final Class<V> type;
    private CacheCodec<V> codec;
    private Duration ttl;
    private Duration l1Ttl;
    private long l1MaxSize = 10_000;
    private Duration negativeTtl = Duration.ZERO;

    private Builder(String name, Class<V> type) {
      if (name == null || !NAME.matcher(name).matches()) {
        throw new SettingException(
            "region name",
            "be 1 to 63 of A-Z a-z 0-9 _ . - (no colon), starting with a " + "letter or digit",
            name,
            Checks.BUILDER);
      }
      this.name = name;
      this.type = Objects.requireNonNull(type, "type");
    }

    /** The codec; JSON through Jackson by default. */
    public Builder<V> codec(CacheCodec<V> codec) {
      this.codec = Objects.requireNonNull(codec, "codec");
      return this;
    }

    /** The TTL of entries in Redis (and in L1 unless {@link #l1Ttl} is shorter). */
    public Builder<V> ttl(Duration ttl) {
      this.ttl =
          Checks.requireBetween(
              name + ".ttl", ttl, Duration.ofMillis(1), CacheSettings.MAX_TTL, Checks.BUILDER);
      return this;
    }

    /** {@link RegionSettings#SHORT_TTL}: for data that changes often. */
    public Builder<V> shortTtl() {
      return ttl(SHORT_TTL);
    }

    /** {@link RegionSettings#MEDIUM_TTL}. */
    public Builder<V> mediumTtl() {
      return ttl(MEDIUM_TTL);
    }

    /** {@link RegionSettings#LONG_TTL}: for reference data. */
    public Builder<V> longTtl() {
      return ttl(LONG_TTL);
    }

    /** The L1 TTL; must not be longer than the region's TTL. */
    public Builder<V> l1Ttl(Duration ttl) {
      this.l1Ttl =
          Checks.requireBetween(
              name + ".l1_ttl", ttl, Duration.ofMillis(1), CacheSettings.MAX_TTL, Checks.BUILDER);
      return this;
    }

    /** The most entries L1 holds; 0 turns L1 off. */
    public Builder<V> l1MaxSize(long size) {
      if (size < 0 || size > 100_000_000) {
        throw new SettingException(
            name + ".l1_max_size", "be between 0 and 100000000", size, Checks.BUILDER);
      }
      this.l1MaxSize = size;
      return this;
    }

    /** Remember a loader's "not found" for {@code ttl}; zero turns negative caching off. */
    public Builder<V> negativeTtl(Duration ttl) {
      this.negativeTtl =
          Checks.requireBetween(
              name + ".negative_ttl", ttl, Duration.ZERO, Duration.ofHours(1), Checks.BUILDER);
      return this;
    }

    /** The settings; fails with a message naming the settings when they do not fit together. */
    public RegionSettings<V> build() {
      if (ttl != null && l1Ttl != null && l1Ttl.compareTo(ttl) > 0) {
        throw new SettingException(
            name + ".l1_ttl",
            "not be longer than the region's ttl (" + Checks.human(ttl) + ")",
            Checks.human(l1Ttl),
            Checks.BUILDER);
      }
      if (ttl != null && negativeTtl.compareTo(ttl) > 0) {
        throw new SettingException(
            name + ".negative_ttl",
            "not be longer than the region's ttl (" + Checks.human(ttl) + ")",
            Checks.human(negativeTtl),
            Checks.BUILDER);
      }
      return new RegionSettings<>(this);
    }
  }
}
