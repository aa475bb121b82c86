package io.ballast.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.inject.AbstractModule;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.HealthRegistry;
import io.ballast.core.ProbeKind;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.testkit.PostgresExtension;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.retry.RetryConfig;
import io.github.resilience4j.retry.RetryRegistry;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class BulkheadAndGuardedTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  static Ballast start(ResilienceSettings settings, com.google.inject.Module... more) {
    var modules =
        new java.util.ArrayList<com.google.inject.Module>(
            java.util.List.of(
                new CoreModule(CoreSettings.defaults()),
                new PoolModule(
                    PoolSettings.builder().url(PG.databaseUrl()).connectionLimit(3).build()),
                new ResilienceModule(settings)));
    modules.addAll(java.util.List.of(more));
    return Ballast.start(modules);
  }

  @Test
  void bulkhead_defaultsToThePoolSize_andRefusesAfterAShortWaitInsteadOfQueueing()
      throws Exception {
    try (var app =
        start(
            ResilienceSettings.builder()
                .bulkhead(true)
                .bulkheadMaxWait(Duration.ofMillis(50))
                .build())) {
      var db = app.get(DSLContext.class);
      var bulkhead = app.get(DatabaseGuard.class).bulkhead();
      assertThat(bulkhead.getBulkheadConfig().getMaxConcurrentCalls())
          .as("the pool's size")
          .isEqualTo(3);
      var pool = Executors.newFixedThreadPool(3);
      var release = new CountDownLatch(1);
      var inside = new CountDownLatch(3);
      try {
        for (int i = 0; i < 3; i++) {
          var unused =
              pool.submit(
                  () ->
                      db.transaction(
                          tx -> {
                            tx.dsl().fetchValue("select 1");
                            inside.countDown();
                            release.await(10, TimeUnit.SECONDS);
                          }));
        }
        assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(bulkhead.getMetrics().getAvailableConcurrentCalls()).isZero();
        assertThatThrownBy(() -> db.fetchValue("select 1"))
            .isInstanceOf(DatabaseBusyException.class)
            .hasMessage(
                "Database bulkhead full: 3 units of database work already run and none finished within 50 ms; "
                    + "shed load or raise BALLAST_BULKHEAD_MAX_CONCURRENT (and the pool)");
        var check =
            app.get(HealthRegistry.class).run(ProbeKind.READY).check("db.breaker").orElseThrow();
        assertThat(check.details())
            .containsEntry("bulkheadAvailable", 0)
            .containsEntry("bulkheadMax", 3);
      } finally {
        release.countDown();
        pool.shutdown();
        pool.awaitTermination(10, TimeUnit.SECONDS);
      }
      assertThat(bulkhead.getMetrics().getAvailableConcurrentCalls()).isEqualTo(3);
      assertThat(db.fetchValue("select 1")).isEqualTo(1);
      assertThat(app.get(com.codahale.metrics.MetricRegistry.class).getGauges().keySet())
          .anyMatch(n -> n.startsWith("ballast.resilience.bulkhead.db."));
    }
  }

  /** What an application guards: a call that is not a jOOQ query. */
  static class PaymentsClient {
    final AtomicInteger calls = new AtomicInteger();
    volatile boolean down = true;

    @Guarded(breaker = "payments", retry = "payments")
    public String charge(String order) {
      calls.incrementAndGet();
      if (down) {
        throw new IllegalStateException("payments service unreachable");
      }
      return "receipt for " + order;
    }
  }

  @Test
  void guardedMethods_runUnderANamedBreakerAndRetry_andRetryNeverRetriesARefusal() {
    try (var app =
        start(
            ResilienceSettings.defaults(),
            new AbstractModule() {
              @Override
              protected void configure() {
                bind(PaymentsClient.class).asEagerSingleton();
              }
            })) {
      app.get(CircuitBreakerRegistry.class)
          .circuitBreaker(
              "payments",
              CircuitBreakerConfig.custom()
                  .slidingWindowSize(4)
                  .minimumNumberOfCalls(4)
                  .waitDurationInOpenState(Duration.ofMinutes(1))
                  .build());
      app.get(RetryRegistry.class)
          .retry(
              "payments",
              RetryConfig.from(app.get(RetryRegistry.class).getDefaultConfig())
                  .maxAttempts(2)
                  .waitDuration(Duration.ofMillis(1))
                  .build());
      var client = app.get(PaymentsClient.class);
      assertThatThrownBy(() -> client.charge("o1")).hasMessage("payments service unreachable");
      assertThat(client.calls).as("two attempts").hasValue(2);
      assertThatThrownBy(() -> client.charge("o2")).hasMessage("payments service unreachable");
      assertThat(client.calls).hasValue(4);
      assertThatThrownBy(() -> client.charge("o3")).isInstanceOf(CallNotPermittedException.class);
      assertThat(client.calls)
          .as("open: the method is not called, and the refusal is not retried")
          .hasValue(4);
    }
  }
}
