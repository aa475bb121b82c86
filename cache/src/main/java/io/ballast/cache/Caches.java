package io.ballast.cache;

import java.time.Duration;
import java.util.Collection;
import java.util.Optional;

/**
 * The application's cache regions and the region-independent helpers. Bound by {@link
 * RedisCacheModule} (L1 + Redis) and by {@link LocalCacheModule} (L1 only), so switching is one
 * line. Regions may be created before the lifecycle starts (in a {@code @Provides} method, say);
 * they reach Redis once it has started. Thread-safe.
 *
 * <pre>{@code
 * @Provides @Singleton
 * CacheRegion<User> users(Caches caches) {
 *   return caches.region(RegionSettings.builder("users", User.class).mediumTtl().build());
 * }
 * }</pre>
 */
public interface Caches {
  /**
   * Creates the region {@code settings} describes.
   *
   * @throws IllegalArgumentException when a region with that name already exists
   */
  <V> CacheRegion<V> region(RegionSettings<V> settings);

  /** The region called {@code name}, if one was created. */
  Optional<CacheRegion<?>> find(String name);

  /** Every region, in creation order. */
  Collection<CacheRegion<?>> regions();

  /**
   * Adds {@code delta} to the counter {@code key} and returns the new value; a new counter expires
   * after {@code ttl} (a fixed window: later increments do not extend it). While Redis is
   * unreachable the counter is counted in this instance only and the count starts again when Redis
   * is back.
   */
  long increment(String key, long delta, Duration ttl);

  /** {@code increment(key, -delta, ttl)}. */
  default long decrement(String key, long delta, Duration ttl) {
    return increment(key, -delta, ttl);
  }

  /**
   * Removes every cached entry whose {@code <region>:<key>} matches the Redis glob {@code pattern}
   * ({@code *}, {@code ?}, {@code [abc]}), in Redis with {@code SCAN} and {@code UNLINK} (never
   * {@code KEYS}) and in every instance's L1.
   *
   * @return the number of entries removed from Redis
   */
  long deleteByPattern(String pattern);

  /**
   * Whether regions have a shared level (Redis) configured; {@code false} for {@link
   * LocalCacheModule}.
   */
  boolean twoLevel();

  /** Whether the shared level is reachable and the invalidation subscription is live now. */
  boolean redisAvailable();

  /** Each region's figures, in creation order. */
  default Collection<RegionStats> stats() {
    return regions().stream().map(CacheRegion::stats).toList();
  }
}
