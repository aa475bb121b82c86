package io.ballast.pool;

import com.codahale.metrics.Counter;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import java.sql.SQLException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adaptive pool sizing (FlexyPool's idea, on HikariCP's own runtime settings): when a borrower
 * waited longer than {@link PoolSettings#growAfter()}, the pool grows, by the number of threads
 * waiting that long or a quarter of its size, whichever is more, up to the ceiling; after {@link
 * PoolSettings#shrinkAfter()} without such a wait, it shrinks to the most connections that were in
 * use meanwhile (never below {@code connection_limit}), closing the surplus as it comes back idle.
 * Every change is logged and counted.
 */
final class AdaptiveSizing {
  private static final Logger LOG = LoggerFactory.getLogger(AdaptiveSizing.class);
  private static final long EVICT_BORROW_MILLIS = 20;

  private final String name;
  private final int base;
  private final int ceiling;
  private final String ceilingSource;
  private final long growAfterNanos;
  private final long shrinkAfterNanos;
  private final LongSupplier clock;
  private final Counter grown;
  private final Counter shrunk;

  /** The longest wait of a borrow that finished since the last tick. */
  private final AtomicLong longestWait = new AtomicLong();

  private volatile int current;
  private long lastPressure;
  private long lastResize;
  private int peakActive;
  private ScheduledExecutorService ticker;

  AdaptiveSizing(
      String name,
      int base,
      int ceiling,
      String ceilingSource,
      PoolSettings settings,
      LongSupplier clock,
      Counter grown,
      Counter shrunk) {
    this.name = name;
    this.base = base;
    this.ceiling = Math.max(base, ceiling);
    this.ceilingSource = ceilingSource;
    this.growAfterNanos = settings.growAfter().toNanos();
    this.shrinkAfterNanos = settings.shrinkAfter().toNanos();
    this.clock = clock;
    this.grown = grown;
    this.shrunk = shrunk;
    this.current = base;
    this.lastPressure = clock.getAsLong();
    this.lastResize = lastPressure;
  }

  /**
   * The ceiling: the explicit {@code max_connection_limit}, else the largest size that keeps {@code
   * instances} pools within 80 % of {@code maxConnections} (0 when unknown: no growth).
   */
  static int ceiling(PoolSettings settings, int maxConnections) {
    if (settings.maxConnectionLimit().isPresent()) {
      return settings.maxConnectionLimit().getAsInt();
    }
    return maxConnections < 1
        ? settings.connectionLimit()
        : PoolSizing.recommendedConnectionLimit(settings.instances(), maxConnections);
  }

  int current() {
    return current;
  }

  int ceiling() {
    return ceiling;
  }

  /** A borrow finished after waiting {@code nanos}. */
  void waited(long nanos) {
    if (nanos > growAfterNanos) {
      longestWait.accumulateAndGet(nanos, Math::max);
    }
  }

  void start(HikariDataSource hikari, ManagedPool pool) {
    var period =
        Math.max(
            TimeUnit.MILLISECONDS.toNanos(10),
            Math.min(growAfterNanos / 2, TimeUnit.SECONDS.toNanos(1)));
    ticker =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              var t = new Thread(task, "ballast-" + name + ":adaptive-sizing");
              t.setDaemon(true);
              return t;
            });
    var unused =
        ticker.scheduleWithFixedDelay(
            () -> {
              try {
                tick(hikari, pool);
              } catch (RuntimeException e) {
                LOG.warn("Pool '{}': adaptive sizing failed: {}", name, e.toString());
              }
            },
            period,
            period,
            TimeUnit.NANOSECONDS);
    LOG.info(
        "Pool '{}': adaptive sizing from {} up to {} connections ({}); grows when a borrower waits"
            + " over {} ms, shrinks after {} s without",
        name,
        base,
        ceiling,
        ceilingSource,
        TimeUnit.NANOSECONDS.toMillis(growAfterNanos),
        TimeUnit.NANOSECONDS.toSeconds(shrinkAfterNanos));
  }

  void stop() {
    if (ticker != null) {
      ticker.shutdownNow();
    }
  }

  /** One look at the pool: grow, shrink, or close surplus idle connections. */
  synchronized void tick(HikariDataSource hikari, ManagedPool pool) {
    var mx = hikari.getHikariPoolMXBean();
    if (mx == null) {
      return;
    }
    var now = clock.getAsLong();
    var finished = longestWait.getAndSet(0);
    var waitingLong = pool.waitingLongerThan(growAfterNanos, now);
    var longest = Math.max(finished, pool.longestWaitNow(now));
    peakActive = Math.max(peakActive, mx.getActiveConnections());
    if (longest > growAfterNanos) {
      lastPressure = now;
      peakActive = mx.getActiveConnections(); // the quiet window's peak starts after the pressure
      if (current < ceiling) {
        var step = Math.max(1, Math.max(waitingLong, (current + 3) / 4));
        resize(hikari, Math.min(ceiling, current + step), now);
        grown.inc();
        LOG.info(
            "Pool '{}' grows to {} connections: a borrower waited {} ms (over {} ms), {} waiting;"
                + " ceiling {} ({})",
            name,
            current,
            TimeUnit.NANOSECONDS.toMillis(longest),
            TimeUnit.NANOSECONDS.toMillis(growAfterNanos),
            waitingLong,
            ceiling,
            ceilingSource);
      }
    } else if (current > base
        && now - lastPressure >= shrinkAfterNanos
        && now - lastResize >= shrinkAfterNanos) {
      var target = Math.max(base, Math.min(current, peakActive));
      if (target < current) {
        var from = current;
        resize(hikari, target, now);
        shrunk.inc();
        LOG.info(
            "Pool '{}' shrinks from {} to {} connections: no borrower waited over {} ms for {} s,"
                + " and at most {} were in use meanwhile",
            name,
            from,
            target,
            TimeUnit.NANOSECONDS.toMillis(growAfterNanos),
            TimeUnit.NANOSECONDS.toSeconds(now - lastPressure),
            peakActive);
      }
      peakActive = mx.getActiveConnections();
      lastResize = now;
    }
    evictSurplus(hikari);
  }

  private void resize(HikariDataSource hikari, int size, long now) {
    var config = hikari.getHikariConfigMXBean();
    if (size > current) {
      config.setMaximumPoolSize(size);
      config.setMinimumIdle(size);
    } else {
      config.setMinimumIdle(size);
      config.setMaximumPoolSize(size);
    }
    current = size;
    lastResize = now;
  }

  /** Closes idle connections above the current size (in-use ones on a later tick). */
  private void evictSurplus(HikariDataSource hikari) {
    var mx = hikari.getHikariPoolMXBean();
    var surplus = mx.getTotalConnections() - current;
    if (surplus <= 0 || !(mx instanceof HikariPool hikariPool)) {
      return;
    }
    for (int i = 0; i < surplus && mx.getIdleConnections() > 0; i++) {
      try {
        var c = hikariPool.getConnection(EVICT_BORROW_MILLIS);
        hikari.evictConnection(c);
      } catch (SQLException e) {
        return; // none idle right now: the next tick tries again
      }
    }
  }
}
