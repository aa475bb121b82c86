package io.ballast.cache;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import com.github.benmanes.caffeine.cache.stats.ConcurrentStatsCounter;
import io.ballast.core.settings.Checks;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.model.snapshots.Unit;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link CacheRegion} over its {@link LocalTier} (L1) and the manager's {@link RemoteStore} (L2,
 * absent in L1-only mode), with single-flight loading.
 *
 * <p>Every invalidation, local or received, moves the L1 stamps; a load fills the levels only if
 * its key's stamp did not move while it ran, so a load that overlapped an invalidation cannot put
 * the old value back.
 */
final class TwoLevelRegion<V> implements CacheRegion<V> {
  private static final Logger LOG = LoggerFactory.getLogger(TwoLevelRegion.class);
  private static final int MAX_KEY_LENGTH = 1024;

  private final CacheManager manager;
  private final RegionSettings<V> settings;
  private final String name;
  private final RemoteEntryCodec<V> entryCodec;
  private final Duration ttl;
  private final long negativeTtlNanos;
  private final LocalTier local;
  private final ConcurrentStatsCounter l2Stats = new ConcurrentStatsCounter();
  private final Timer loads;
  private final CacheMetrics exports;
  private final DistributionDataPoint l1Reads;
  private final DistributionDataPoint l2Reads;
  private final DistributionDataPoint loaderReads;
  private final Meter loadFailures;
  private final Meter errors;
  private final Meter corrupt;
  private final AtomicBoolean corruptLogged = new AtomicBoolean();
  private final SingleFlight<LocalTier.Entry> flights = new SingleFlight<>();

  /**
   * Points between the steps of a read and of an invalidation where a test can make another thread
   * act, so a race is reproduced on purpose rather than by luck. {@link #NONE} outside tests.
   */
  interface Hooks {
    /** No hooks: what production runs. */
    Hooks NONE = new Hooks() {};

    /** A read has the L2 bytes of {@code key} in hand and has not filled L1 yet. */
    default void afterRemoteRead(String key) {}

    /** An invalidation has done its first step (L2) and not its second (this instance's L1). */
    default void betweenInvalidationSteps(Invalidation.Kind kind, String argument) {}
  }

  volatile Hooks hooks = Hooks.NONE;

  TwoLevelRegion(CacheManager manager, RegionSettings<V> settings) {
    this.manager = manager;
    this.settings = settings;
    this.name = settings.name();
    this.entryCodec = new RemoteEntryCodec<>(name, settings.codec());
    this.ttl = settings.ttl() == null ? manager.settings.defaultTtl() : settings.ttl();
    var l1Ttl = settings.l1Ttl() == null ? ttl : settings.l1Ttl();
    if (l1Ttl.compareTo(ttl) > 0) {
      throw new IllegalArgumentException(
          name
              + ".l1_ttl must not be longer than the region's ttl ("
              + Checks.human(ttl)
              + ", from CACHE_TTL_SECONDS), but was "
              + Checks.human(l1Ttl));
    }
    if (settings.negativeTtl().compareTo(ttl) > 0) {
      throw new IllegalArgumentException(
          name
              + ".negative_ttl must not be longer than the region's ttl ("
              + Checks.human(ttl)
              + ", from CACHE_TTL_SECONDS), but was "
              + Checks.human(settings.negativeTtl()));
    }
    var l1TtlNanos = l1Ttl.toNanos();
    this.negativeTtlNanos = Math.min(settings.negativeTtl().toNanos(), l1TtlNanos);
    this.local =
        new LocalTier(
            settings.l1MaxSize(),
            l1TtlNanos,
            negativeTtlNanos,
            manager.settings.ticker(),
            manager.bus,
            manager.degradedTtlNanos());
    var metrics = manager.metrics;
    var prefix = MetricRegistry.name("ballast", "cache", name);
    this.loads = metrics.timer(MetricRegistry.name(prefix, "loads"));
    this.exports = manager.exports;
    this.l1Reads = manager.exports.reads(name, "l1");
    this.l2Reads = manager.exports.reads(name, "l2");
    this.loaderReads = manager.exports.reads(name, "load");
    this.loadFailures = metrics.meter(MetricRegistry.name(prefix, "load-failures"));
    this.errors = metrics.meter(MetricRegistry.name(prefix, "errors"));
    this.corrupt = metrics.meter(MetricRegistry.name(prefix, "corrupt"));
    gauge(metrics, prefix, "l1.hits", () -> local.stats().hitCount());
    gauge(metrics, prefix, "l1.misses", () -> local.stats().missCount());
    gauge(metrics, prefix, "l1.evictions", () -> local.stats().evictionCount());
    gauge(metrics, prefix, "l1.size", local::size);
    gauge(metrics, prefix, "l1.hit-ratio", () -> stats().l1HitRatio());
    gauge(metrics, prefix, "l2.hits", () -> l2Stats.snapshot().hitCount());
    gauge(metrics, prefix, "l2.misses", () -> l2Stats.snapshot().missCount());
    gauge(metrics, prefix, "l2.hit-ratio", () -> stats().l2HitRatio());
    gauge(metrics, prefix, "hit-ratio", () -> stats().hitRatio());
  }

