package io.ballast.resilience;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import io.ballast.core.RedisGuard;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import java.util.concurrent.TimeUnit;

/**
 * The cache's {@link RedisGuard} as a Resilience4j circuit breaker named {@code redis}: opens after
 * {@code BALLAST_REDIS_BREAKER_FAILURES} failed or timed-out Redis calls in a row, lets one trial
 * call through after {@code BALLAST_REDIS_BREAKER_OPEN_SECONDS}. While it is open the cache runs on
 * L1 and loaders without calling Redis.
 */
@Singleton
final class RedisBreakerGuard implements RedisGuard {
  static final String BREAKER = "redis";

  private final CircuitBreaker breaker;

  @Inject
  RedisBreakerGuard(ResilienceSettings settings, CircuitBreakerRegistry breakers) {
    this.breaker =
        breakers.circuitBreaker(
            BREAKER,
            Breakers.consecutiveFailures(
                    settings.redisFailureThreshold(), settings.redisOpenDuration(), 1)
                .build());
  }

  CircuitBreaker breaker() {
    return breaker;
  }

  @Override
  public boolean tryAcquirePermission() {
    return breaker.tryAcquirePermission();
  }

  @Override
  public void onSuccess(long nanos) {
    breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void onError(long nanos, Throwable error) {
    breaker.onError(nanos, TimeUnit.NANOSECONDS, error);
  }

  @Override
  public boolean isOpen() {
    var state = breaker.getState();
    return state == CircuitBreaker.State.OPEN
        || state == CircuitBreaker.State.HALF_OPEN
        || state == CircuitBreaker.State.FORCED_OPEN;
  }

  @Override
  public String state() {
    return breaker.getState().name();
  }
}
