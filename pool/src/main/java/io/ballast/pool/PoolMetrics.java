package io.ballast.pool;

import com.zaxxer.hikari.metrics.IMetricsTracker;
import com.zaxxer.hikari.metrics.MetricsTrackerFactory;
import com.zaxxer.hikari.metrics.PoolStats;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The pools' exported series, labelled {@code pool} (the primary's name, or a replica's):
 * HikariCP's own measurements (acquisition, usage and creation times, acquisition timeouts)
 * recorded into the Prometheus client's histograms by a tracker that also feeds HikariCP's
 * Dropwizard one, and the pools' state read at scrape time. One per injector; every {@link
 * ManagedPool} of it reports here while it runs.
 */
final class PoolMetrics {
  private static final double[] WAIT_BUCKETS = {
    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
  };
  private static final double[] HELD_BUCKETS = {
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
  };

  private final Set<ManagedPool> pools = ConcurrentHashMap.newKeySet();
  private final Histogram acquire =
      Histogram.builder()
          .name("ballast_pool_acquire_seconds")
          .help("Time to borrow a connection from the pool (HikariCP's acquisition time)")
          .unit(Unit.SECONDS)
          .labelNames("pool")
          .classicOnly()
          .classicUpperBounds(WAIT_BUCKETS)
          .build();
  private final Histogram usage =
      Histogram.builder()
          .name("ballast_pool_connection_usage_seconds")
          .help("Time a borrowed connection was held before it came back to the pool")
          .unit(Unit.SECONDS)
          .labelNames("pool")
          .classicOnly()
          .classicUpperBounds(HELD_BUCKETS)
          .build();
  private final Histogram creation =
      Histogram.builder()
          .name("ballast_pool_connection_creation_seconds")
          .help("Time to open a new server connection")
          .unit(Unit.SECONDS)
          .labelNames("pool")
          .classicOnly()
          .classicUpperBounds(WAIT_BUCKETS)
          .build();
  private final Counter timeouts =
      Counter.builder()
          .name("ballast_pool_acquire_timeouts_total")
          .help(
              "Borrowers that gave up after the pool timeout (DB_POOL_TIMEOUT_SECONDS) with no connection")
          .labelNames("pool")
          .build();

  /** Registers every series in {@code registry}; without it the pools still record, unexported. */
  PoolMetrics register(PrometheusRegistry registry) {
    registry.register(acquire);
    registry.register(usage);
    registry.register(creation);
    registry.register(timeouts);
    GaugeWithCallback.builder()
        .name("ballast_pool_connections")
        .help("Connections of the pool by state: active (lent out) or idle")
        .labelNames("pool", "state")
        .callback(
            cb ->
                pools.forEach(
                    p -> {
                      var s = p.snapshot();
                      cb.call(s.active(), p.name(), "active");
                      cb.call(s.idle(), p.name(), "idle");
                    }))
        .register(registry);
    GaugeWithCallback.builder()
        .name("ballast_pool_max_connections")
        .help("The pool's current limit (DB_CONNECTION_LIMIT, or where adaptive sizing has set it)")
        .labelNames("pool")
        .callback(cb -> pools.forEach(p -> cb.call(p.snapshot().max(), p.name())))
        .register(registry);
    GaugeWithCallback.builder()
        .name("ballast_pool_pending_threads")
        .help("Threads waiting for a connection")
        .labelNames("pool")
        .callback(cb -> pools.forEach(p -> cb.call(p.snapshot().waiting(), p.name())))
        .register(registry);
    GaugeWithCallback.builder()
        .name("ballast_pool_utilisation_ratio")
        .help("Active connections over the pool's current limit, 0 to 1")
        .labelNames("pool")
        .callback(
            cb -> pools.forEach(p -> cb.call(p.snapshot().utilisationPercent() / 100, p.name())))
        .register(registry);
    CounterWithCallback.builder()
        .name("ballast_pool_dirty_evictions_total")
        .help(
            "Connections evicted because they came back inside a transaction or with session state")
        .labelNames("pool")
        .callback(cb -> pools.forEach(p -> cb.call((double) p.dirtyEvictions(), p.name())))
        .register(registry);
    CounterWithCallback.builder()
        .name("ballast_pool_resizes_total")
        .help("Adaptive sizing's changes of the pool's limit, by direction (grow or shrink)")
        .labelNames("pool", "direction")
        .callback(
            cb ->
                pools.forEach(
                    p -> {
                      var r = p.resizes(); // null: a fixed-size pool, which never resizes
                      cb.call(r == null ? 0 : (double) r[0], p.name(), "grow");
                      cb.call(r == null ? 0 : (double) r[1], p.name(), "shrink");
                    }))
        .register(registry);
    return this;
  }

  void add(ManagedPool pool) {
    pools.add(pool);
  }

  void remove(ManagedPool pool) {
    pools.remove(pool);
  }

  /**
   * HikariCP's tracker for {@code pool}: records into these histograms, then into {@code
   * dropwizard} (HikariCP's own Dropwizard tracker, which the pool reads too).
   */
  MetricsTrackerFactory trackers(String pool, MetricsTrackerFactory dropwizard) {
    var acquired = acquire.labelValues(pool);
    var used = usage.labelValues(pool);
    var created = creation.labelValues(pool);
    var timedOut = timeouts.labelValues(pool);
    return (String poolName, PoolStats stats) -> {
      var inner = dropwizard.create(poolName, stats);
      return new IMetricsTracker() {
        @Override
        public void recordConnectionCreatedMillis(long millis) {
          created.observe(millis / 1e3);
          inner.recordConnectionCreatedMillis(millis);
        }

        @Override
        public void recordConnectionAcquiredNanos(long nanos) {
          acquired.observe(nanos / 1e9);
          inner.recordConnectionAcquiredNanos(nanos);
        }

        @Override
        public void recordConnectionUsageMillis(long millis) {
          used.observe(millis / 1e3);
          inner.recordConnectionUsageMillis(millis);
        }

        @Override
        public void recordConnectionTimeout() {
          timedOut.inc();
          inner.recordConnectionTimeout();
        }

        @Override
        public void close() {
          inner.close();
        }
      };
    };
  }
}