  private static void gauge(MetricRegistry metrics, String prefix, String name, Gauge<?> gauge) {
    var full = MetricRegistry.name(prefix, name);
    metrics.remove(full);
    metrics.register(full, gauge);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public RegionSettings<V> settings() {
    return settings;
  }

  Duration ttl() {
    return ttl;
  }

  // ---------------------------------------------------------------- reads

  @Override
  @SuppressWarnings("unchecked")
  public V get(String key) {
    requireKey(key);
    var entry = readL1(key);
    if (entry != null) {
      return (V) entry.value();
    }
    if (manager.remote == null) {
      return null;
    }
    var e0 = local.stamp(key);
    var remote = readRemote(key);
    if (remote == null) {
      return null;
    }
    fillL1(key, remote, e0);
    return (V) remote.value();
  }

  @Override
  public V get(String key, Function<String, ? extends V> loader) {
    return get(key, loader, Envelope.NO_TAGS);
  }

  @Override
  @SuppressWarnings("unchecked")
  public V get(String key, Function<String, ? extends V> loader, String... tags) {
    requireKey(key);
    Objects.requireNonNull(loader, "loader");
    var tagList = requireTags(tags);
    var entry = readL1(key);
    if (entry != null) {
      return (V) entry.value();
    }
    var loaded =
        flights.load(
            key,
            local::stamp,
            stamp -> {
              // a load that finished between our miss and our turn has filled L1 by now
              var again = local.peek(key);
              return again != null ? again : loadThrough(key, loader, tagList, stamp);
            });
    return (V) loaded.value();
  }

  /**
   * L1's entry for {@code key}; the reads of one key in {@value CacheMetrics#L1_SAMPLE} are timed.
   */
  private LocalTier.Entry readL1(String key) {
    return exports.sampleL1(key) ? timedL1(key) : local.get(key);
  }

  // apart from readL1, so that the hit path the JIT inlines stays small
  private LocalTier.Entry timedL1(String key) {
    var start = System.nanoTime();
    var entry = local.get(key);
    l1Reads.observe(Unit.nanosToSeconds(System.nanoTime() - start));
    return entry;
  }

  /** Callers in this instance waiting for the load of {@code key} in progress (0 if none is). */
  int waitingForLoad(String key) {
    return flights.joined(key);
  }

  /** L2, then (under the cross-instance lock when enabled) the loader; fills what missed. */
  private LocalTier.Entry loadThrough(
      String key, Function<String, ? extends V> loader, String[] tags, long e0) {
    if (manager.remote != null) {
      var remote = readRemote(key);
      if (remote != null) {
        fillL1(key, remote, e0);
        return remote;
      }
      if (manager.settings.distributedSingleFlight()) {
        var viaLock = loadUnderLock(key, loader, tags, e0);
        if (viaLock != null) {
          return viaLock;
        }
      }
    }
    return loadAndStore(key, loader, tags, e0);
  }

  private LocalTier.Entry loadAndStore(
      String key, Function<String, ? extends V> loader, String[] tags, long e0) {
    var value = load(key, loader);
    var entry = local.entry(value, value == null ? Envelope.NO_TAGS : tags);
    if (value == null && negativeTtlNanos == 0) {
      return entry;
    }
    if (local.stamp(key) != e0) {
      return entry; // invalidated while loading: hand out what we read, keep it out of the cache
    }
    fillL1(key, entry, e0);
    if (manager.remote != null) {
      var bytes = encodeForL2(value, entry.tags());
      var entryTtl = value == null ? Duration.ofNanos(negativeTtlNanos) : ttl;
      var indexes = tagIndexes(entry.tags());
      manager.run(
          store ->
              store.setAll(Map.of(manager.entryKey(name, key), bytes), entryTtl, indexes, true),
          errors);
    }
    return entry;
  }

  /**
   * Cross-instance single-flight: one instance takes a short lock and loads; the others poll L2 for
   * its result. {@code null} when this instance should load by itself (lock holder gone without a
   * result, or Redis unusable).
   */
  private LocalTier.Entry loadUnderLock(
      String key, Function<String, ? extends V> loader, String[] tags, long e0) {
    var lockKey = manager.lockKey(name, key);
    var token = UUID.randomUUID().toString().getBytes(StandardCharsets.US_ASCII);
    var lockTtl = manager.settings.lockTtl();
    var acquired = manager.call(store -> store.setIfAbsent(lockKey, token, lockTtl), errors);
    if (acquired.isFailed()) {
      return null;
    }
    if (Boolean.TRUE.equals(acquired.value())) {
      try {
        // the previous holder may have stored its result between our L2 miss and our lock
        var stored = readRemote(key);
        if (stored != null) {
          fillL1(key, stored, e0);
          return stored;
        }
        return loadAndStore(key, loader, tags, e0);
      } finally {
        manager.run(store -> store.deleteIfEquals(lockKey, token), errors);
      }
    }
    var deadline = System.nanoTime() + lockTtl.toNanos();
    var pause = 5L;
    while (System.nanoTime() < deadline) {
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
      pause = Math.min(50, pause * 2);
      var remote = readRemote(key);
      if (remote != null) {
        fillL1(key, remote, e0);
        return remote;
      }
      var held = manager.call(store -> store.get(lockKey) != null, errors);
      if (held.isFailed() || Boolean.FALSE.equals(held.value())) {
        var last = readRemote(key);
        if (last != null) {
          fillL1(key, last, e0);
          return last;
        }
        return null;
      }
    }
    return null;
  }

  private V load(String key, Function<String, ? extends V> loader) {
    var start = System.nanoTime();
    try {
      V value = loader.apply(key);
      var took = System.nanoTime() - start;
      loads.update(took, TimeUnit.NANOSECONDS);
      loaderReads.observe(Unit.nanosToSeconds(took));
      return value;
    } catch (RuntimeException | Error e) {
      loadFailures.mark();
      throw e;
    }
  }

  /** The entry in L2, or {@code null} on a miss, a corrupt entry or an unreachable Redis. */
  private LocalTier.Entry readRemote(String key) {
    var start = System.nanoTime();
    var result = manager.call(store -> store.get(manager.entryKey(name, key)), errors);
    l2Reads.observe(Unit.nanosToSeconds(System.nanoTime() - start));
    if (result.isFailed() || result.value() == null) {
      l2Stats.recordMisses(1);
      return null;
    }
    hooks.afterRemoteRead(key);
    var entry = decode(key, result.value());
    if (entry == null) {
      l2Stats.recordMisses(1);
    } else {
      l2Stats.recordHits(1);
    }
    return entry;
  }

  private LocalTier.Entry decode(String key, byte[] bytes) {
    var decoded = entryCodec.decode(bytes, why -> corrupt(key, why));
    return decoded == null ? null : local.entry(decoded.value(), decoded.tags());
  }

  private void corrupt(String key, String why) {
    corrupt.mark();
    // removed, so the fill after the load (which only writes where nothing is stored) replaces it
    manager.run(store -> store.delete(List.of(manager.entryKey(name, key))), errors);
    if (corruptLogged.compareAndSet(false, true)) {
      LOG.warn(
          "Cache region {}: the entry for a key in Redis could not be read ({}); treating it as a miss and "
              + "overwriting it. Further corrupt entries are only counted in ballast.cache.{}.corrupt",
          name,
          why,
          name);
    }
  }

  private void fillL1(String key, LocalTier.Entry entry, long e0) {
    local.fill(key, entry, e0);
  }

  @Override
  @SuppressWarnings("unchecked")
  public Map<String, V> getAll(
      Collection<String> keys, Function<Set<String>, Map<String, ? extends V>> bulkLoader) {
    Objects.requireNonNull(keys, "keys");
    Objects.requireNonNull(bulkLoader, "bulkLoader");
    var result = new LinkedHashMap<String, V>();
    var missing = new LinkedHashSet<String>();
    for (var key : keys) {
      requireKey(key);
      var entry = local.get(key);
      if (entry == null) {
        missing.add(key);
      } else if (entry.value() != null) {
        result.put(key, (V) entry.value());
      }
    }
    if (missing.isEmpty()) {
      return result;
    }
    var stamps = new HashMap<String, Long>();
    for (var key : missing) {
      stamps.put(key, local.stamp(key));
    }
    if (manager.remote != null) {
      var ordered = new ArrayList<>(missing);
      var qualified = ordered.stream().map(k -> manager.entryKey(name, k)).toList();
      var fetchStart = System.nanoTime();
      var fetched = manager.call(store -> store.getAll(qualified), errors);
      l2Reads.observe(Unit.nanosToSeconds(System.nanoTime() - fetchStart)); // a batch: one read
      if (fetched.isFailed()) {
        l2Stats.recordMisses(ordered.size());
      } else {
        var values = fetched.value();
        for (int i = 0; i < ordered.size(); i++) {
          var bytes = values.get(i);
          var entry = bytes == null ? null : decode(ordered.get(i), bytes);
          if (entry == null) {
            l2Stats.recordMisses(1);
            continue;
          }
          l2Stats.recordHits(1);
          fillL1(ordered.get(i), entry, stamps.get(ordered.get(i)));
          missing.remove(ordered.get(i));
          if (entry.value() != null) {
            result.put(ordered.get(i), (V) entry.value());
          }
        }
      }
    }
    if (missing.isEmpty()) {
      return result;
    }
    var start = System.nanoTime();
    Map<String, ? extends V> loaded;
    try {
      loaded = bulkLoader.apply(Set.copyOf(missing));
      var took = System.nanoTime() - start;
      loads.update(took, TimeUnit.NANOSECONDS);
      loaderReads.observe(Unit.nanosToSeconds(took)); // a batch: one load
    } catch (RuntimeException | Error e) {
      loadFailures.mark();
      throw e;
    }
    var toStore = new HashMap<String, byte[]>();
    var absent = new HashMap<String, byte[]>();
    for (var key : missing) {
      V value = loaded == null ? null : loaded.get(key);
      if (value != null) {
        result.put(key, value);
      }
      if (local.stamp(key) != stamps.get(key) || (value == null && negativeTtlNanos == 0)) {
        continue;
      }
      fillL1(key, local.entry(value, Envelope.NO_TAGS), stamps.get(key));
      if (manager.remote != null) {
        (value == null ? absent : toStore)
            .put(manager.entryKey(name, key), encodeForL2(value, Envelope.NO_TAGS));
      }
    }
    if (!toStore.isEmpty() || !absent.isEmpty()) {
      manager.run(
          store -> {
            store.setAll(toStore, ttl, List.of(), true);
            store.setAll(
                absent, Duration.ofNanos(Math.max(1_000_000, negativeTtlNanos)), List.of(), true);
          },
          errors);
    }
    return result;
  }

  // ---------------------------------------------------------------- writes

  @Override
  public void put(String key, V value, String... tags) {
    requireKey(key);
    putAll(Map.of(key, requireValue(key, value)), tags);
  }

  @Override
  public void putAll(Map<String, ? extends V> entries, String... tags) {
    Objects.requireNonNull(entries, "entries");
    var tagList = requireTags(tags);
    var encoded = new LinkedHashMap<String, byte[]>();
    for (var e : entries.entrySet()) {
      requireKey(e.getKey());
      requireValue(e.getKey(), e.getValue());
      encoded.put(manager.entryKey(name, e.getKey()), encodeForL2(e.getValue(), tagList));
    }
    for (var e : entries.entrySet()) {
      local.write(e.getKey(), local.entry(e.getValue(), tagList));
    }
    if (manager.remote == null || entries.isEmpty()) {
      return;
    }
    var indexes = tagIndexes(tagList);
    var stored = manager.run(store -> store.setAll(encoded, ttl, indexes, false), errors);
    // Other instances drop their L1 copies (one message for all the keys); if Redis missed the
    // write or the
    // message, replay an invalidation of each key later.
    if (!stored || !manager.bus.publishKeys(name, entries.keySet(), errors)) {
      for (var key : entries.keySet()) {
        manager.remember(this, Invalidation.Kind.KEY, key);
      }
    }
  }

  private List<String> tagIndexes(String[] tags) {
    if (tags.length == 0) {
      return List.of();
    }
    var indexes = new ArrayList<String>(tags.length);
    for (var tag : tags) {
      indexes.add(manager.tagKey(name, tag));
    }
    return indexes;
  }

  @Override
  public void invalidate(String key) {
    requireKey(key);
    invalidateEverywhere(Invalidation.Kind.KEY, key);
  }

  @Override
  public void invalidateTag(String tag) {
    requireTag(tag);
    invalidateEverywhere(Invalidation.Kind.TAG, tag);
  }

  @Override
  public void invalidateAll() {
    invalidateEverywhere(Invalidation.Kind.ALL, "");
  }

  /**
   * L2 first, then this instance's L1, then the other instances. In that order, a reader here that
   * misses L1 after the drop finds L2 already cleared, and a reader that read L2 before it was
   * cleared took its stamp before the drop, so its fill is refused. (L1 first would let a reader
   * refill L1 from the old L2 entry with a stamp taken after the drop.) When Redis misses the first
   * or last step, L1 is still dropped and the whole invalidation is replayed once Redis answers.
   */
  private void invalidateEverywhere(Invalidation.Kind kind, String argument) {
    var remoteDone = manager.remote == null || applyRemote(kind, argument);
    hooks.betweenInvalidationSteps(kind, argument);
    dropLocal(kind, argument);
    if (manager.remote != null
        && !(remoteDone && manager.bus.publish(kind, name, argument, errors))) {
      manager.remember(this, kind, argument);
    }
  }

  /**
   * Replays an invalidation that Redis missed: L2, then L1 again (a reader may have refilled it
   * from the old L2 entry meanwhile), then the other instances. {@code false} if Redis could not be
   * reached.
   */
  boolean replay(Invalidation.Kind kind, String argument) {
    if (!applyRemote(kind, argument)) {
      return false;
    }
    dropLocal(kind, argument);
    return manager.bus.publish(kind, name, argument, errors);
  }

  /** Applies an invalidation to L2; {@code false} if Redis could not be reached. */
  private boolean applyRemote(Invalidation.Kind kind, String argument) {
    return manager.run(
        store -> {
          switch (kind) {
            case KEY ->
                store.setAll(
                    Map.of(manager.entryKey(name, argument), Envelope.TOMBSTONE),
                    manager.tombstoneTtl(),
                    List.of(),
                    false);
            case TAG -> store.deleteIndexed(manager.tagKey(name, argument));
            case ALL -> {
              store.deleteMatching(manager.entryKey(name, "*"));
              store.deleteMatching(manager.tagKey(name, "*"));
            }
            default ->
                throw new IllegalArgumentException("not an invalidation of one region: " + kind);
          }
        },
        errors);
  }

  /** Drops L1 entries for an invalidation made here or received from another instance. */
  void dropLocal(Invalidation.Kind kind, String argument) {
    switch (kind) {
      case KEY -> local.dropKey(argument);
      case TAG -> local.dropTagged(argument);
      case ALL -> local.dropAll();
      default -> LOG.warn("Ignoring an invalidation of kind {} for region {}", kind, name);
    }
  }

  /** Removes expired L1 entries that nobody read since they expired (reads remove the others). */
  void sweepExpired() {
    local.sweepExpired();
  }

  void dropLocalAll() {
    local.dropAll();
  }

  void dropLocalMatching(Pattern regex) {
    var prefix = name + ":";
    local.dropKeys(k -> regex.matcher(prefix + k).matches());
  }

  private byte[] encodeForL2(V value, String[] tags) {
    return entryCodec.encode(value, tags);
  }

  // ---------------------------------------------------------------- checks and stats

  static void requireKey(String key) {
    if (key == null) {
      throw new NullPointerException("cache key must not be null");
    }
    if (key.isEmpty()) {
      throw new IllegalArgumentException("cache key must not be empty");
    }
    if (key.length() > MAX_KEY_LENGTH) {
      throw new IllegalArgumentException(
          "cache key must be at most " + MAX_KEY_LENGTH + " characters, but was " + key.length());
    }
  }

  private V requireValue(String key, V value) {
    if (value == null) {
      throw new NullPointerException(
          "cache value for key "
              + key
              + " in region "
              + name
              + " must not be null; "
              + "use invalidate(key) to remove an entry");
    }
    return value;
  }

  private static String[] requireTags(String[] tags) {
    if (tags == null || tags.length == 0) {
      return Envelope.NO_TAGS;
    }
    for (var tag : tags) {
      requireTag(tag);
    }
    return tags.clone();
  }

  private static void requireTag(String tag) {
    if (tag == null) {
      throw new NullPointerException("cache tag must not be null");
    }
    if (tag.isEmpty() || tag.length() > 256) {
      throw new IllegalArgumentException(
          "cache tag must be 1 to 256 characters, but was \"" + tag + "\"");
    }
  }

  @Override
  public RegionStats stats() {
    var s1 = local.stats();
    var s2 = l2Stats.snapshot();
    var load = loads.getSnapshot();
    return new RegionStats(
        name,
        s1.hitCount(),
        s1.missCount(),
        s1.evictionCount(),
        local.size(),
        s2.hitCount(),
        s2.missCount(),
        loads.getCount(),
        loadFailures.getCount(),
        load.getMean() / 1e6,
        errors.getCount(),
        corrupt.getCount());
  }

  @Override
  public String toString() {
    return "CacheRegion[" + name + "]";
  }
}
