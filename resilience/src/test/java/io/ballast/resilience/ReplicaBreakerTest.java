package io.ballast.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.pool.ReplicaModule;
import io.ballast.pool.ReplicaSettings;
import io.ballast.pool.ReplicaState;
import io.ballast.pool.Replicas;
import io.ballast.testkit.Await;
import io.ballast.testkit.MachinePostgres;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;

/**
 * One breaker per server: a replica that dies under read load never opens the primary's breaker
 * (nor makes the primary's pool probe its server); its reads move to the primary without failing.
 */
class ReplicaBreakerTest {
  @Test
  void aReplicaKilledUnderLoad_leavesThePrimarysBreakerClosed_andFailsNoRead() throws Exception {
    try (var primary = MachinePostgres.builder().start();
        var replica = primary.startReplica()) {
      var poolSettings =
          PoolSettings.builder().url(primary.databaseUrl("postgres")).connectionLimit(8).build();
      try (var app =
          Ballast.start(
              new CoreModule(CoreSettings.defaults()),
              new PoolModule(poolSettings),
              new ReplicaModule(
                  ReplicaSettings.builder(poolSettings)
                      .replica(replica.databaseUrl("postgres"))
                      .checkInterval(Duration.ofMillis(50))
                      .build()),
              new ResilienceModule(ResilienceSettings.builder().dbFailureThreshold(2).build()))) {
        var replicas = app.get(Replicas.class);
        var db = app.get(DSLContext.class);
        Await.until(
            "the replica serves reads",
            Duration.ofSeconds(30),
            () -> replicas.states().get(0).status() == ReplicaState.Status.USABLE);
        var breakers = app.get(CircuitBreakerRegistry.class);
        var transitions = new ArrayList<String>();
        breakers
            .circuitBreaker("db")
            .getEventPublisher()
            .onStateTransition(e -> transitions.add(e.getStateTransition().toString()));
        var stop = new AtomicBoolean();
        var pool = Executors.newFixedThreadPool(6);
        List<Future<?>> work = new ArrayList<>();
        try {
          for (int t = 0; t < 6; t++) {
            work.add(
                pool.submit(
                    (Callable<Void>)
                        () -> {
                          while (!stop.get()) {
                            int one =
                                replicas.read(r -> r.fetchSingle("select 1").get(0, Integer.class));
                            assertThat(one).isEqualTo(1);
                          }
                          return null;
                        }));
          }
          var replicaReads =
              app.get(com.codahale.metrics.MetricRegistry.class)
                  .counter("ballast.pool.replicas.reads.replica-1");
          Await.until(
              "reads on the replica", Duration.ofSeconds(30), () -> replicaReads.getCount() > 200);
          replica.kill();
          Await.until(
              "the replica is seen down",
              Duration.ofSeconds(30),
              () -> replicas.states().get(0).status() == ReplicaState.Status.DOWN);
          // writes and reads on the primary go on
          for (int i = 0; i < 50; i++) {
            assertThat(db.fetchSingle("select 1").get(0, Integer.class)).isEqualTo(1);
          }
          stop.set(true);
          for (var f : work) {
            f.get(1, TimeUnit.MINUTES);
          }
        } finally {
          stop.set(true);
          pool.shutdownNow();
        }
        assertThat(breakers.circuitBreaker("db").getState()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(transitions).isEmpty();
        assertThat(breakers.circuitBreaker("db").getMetrics().getNumberOfFailedCalls()).isZero();
        assertThat(breakers.find("db:replica-1")).isPresent();
      }
    }
  }
}
