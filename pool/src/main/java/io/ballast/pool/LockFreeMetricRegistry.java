package io.ballast.pool;

import com.codahale.metrics.Histogram;
import com.codahale.metrics.LockFreeExponentiallyDecayingReservoir;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;

/**
 * The registry HikariCP records into. HikariCP updates its {@code Wait} timer and {@code Usage}
 * histogram on every borrow and return; with the default {@code ExponentiallyDecayingReservoir}
 * each update takes a lock, which threads borrowing at once contend on. This registry hands out
 * lock-free reservoirs with the same statistics instead.
 */
final class LockFreeMetricRegistry extends MetricRegistry {
  @Override
  public Timer timer(String name) {
    return timer(name, () -> new Timer(LockFreeExponentiallyDecayingReservoir.builder().build()));
  }

  @Override
  public Histogram histogram(String name) {
    return histogram(
        name, () -> new Histogram(LockFreeExponentiallyDecayingReservoir.builder().build()));
  }
}
