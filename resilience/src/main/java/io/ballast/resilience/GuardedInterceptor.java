package io.ballast.resilience;

import com.google.inject.Inject;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.github.resilience4j.retry.RetryRegistry;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;

/** Applies {@link Guarded}: Retry(CircuitBreaker(method)). */
final class GuardedInterceptor implements MethodInterceptor {
  @Inject private CircuitBreakerRegistry breakers;
  @Inject private RetryRegistry retries;

  @Override
  public Object invoke(MethodInvocation invocation) throws Throwable {
    var guarded = invocation.getMethod().getAnnotation(Guarded.class);
    CircuitBreaker breaker = breakers.circuitBreaker(guarded.breaker());
    io.github.resilience4j.core.functions.CheckedSupplier<Object> call =
        CircuitBreaker.decorateCheckedSupplier(breaker, invocation::proceed);
    if (!guarded.retry().isEmpty()) {
      Retry retry =
          retries.retry(
              guarded.retry(),
              () ->
                  RetryConfig.from(retries.getDefaultConfig())
                      .ignoreExceptions(CallNotPermittedException.class)
                      .build());
      call = Retry.decorateCheckedSupplier(retry, call);
    }
    return call.get();
  }
}
