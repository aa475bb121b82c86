package io.ballast.resilience;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs a method of a Guice-created object under a named circuit breaker and, optionally, a named
 * retry, for work that is not a jOOQ query (an HTTP call, say). Retry sits outside the breaker and
 * never retries a refused call. Breakers and retries come from the shared registries (created with
 * their defaults on first use, or configured up front through {@code CircuitBreakerRegistry} /
 * {@code RetryRegistry}), so their metrics are in the registry too. The method must not be private
 * or final, and its class must be created by Guice.
 *
 * <pre>{@code
 * @Guarded(breaker = "payments", retry = "payments")
 * public Receipt charge(Order order) { return paymentsClient.charge(order); }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Guarded {
  /** The breaker's name. */
  String breaker();

  /** The retry's name; empty for none. */
  String retry() default "";
}
