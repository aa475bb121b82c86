package io.ballast.cache;

import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The cache's exported series, labelled {@code region} and {@code level} ({@code l1}, {@code l2},
 * {@code load}): read latency per level as histograms, hits and misses as counters, and Redis's
 * state. An L1 read takes nanoseconds, less than reading the clock twice: its latency is sampled,
 * the reads of one key in {@value #L1_SAMPLE} (by its hash, a different set of keys after every
 * heartbeat), which costs the hit path an addition and a comparison where a random draw per read
 * cost 4 to 13 ns; L2 reads and loads are all timed. Counts of reads come from the hit and miss
 * counters, never from the sampled histogram's {@code _count}.
 */
final class CacheMetrics {
  /** The reads of one key in this many (a power of two) are timed. */
  static final int L1_SAMPLE = 64;

  private final AtomicInteger salt = new AtomicInteger();

  private static final double[] BUCKETS = {
    0.000001, 0.000005, 0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
  };

  final Histogram reads =
      Histogram.builder()
          .name("ballast_cache_read_seconds")
          .help(
              "Cache read time by region and level: l1 (sampled: the reads of one key in "
                  + L1_SAMPLE
                  + "), l2 (Redis) and load (the loader, on a miss of both)")
          .unit(Unit.SECONDS)
          .labelNames("region", "level")
          .classicOnly()
          .classicUpperBounds(BUCKETS)
          .build();
  final Histogram redisCommands =
      Histogram.builder()
          .name("ballast_cache_redis_command_seconds")
          .help("Time of each call to Redis that returned (errors are counted apart)")
          .unit(Unit.SECONDS)
          .classicOnly()
          .classicUpperBounds(BUCKETS)
          .build();
  final Histogram invalidationDelay =
      Histogram.builder()
          .name("ballast_cache_invalidation_delay_seconds")
          .help("Time from an invalidation's publication to its arrival at this instance")
          .unit(Unit.SECONDS)
          .classicOnly()
          .classicUpperBounds(BUCKETS)
          .build();

  /** Whether this L1 read of {@code key} is one of the timed ones. */
  boolean sampleL1(String key) {
    return ((key.hashCode() + salt.get()) & (L1_SAMPLE - 1)) == 0;
  }

  /** Another set of keys is timed from now on (the cache's heartbeat calls this). */
  void rotateSample() {
    salt.incrementAndGet();
  }

  DistributionDataPoint reads(String region, String level) {
    return reads.labelValues(region, level);
  }

  /**
   * Registers every series in {@code registry}: the histograms, and the figures of {@code regions}
   * and of Redis read at scrape time.
   */
  void register(
      PrometheusRegistry registry,
      Supplier<Iterable<TwoLevelRegion<?>>> regions,
      Supplier<Boolean> redisAvailable,
      Supplier<Integer> pendingInvalidations,
      Supplier<Long> redisErrors) {
    registry.register(reads);
    registry.register(redisCommands);
    registry.register(invalidationDelay);
    CounterWithCallback.builder()
        .name("ballast_cache_requests_total")
        .help("Reads by region, level (l1, l2) and result (hit, miss)")
        .labelNames("region", "level", "result")
        .callback(
            cb ->
                regions
                    .get()
                    .forEach(
                        r -> {
                          var s = r.stats();
                          cb.call((double) s.l1Hits(), r.name(), "l1", "hit");
                          cb.call((double) s.l1Misses(), r.name(), "l1", "miss");
                          cb.call((double) s.l2Hits(), r.name(), "l2", "hit");
                          cb.call((double) s.l2Misses(), r.name(), "l2", "miss");
                        }))
        .register(registry);
    GaugeWithCallback.builder()
        .name("ballast_cache_hit_ratio")
        .help(
            "Hits over reads since start, 0 to 1, by region and level (l1, l2, and all: either"
                + " level); 1 before the first read")
        .labelNames("region", "level")
        .callback(
            cb ->
                regions
                    .get()
                    .forEach(
                        r -> {
                          var s = r.stats();
                          cb.call(s.l1HitRatio(), r.name(), "l1");
                          cb.call(s.l2HitRatio(), r.name(), "l2");
                          cb.call(s.hitRatio(), r.name(), "all");
                        }))
        .register(registry);
    gauge(registry, regions, "ballast_cache_l1_entries", "Entries in L1 now", s -> s.l1Size());
    counter(
        registry,
        regions,
        "ballast_cache_l1_evictions_total",
        "Entries L1 evicted for size or age",
        RegionStats::l1Evictions);
    counter(
        registry,
        regions,
        "ballast_cache_loads_total",
        "Loader calls that returned a value",
        RegionStats::loads);
    counter(
        registry,
        regions,
        "ballast_cache_load_failures_total",
        "Loader calls that threw",
        RegionStats::loadFailures);
    counter(
        registry,
        regions,
        "ballast_cache_corrupt_entries_total",
        "Entries in Redis the codec could not read (treated as misses and overwritten)",
        RegionStats::corrupt);
    GaugeWithCallback.builder()
        .name("ballast_cache_redis_up")
        .help("1 when Redis is reachable and the cache's breaker lets calls through, else 0")
        .callback(cb -> cb.call(redisAvailable.get() ? 1 : 0))
        .register(registry);
    GaugeWithCallback.builder()
        .name("ballast_cache_invalidations_pending")
        .help("Invalidations waiting for Redis to come back, to be published then")
        .callback(cb -> cb.call(pendingInvalidations.get()))
        .register(registry);
    CounterWithCallback.builder()
        .name("ballast_cache_redis_errors_total")
        .help("Calls to Redis that failed or timed out, every region and the invalidation bus")
        .callback(cb -> cb.call((double) redisErrors.get()))
        .register(registry);
  }

  private static void gauge(
      PrometheusRegistry registry,
      Supplier<Iterable<TwoLevelRegion<?>>> regions,
      String name,
      String help,
      Function<RegionStats, Long> value) {
    GaugeWithCallback.builder()
        .name(name)
        .help(help)
        .labelNames("region")
        .callback(
            cb -> regions.get().forEach(r -> cb.call((double) value.apply(r.stats()), r.name())))
        .register(registry);
  }

  private static void counter(
      PrometheusRegistry registry,
      Supplier<Iterable<TwoLevelRegion<?>>> regions,
      String name,
      String help,
      Function<RegionStats, Long> value) {
    CounterWithCallback.builder()
        .name(name)
        .help(help)
        .labelNames("region")
        .callback(
            cb -> regions.get().forEach(r -> cb.call((double) value.apply(r.stats()), r.name())))
        .register(registry);
  }
}
