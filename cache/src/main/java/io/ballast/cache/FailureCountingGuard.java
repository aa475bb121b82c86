package io.ballast.cache;

import com.google.inject.Inject;
import io.ballast.core.RedisGuard;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cache's own {@link RedisGuard}: after {@code guardFailureThreshold} consecutive failed or
 * timed-out calls it refuses calls for {@code guardOpenDuration}, then lets one probe call through;
 * the probe's success closes it, its failure opens it again. The resilience module replaces it with
 * a circuit breaker.
 */
final class FailureCountingGuard implements RedisGuard {
  private static final Logger LOG = LoggerFactory.getLogger(FailureCountingGuard.class);

  private final int threshold;
  private final long openNanos;
  private final AtomicInteger failures = new AtomicInteger();
  private final AtomicBoolean probing = new AtomicBoolean();
  private volatile long openUntil; // 0 = closed

  @Inject
  FailureCountingGuard(CacheSettings settings) {
    this.threshold = settings.guardFailureThreshold();
    this.openNanos = settings.guardOpenDuration().toNanos();
  }

  @Override
  public boolean tryAcquirePermission() {
    var until = openUntil;
    if (until == 0) {
      return true;
    }
    if (System.nanoTime() - until < 0) {
      return false;
    }
    return probing.compareAndSet(false, true);
  }

  @Override
  public void onSuccess(long nanos) {
    failures.set(0);
    if (openUntil != 0) {
      openUntil = 0;
      probing.set(false);
      LOG.info("Redis answers again: the cache uses it again");
    }
  }

  @Override
  public void onError(long nanos, Throwable error) {
    if (probing.compareAndSet(true, false)) {
      openUntil = open();
      return;
    }
    if (failures.incrementAndGet() >= threshold && openUntil == 0) {
      openUntil = open();
      LOG.warn(
          "Redis failed {} times in a row (last: {}); the cache stops calling it for {} ms and works from L1 "
              + "and loaders",
          threshold,
          RedisStore.rootMessage(error),
          TimeUnit.NANOSECONDS.toMillis(openNanos));
    }
  }

  private long open() {
    var until = System.nanoTime() + openNanos;
    return until == 0 ? 1 : until;
  }

  /**
   * Open while it refuses calls; once its open time is over (half-open) it lets a probe through.
   */
  @Override
  public boolean isOpen() {
    return openUntil != 0;
  }

  @Override
  public String state() {
    var until = openUntil;
    if (until == 0) {
      return "CLOSED";
    }
    return System.nanoTime() - until < 0 ? "OPEN" : "HALF_OPEN";
  }

  @Override
  public String toString() {
    return "FailureCountingGuard[" + state() + ", threshold=" + threshold + "]";
  }
}
