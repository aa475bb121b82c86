package io.ballast.resilience;

import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowSynchronizationStrategy;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.SlidingWindowType;
import java.time.Duration;

/** The breaker shape Ballast's database and Redis breakers share. */
final class Breakers {
  private Breakers() {}

  /**
   * A breaker that opens after {@code failures} counted failures in a row (a count window of that
   * size, all failed), stays open for {@code open}, and lets {@code trials} calls through to
   * decide. Lock-free: every call records an outcome, and the default window takes a lock per
   * record.
   */
  static CircuitBreakerConfig.Builder consecutiveFailures(int failures, Duration open, int trials) {
    return CircuitBreakerConfig.custom()
        .slidingWindowType(SlidingWindowType.COUNT_BASED)
        .slidingWindowSynchronizationStrategy(SlidingWindowSynchronizationStrategy.LOCK_FREE)
        .slidingWindowSize(failures)
        .minimumNumberOfCalls(failures)
        .failureRateThreshold(100)
        .waitDurationInOpenState(open)
        .permittedNumberOfCallsInHalfOpenState(trials)
        .writableStackTraceEnabled(false);
  }
}
