package io.ballast.resilience;

import com.codahale.metrics.MetricRegistry;
import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.matcher.Matchers;
import com.google.inject.multibindings.ProvidesIntoSet;
import io.ballast.core.Extensions;
import io.ballast.core.ListenerStage;
import io.ballast.core.ProbeCheck;
import io.ballast.core.ProbeKind;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.metrics.publisher.BulkheadMetricsPublisher;
import io.github.resilience4j.metrics.publisher.CircuitBreakerMetricsPublisher;
import io.github.resilience4j.metrics.publisher.RetryMetricsPublisher;
import io.github.resilience4j.retry.RetryConfig;
import io.github.resilience4j.retry.RetryRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Objects;
import org.jooq.ExecuteListenerProvider;
import org.jooq.TransactionListenerProvider;

/**
 * Circuit breakers, transaction retry and a bulkhead for the database, and a breaker for Redis,
 * with Resilience4j.
 *
 * <p>Bindings:
 *
 * <ul>
 *   <li>a jOOQ execute listener and transaction listener (the database breaker {@code db} and, when
 *       enabled, the bulkhead {@code db}) added to core's {@code Configuration}, ahead of the query
 *       monitor;
 *   <li>{@link Transactions}: transactions retried whole on {@code 40001} / {@code 40P01} /
 *       connection loss before commit;
 *   <li>{@code RedisGuard}: the breaker {@code redis}, which the cache module uses in place of its
 *       own guard;
 *   <li>a READY check {@code db.breaker} (DOWN while open); the Redis breaker's state shows in the
 *       cache module's READY check {@code cache} ({@code guard}: DEGRADED while open), so an
 *       application without a cache has no Redis check in its readiness;
 *   <li>{@code CircuitBreakerRegistry}, {@code RetryRegistry}, {@code BulkheadRegistry}, publishing
 *       every breaker, retry and bulkhead to the metric registry under {@code
 *       ballast.resilience.…};
 *   <li>method interception for {@link Guarded}.
 * </ul>
 *
 * Nothing here does I/O; the module can be installed with or without the cache module.
 */
public final class ResilienceModule extends AbstractModule {
  private final ResilienceSettings settings;

  /** The module, with {@code settings}. */
  public ResilienceModule(ResilienceSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  @Override
  protected void configure() {
    bind(ResilienceSettings.class).toInstance(settings);
    bind(DatabaseGuard.class);
    bind(Transactions.class);
    Extensions.redisGuard(binder()).setBinding().to(RedisBreakerGuard.class);
    var interceptor = new GuardedInterceptor();
    requestInjection(interceptor);
    bindInterceptor(Matchers.any(), Matchers.annotatedWith(Guarded.class), interceptor);
  }

  @Provides
  @Singleton
  CircuitBreakerRegistry breakers(MetricRegistry metrics, PrometheusRegistry prometheus) {
    var breakers =
        CircuitBreakerRegistry.of(
            CircuitBreakerConfig.ofDefaults(),
            new CircuitBreakerMetricsPublisher("ballast.resilience.breaker", metrics));
    ResilienceMetrics.breakers(breakers, prometheus);
    return breakers;
  }

  @Provides
  @Singleton
  RetryRegistry retries(MetricRegistry metrics, PrometheusRegistry prometheus) {
    // a retry never retries a call its breaker refused (the known ordering pitfall)
    var retries =
        RetryRegistry.of(
            RetryConfig.custom()
                .ignoreExceptions(
                    CallNotPermittedException.class, DatabaseUnavailableException.class)
                .build(),
            new RetryMetricsPublisher("ballast.resilience.retry", metrics));
    ResilienceMetrics.retries(retries, prometheus);
    return retries;
  }

  @Provides
  @Singleton
  BulkheadRegistry bulkheads(MetricRegistry metrics, PrometheusRegistry prometheus) {
    var bulkheads =
        BulkheadRegistry.of(
            BulkheadConfig.ofDefaults(),
            new BulkheadMetricsPublisher("ballast.resilience.bulkhead", metrics));
    ResilienceMetrics.bulkheads(bulkheads, prometheus);
    return bulkheads;
  }

  @ProvidesIntoSet
  ExecuteListenerProvider breakerListener(DatabaseGuard guard) {
    return ListenerStage.BREAKER.execute(() -> guard);
  }

  @ProvidesIntoSet
  TransactionListenerProvider breakerTransactionListener(DatabaseGuard guard) {
    return ListenerStage.BREAKER.transaction(() -> guard);
  }

  @ProvidesIntoSet
  ProbeCheck databaseBreakerCheck(DatabaseGuard guard) {
    return ProbeCheck.of("db.breaker", ProbeKind.READY, () -> BreakerChecks.database(guard));
  }
}
