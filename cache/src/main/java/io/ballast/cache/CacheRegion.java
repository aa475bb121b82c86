package io.ballast.cache;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A named cache region: L1 (Caffeine, in this process) in front of L2 (Redis, shared by every
 * instance), in front of a loader (usually the database). Get one from {@link
 * Caches#region(RegionSettings)}.
 *
 * <p>Reads go L1 → L2 → loader and fill the levels they missed. At most one load per key runs at a
 * time in an instance (single-flight); with {@code CACHE_DISTRIBUTED_SINGLE_FLIGHT} at most one
 * across instances. Writes and invalidations change L2 and tell every other instance to drop its L1
 * copy. While Redis is unreachable the region works from L1 and the loader and never throws because
 * of Redis: reads fall back within the command timeout, writes still change L1.
 *
 * <p>Keys are non-empty strings; values are never {@code null} (a loader returning {@code null}
 * means "not found"). Thread-safe.
 *
 * @param <V> the value type
 */
public interface CacheRegion<V> {
  /** The region's name, unique in the application. */
  String name();

  /** The region's settings. */
  RegionSettings<V> settings();

  /**
   * The cached value, from L1 or L2, or {@code null} when neither has it (or it is cached as
   * absent).
   */
  V get(String key);

  /**
   * The cached value, or the loader's, which is then cached in both levels. A {@code null} from the
   * loader is cached as absent for the region's negative TTL (when set) and returned as {@code
   * null}. An exception from the loader reaches the caller (and every caller waiting on the same
   * load) and caches nothing.
   */
  V get(String key, Function<String, ? extends V> loader);

  /**
   * {@link #get(String, Function)}, and a value the loader returns is cached with {@code tags}, so
   * that {@link #invalidateTag(String)} reaches it. Tags apply only to what this call loads: an
   * entry found in L1 or L2 keeps the tags it was stored with. A value cached as absent carries no
   * tags.
   */
  V get(String key, Function<String, ? extends V> loader, String... tags);

  /**
   * The values of {@code keys}: from L1, then one {@code MGET} for the L1 misses, then one call of
   * {@code bulkLoader} for what is still missing. Keys the bulk loader leaves out are absent from
   * the result (and cached as absent when the region has a negative TTL).
   */
  Map<String, V> getAll(
      Collection<String> keys, Function<Set<String>, Map<String, ? extends V>> bulkLoader);

  /**
   * Stores {@code value} in both levels, tagged with {@code tags}, and drops other instances' L1
   * copies.
   */
  void put(String key, V value, String... tags);

  /**
   * {@link #put} for many entries: one Redis round trip for the writes and one message to the other
   * instances, whatever the number of entries.
   */
  void putAll(Map<String, ? extends V> entries, String... tags);

  /** Removes the key from both levels here and from every other instance's L1. */
  void invalidate(String key);

  /** Removes every entry tagged {@code tag}, in L2 and in every instance's L1. */
  void invalidateTag(String tag);

  /** Removes every entry of the region, in L2 and in every instance's L1. */
  void invalidateAll();

  /** Hits, misses, loads and errors so far. */
  RegionStats stats();
}
