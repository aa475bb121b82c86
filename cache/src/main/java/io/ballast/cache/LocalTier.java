package io.ballast.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import com.github.benmanes.caffeine.cache.stats.ConcurrentStatsCounter;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Predicate;

/**
 * A region's L1: its entries in this process (Caffeine, bounded by size), each with its own
 * deadline, and the stamps that keep a value read before an invalidation out of it.
 *
 * <p>A stamp is an epoch (bumped by tag, region-wide and pattern invalidations) plus a key's stripe
 * (bumped by that key's invalidations and writes). A read takes the stamp before it looks anywhere
 * else and fills L1 only if the stamp has not moved ({@link #fill}), checked and put in one step
 * for the key, as a write bumps and puts; a drop bumps before and after it removes, so a fill
 * racing it is undone. Expiry is checked on read against a ticker rather than through Caffeine's
 * variable expiry, which costs several times a plain hit; {@link #sweepExpired} removes what nobody
 * read. With a size of 0 there is no L1 at all, and only the stamps are kept. Thread-safe.
 */
final class LocalTier {
  private static final int STRIPES = 256;

  /**
   * Whether every invalidation from other instances is known to arrive (the cache manager knows).
   */
  interface SyncState {
    boolean synced();
  }

  /** An entry; {@code value == null} means cached as absent. Times are readings of the ticker. */
  @SuppressWarnings(
      "ArrayRecordComponent") // entries are compared by identity only (Map.remove(key, entry))
  record Entry(Object value, String[] tags, long writtenAt, long expiresAt) {}

  private final Cache<String, Entry> entries; // null when the size is 0
  private final ConcurrentStatsCounter stats = new ConcurrentStatsCounter();
  private final AtomicLong epoch = new AtomicLong();
  private final AtomicLongArray stripes = new AtomicLongArray(STRIPES);
  private final Ticker ticker;

  /**
   * The ticker when it is the coarse clock: read without an interface call on the hit path (about 2
   * ns).
   */
  private final CoarseTicker coarse;

  private final long ttlNanos;
  private final long negativeTtlNanos;
  private final SyncState synced;
  private final long degradedTtlNanos;

  /**
   * An empty tier.
   *
   * @param maxSize entries kept at most; 0 for none
   * @param synced whether every invalidation from other instances is known to arrive
   * @param degradedTtlNanos the oldest an entry may be and still be served while {@code synced} is
   *     false
   */
  LocalTier(
      long maxSize,
      long ttlNanos,
      long negativeTtlNanos,
      Ticker ticker,
      SyncState synced,
      long degradedTtlNanos) {
    this.ticker = ticker;
    this.coarse = ticker instanceof CoarseTicker c ? c : null;
    this.ttlNanos = ttlNanos;
    this.negativeTtlNanos = negativeTtlNanos;
    this.synced = synced;
    this.degradedTtlNanos = degradedTtlNanos;
    this.entries =
        maxSize == 0
            ? null
            : Caffeine.newBuilder()
                .maximumSize(maxSize)
                .<String, Entry>evictionListener(
                    (key, entry, cause) -> {
                      if (cause.wasEvicted()) {
                        stats.recordEviction(1, cause);
                      }
                    })
                .build();
  }

  /** A new entry for {@code value} (null: absent), expiring after the TTL or the negative TTL. */
  private long now() {
    var c = coarse;
    return c != null ? c.read() : ticker.read();
  }

  Entry entry(Object value, String[] tags) {
    var now = now();
    return new Entry(value, tags, now, now + (value == null ? negativeTtlNanos : ttlNanos));
  }

  private static int stripe(String key) {
    var h = key.hashCode();
    return (h ^ (h >>> 16)) & (STRIPES - 1);
  }

  /** Changes whenever the key, or the whole region, is invalidated or the key written. */
  long stamp(String key) {
    return epoch.get() + stripes.get(stripe(key));
  }

  /**
   * The entry, counted as a hit, or {@code null}, counted as a miss; while invalidations may be
   * missed only entries younger than the degraded TTL are served.
   */
  Entry get(String key) {
    var entry = entries == null ? null : entries.getIfPresent(key);
    if (entry != null) {
      var now = now();
      if (now - entry.expiresAt() < 0
          && (synced.synced() || now - entry.writtenAt() <= degradedTtlNanos)) {
        stats.recordHits(1);
        return entry;
      }
      entries.asMap().remove(key, entry);
    }
    stats.recordMisses(1);
    return null;
  }

  /**
   * The unexpired entry without counting anything (a load that finished while another waited), or
   * null.
   */
  Entry peek(String key) {
    var entry = entries == null ? null : entries.asMap().get(key);
    return entry != null && now() - entry.expiresAt() < 0 ? entry : null;
  }

  /**
   * Puts what a read found, unless the key was written or invalidated since the read took {@code
   * stamp}. The check and the put are one step for the key (as is {@link #write}): a fill can never
   * land on top of a newer write, not even for a moment in which {@link #peek} would see it.
   */
  void fill(String key, Entry entry, long stamp) {
    if (entries != null && stamp(key) == stamp) {
      entries.asMap().compute(key, (k, current) -> stamp(key) == stamp ? entry : current);
    }
  }

  /** A write: the key's stamp moves (reads in flight will not fill) and the new entry goes in. */
  void write(String key, Entry entry) {
    if (entries == null) {
      stripes.incrementAndGet(stripe(key));
      return;
    }
    entries
        .asMap()
        .compute(
            key,
            (k, current) -> {
              stripes.incrementAndGet(stripe(key));
              return entry;
            });
  }

  /**
   * Drops a key; its stamp moves before and after, so a read that took the old value on either side
   * is not kept.
   */
  void dropKey(String key) {
    var i = stripe(key);
    stripes.incrementAndGet(i);
    if (entries != null) {
      entries.invalidate(key);
    }
    stripes.incrementAndGet(i);
  }

  /** Drops every entry carrying {@code tag}. */
  void dropTagged(String tag) {
    dropWhere(e -> contains(e.tags(), tag));
  }

  /** Drops every entry. */
  void dropAll() {
    epoch.incrementAndGet();
    if (entries != null) {
      entries.invalidateAll();
    }
    epoch.incrementAndGet();
  }

  /** Drops every entry whose key matches. */
  void dropKeys(Predicate<String> keys) {
    epoch.incrementAndGet();
    if (entries != null) {
      entries.asMap().keySet().removeIf(keys);
    }
    epoch.incrementAndGet();
  }

  private void dropWhere(Predicate<Entry> which) {
    epoch.incrementAndGet();
    if (entries != null) {
      entries.asMap().values().removeIf(which);
    }
    epoch.incrementAndGet();
  }

  /** Removes expired entries that nobody read since they expired (reads remove the others). */
  void sweepExpired() {
    if (entries != null) {
      var now = now();
      entries.asMap().values().removeIf(e -> now - e.expiresAt() >= 0);
    }
  }

  long size() {
    return entries == null ? 0 : entries.estimatedSize();
  }

  CacheStats stats() {
    return stats.snapshot();
  }

  private static boolean contains(String[] tags, String tag) {
    for (var t : tags) {
      if (t.equals(tag)) {
        return true;
      }
    }
    return false;
  }
}
