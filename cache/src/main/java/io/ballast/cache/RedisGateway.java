package io.ballast.cache;

import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import io.ballast.core.RedisGuard;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every call the cache makes to its {@link RemoteStore} goes through here: refused while the cache
 * is not open or the {@link RedisGuard} says no, timed ({@code ballast.cache.redis.latency}), and
 * on failure counted ({@code ballast.cache.redis.errors}, and the region's own meter), told to the
 * guard and logged at most every 10 seconds. A caller gets a {@link RemoteResult}, never an
 * exception: the cache carries on from L1 and the loader. Thread-safe.
 */
final class RedisGateway {
  private static final Logger LOG = LoggerFactory.getLogger(RedisGateway.class);
  private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

  /** A call to the remote store. */
  interface Call<T> {
    T call(RemoteStore store) throws Exception;
  }

  /** A call to the remote store that returns nothing. */
  interface Action {
    void run(RemoteStore store) throws Exception;
  }

  private final RemoteStore remote; // null: L1 only
  private final RedisGuard guard;
  private final Timer latency;
  private final Meter errors;
  private final AtomicLong lastFailureLog = new AtomicLong(System.nanoTime() - LOG_EVERY_NANOS);
  private final AtomicLong failuresSinceLog = new AtomicLong();
  private volatile boolean open;
  private volatile DistributionDataPoint exportedTimes;

  RedisGateway(RemoteStore remote, RedisGuard guard, MetricRegistry metrics) {
    this.remote = remote;
    this.guard = guard;
    this.latency = metrics.timer(MetricRegistry.name("ballast", "cache", "redis", "latency"));
    this.errors = metrics.meter(MetricRegistry.name("ballast", "cache", "redis", "errors"));
  }

  /** Every successful call's time also goes to {@code times} (an exported histogram). */
  void exportTimes(DistributionDataPoint times) {
    this.exportedTimes = times;
  }

  /** Calls go through from now on (the cache started). */
  void open() {
    open = true;
  }

  /** Every call is refused from now on (the cache is stopping). */
  void close() {
    open = false;
  }

  boolean isOpen() {
    return open;
  }

  /** Whether there is a remote store at all (false: the cache runs on L1 only). */
  boolean present() {
    return remote != null;
  }

  /** The call's result; failed when Redis is off, refused by the guard, failed or timed out. */
  <T> RemoteResult<T> call(Call<T> call, Meter regionErrors) {
    if (remote == null || !open || !guard.tryAcquirePermission()) {
      return RemoteResult.failure();
    }
    var start = System.nanoTime();
    try {
      var result = call.call(remote);
      var took = System.nanoTime() - start;
      guard.onSuccess(took);
      latency.update(took, TimeUnit.NANOSECONDS);
      var times = exportedTimes;
      if (times != null) {
        times.observe(Unit.nanosToSeconds(took));
      }
      return RemoteResult.of(result);
    } catch (Exception e) {
      guard.onError(System.nanoTime() - start, e);
      errors.mark();
      if (regionErrors != null) {
        regionErrors.mark();
      }
      logFailure(e);
      return RemoteResult.failure();
    }
  }

  /** {@link #call} for an action; {@code true} if it reached Redis. */
  boolean run(Action action, Meter regionErrors) {
    return call(
            store -> {
              action.run(store);
              return Boolean.TRUE;
            },
            regionErrors)
        .ok();
  }

  private void logFailure(Exception e) {
    failuresSinceLog.incrementAndGet();
    var last = lastFailureLog.get();
    var now = System.nanoTime();
    if (now - last >= LOG_EVERY_NANOS && lastFailureLog.compareAndSet(last, now)) {
      LOG.warn(
          "Redis call failed: {} ({} failures since the last report); serving from L1 and loaders",
          RedisStore.rootMessage(e),
          failuresSinceLog.getAndSet(0));
    }
  }
}
