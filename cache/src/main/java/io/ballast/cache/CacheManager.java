package io.ballast.cache;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.google.inject.Inject;
import com.google.inject.Singleton;
import io.ballast.core.Managed;
import io.ballast.core.RedisGuard;
import io.ballast.core.settings.Checks;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Caches} of both modules: the regions, counters, and invalidations waiting to be
 * replayed after an outage. Calls to the {@link RemoteStore} go through the {@link RedisGateway};
 * other instances' invalidations arrive through the {@link InvalidationBus}. Starts in phase {@link
 * Managed#PHASE_CACHE}.
 */
@Singleton
final class CacheManager implements Caches, Managed {
  private static final Logger LOG = LoggerFactory.getLogger(CacheManager.class);
  private static final AtomicInteger THREADS = new AtomicInteger();

  final CacheSettings settings;
  final RemoteStore remote; // null: L1 only
  final RedisGuard guard;
  final MetricRegistry metrics;
  final RedisGateway gateway;
  final InvalidationBus bus;
  final CacheMetrics exports = new CacheMetrics();
  private final Map<String, TwoLevelRegion<?>> regions = new LinkedHashMap<>();
  private final Cache<String, Counter> localCounters;
  private final ReplayQueue pending = new ReplayQueue();
  private static final long SWEEP_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);
  private long lastSweep = System.nanoTime();
  private ScheduledExecutorService scheduler;

  @Inject
  CacheManager(
      CacheSettings settings,
      Optional<RemoteStore> remote,
      RedisGuard guard,
      MetricRegistry metrics,
      PrometheusRegistry prometheus) {
    this.settings = settings;
    this.remote = remote.orElse(null);
    this.guard = guard;
    this.metrics = metrics;
    this.gateway = new RedisGateway(this.remote, guard, metrics);
    this.bus =
        new InvalidationBus(
            this.remote,
            gateway,
            settings.namespace() + "invalidations",
            settings.degradedTtl(),
            Clock.systemUTC(),
            metrics,
            () -> !gateway.isOpen());
    gateway.exportTimes(exports.redisCommands);
    bus.exportDelays(exports.invalidationDelay);
    exports.register(
        prometheus,
        () -> {
          synchronized (regions) {
            return List.copyOf(regions.values());
          }
        },
        this::redisAvailable,
        pending::size,
        () -> metrics.meter(MetricRegistry.name("ballast", "cache", "redis", "errors")).getCount());
    metrics.gauge(
        MetricRegistry.name("ballast", "cache", "redis", "available"),
        () -> () -> redisAvailable() ? 1 : 0);
    metrics.gauge(
        MetricRegistry.name("ballast", "cache", "invalidation", "pending"),
        () -> (Gauge<Integer>) pending::size);
    this.localCounters =
        Caffeine.newBuilder()
            .maximumSize(100_000)
            .expireAfter(
                new Expiry<String, Counter>() {
                  @Override
                  public long expireAfterCreate(String key, Counter value, long currentTime) {
                    return value.ttlNanos;
                  }

                  @Override
                  public long expireAfterUpdate(
                      String key, Counter value, long currentTime, long currentDuration) {
                    return currentDuration;
                  }

                  @Override
                  public long expireAfterRead(
                      String key, Counter value, long currentTime, long currentDuration) {
                    return currentDuration;
                  }
                })
            .build();
  }

  @Override
  public String name() {
    return "cache";
  }

  @Override
  public int phase() {
    return PHASE_CACHE;
  }

  @Override
  public void start() {
    scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              var t = new Thread(r, "ballast-cache-" + THREADS.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    var every = settings.heartbeat().toMillis();
    var unused =
        scheduler.scheduleWithFixedDelay(this::maintain, every, every, TimeUnit.MILLISECONDS);
    if (remote != null) {
      bus.subscribe(new Receiver());
      remote.open();
      LOG.info(
          "Cache started: L1 + Redis {} (namespace {}, command timeout {}, degraded TTL {})",
          settings.maskedRedisUrl(),
          settings.namespace(),
          Checks.human(settings.commandTimeout()),
          Checks.human(settings.degradedTtl()));
    } else {
      LOG.info("Cache started: L1 only{}", settings.redisEnabled() ? "" : " (REDIS_ENABLED=false)");
    }
    gateway.open();
  }

  @Override
  public void stop(Duration grace) {
    gateway.close();
    if (remote != null) {
      remote.close();
    }
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
  }

  // ---------------------------------------------------------------- regions

  @Override
  public <V> CacheRegion<V> region(RegionSettings<V> regionSettings) {
    Objects.requireNonNull(regionSettings, "settings");
    synchronized (regions) {
      if (regions.containsKey(regionSettings.name())) {
        throw new IllegalArgumentException(
            "A cache region named "
                + regionSettings.name()
                + " already exists ("
                + regions.get(regionSettings.name()).settings()
                + ")");
      }
      var region = new TwoLevelRegion<>(this, regionSettings);
      regions.put(region.name(), region);
      return region;
    }
  }

  @Override
  public Optional<CacheRegion<?>> find(String name) {
    synchronized (regions) {
      return Optional.ofNullable(regions.get(name));
    }
  }

  @Override
  public Collection<CacheRegion<?>> regions() {
    synchronized (regions) {
      return new ArrayList<>(regions.values());
    }
  }

  private TwoLevelRegion<?> region(String name) {
    synchronized (regions) {
      return regions.get(name);
    }
  }

  private Collection<TwoLevelRegion<?>> allRegions() {
    synchronized (regions) {
      return new ArrayList<>(regions.values());
    }
  }

  @Override
  public boolean twoLevel() {
    return remote != null;
  }

  @Override
  public boolean redisAvailable() {
    return remote != null
        && gateway.isOpen()
        && bus.synced()
        && !guard.isOpen()
        && remote.connected();
  }

  /**
   * How long an invalidated key stays marked in Redis, so a load that began before the invalidation
   * cannot write the old value back: longer than a slow load's round trip, short enough to cost
   * nothing.
   */
  Duration tombstoneTtl() {
    var twice = settings.commandTimeout().multipliedBy(4);
    return twice.compareTo(Duration.ofSeconds(2)) > 0 ? twice : Duration.ofSeconds(2);
  }

  long degradedTtlNanos() {
    return settings.degradedTtl().toNanos();
  }

  // ---------------------------------------------------------------- calls to the remote store

  /** A call through the {@link RedisGateway}. */
  <T> RemoteResult<T> call(RedisGateway.Call<T> call, Meter regionErrors) {
    return gateway.call(call, regionErrors);
  }

  /** An action through the {@link RedisGateway}; {@code true} if it reached Redis. */
  boolean run(RedisGateway.Action action, Meter regionErrors) {
    return gateway.run(action, regionErrors);
  }

  String entryKey(String region, String key) {
    return settings.namespace() + "c:" + region + ":" + key;
  }

  String tagKey(String region, String tag) {
    return settings.namespace() + "t:" + region + ":" + tag;
  }

  String lockKey(String region, String key) {
    return settings.namespace() + "l:" + region + ":" + key;
  }

  // ---------------------------------------------------------------- invalidations

  /** An invalidation that could not reach Redis, replayed (L2, L1, the others) once it answers. */
  void remember(TwoLevelRegion<?> region, Invalidation.Kind kind, String argument) {
    pending.add(region, kind, argument);
  }

  /**
   * Runs every heartbeat: sweeps expired L1 entries (every 30 s); while the guard refuses calls,
   * offers it a probe (so Redis is found again without waiting for traffic); otherwise replays
   * invalidations that could not reach Redis.
   */
  private void maintain() {
    exports.rotateSample();
    try {
      var now = System.nanoTime();
      if (now - lastSweep > SWEEP_EVERY_NANOS) {
        lastSweep = now;
        allRegions().forEach(TwoLevelRegion::sweepExpired);
      }
      if (remote == null) {
        return;
      }
      if (guard.isOpen()) {
        call(
            store -> {
              store.ping();
              return null;
            },
            null);
      } else if (!pending.isEmpty()) {
        replayPending();
      }
    } catch (RuntimeException e) {
      LOG.warn("Cache maintenance failed; it runs again at the next heartbeat", e);
    }
  }

  private void replayPending() {
    if (guard.isOpen()) {
      return; // maintain() retries once the guard lets calls through; refusals are not failed
      // attempts
    }
    pending.replay(
        item ->
            item.region() == null
                ? replayPattern(item.argument())
                : item.region().replay(item.kind(), item.argument()),
        settings.maxRetries());
  }

  private void schedule(Runnable task, Duration delay) {
    var s = scheduler;
    if (s != null && !s.isShutdown()) {
      var unused = s.schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  int pendingInvalidations() {
    return pending.size();
  }

  /** Applies other instances' invalidations to this instance's regions. */
  private final class Receiver implements InvalidationBus.Receiver {
    @Override
    public void apply(Invalidation invalidation) {
      switch (invalidation.kind()) {
        case PATTERN -> {
          var regex = RedisGlob.toRegex(invalidation.argument());
          allRegions().forEach(r -> r.dropLocalMatching(regex));
        }
        case KEYS -> {
          var region = region(invalidation.region());
          if (region != null) {
            Invalidation.decodeKeys(invalidation.argument())
                .forEach(k -> region.dropLocal(Invalidation.Kind.KEY, k));
          }
        }
        default -> {
          var region = region(invalidation.region());
          if (region != null) {
            region.dropLocal(invalidation.kind(), invalidation.argument());
          }
        }
      }
    }

    @Override
    public void resync() {
      allRegions().forEach(TwoLevelRegion::dropLocalAll);
    }

    @Override
    public void synced() {
      schedule(CacheManager.this::replayPending, Duration.ZERO);
    }
  }

  // ---------------------------------------------------------------- region-independent helpers

  @Override
  public long increment(String key, long delta, Duration ttl) {
    TwoLevelRegion.requireKey(key);
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl must be positive, but was " + ttl);
    }
    var counterKey = settings.namespace() + "n:" + key;
    var result = call(store -> store.increment(counterKey, delta, ttl), null);
    if (result.ok()) {
      return result.value();
    }
    return localCounters.get(key, k -> new Counter(ttl.toNanos())).value.addAndGet(delta);
  }

  @Override
  public long deleteByPattern(String pattern) {
    Objects.requireNonNull(pattern, "pattern");
    if (pattern.isEmpty()) {
      throw new IllegalArgumentException("pattern must not be empty");
    }
    var regex = RedisGlob.toRegex(pattern);
    if (remote == null) {
      allRegions().forEach(r -> r.dropLocalMatching(regex));
      return 0;
    }
    // L2 first, then L1, then the others: the same order as a region's invalidations, for the same
    // reason
    var deleted = call(store -> store.deleteMatching(settings.namespace() + "c:" + pattern), null);
    allRegions().forEach(r -> r.dropLocalMatching(regex));
    if (deleted.isFailed() || !bus.publish(Invalidation.Kind.PATTERN, "*", pattern, null)) {
      pending.add(null, Invalidation.Kind.PATTERN, pattern);
    }
    return deleted.ok() ? deleted.value() : 0;
  }

  private boolean replayPattern(String pattern) {
    if (call(store -> store.deleteMatching(settings.namespace() + "c:" + pattern), null)
        .isFailed()) {
      return false;
    }
    var regex = RedisGlob.toRegex(pattern);
    allRegions().forEach(r -> r.dropLocalMatching(regex));
    return bus.publish(Invalidation.Kind.PATTERN, "*", pattern, null);
  }

  private static final class Counter {
    final AtomicLong value = new AtomicLong();
    final long ttlNanos;

    Counter(long ttlNanos) {
      this.ttlNanos = ttlNanos;
    }
  }

  @Override
  public String toString() {
    return "Caches["
        + (remote == null ? "L1 only" : "L1 + " + remote)
        + ", regions="
        + regions.keySet()
        + "]";
  }
}
