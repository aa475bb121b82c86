package io.ballast.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import io.ballast.pool.PoolSettings;
import io.ballast.pool.ReplicaModule;
import io.ballast.pool.ReplicaSettings;
import io.ballast.pool.ReplicaState;
import io.ballast.pool.Replicas;
import io.ballast.testkit.Await;
import io.ballast.testkit.MachinePostgres;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;

/**
 * Row-level security on a read replica: the acting context is set in each replica read's
 * transaction, so under concurrent reads of two tenants (and reads with no context) every row a
 * read sees on the standby is its own tenant's, and a write in a unit of work is read back at once.
 */
class ReplicaContextTest {
  private static final List<String> TENANTS = List.of("acme", "globex");

  @Test
  void concurrentReadsOfTwoTenantsOnTheReplica_seeOnlyTheirOwnRows() throws Exception {
    try (var primary = MachinePostgres.builder().start();
        var replica = primary.startReplica()) {
      primary.execute(
          "postgres",
          "create role app login password 'app-secret'",
          "create database app owner app");
      var url = "postgresql://app:app-secret@127.0.0.1:" + primary.port() + "/app";
      var replicaUrl = "postgresql://app:app-secret@127.0.0.1:" + replica.port() + "/app";
      var replicaSettings =
          ReplicaSettings.builder(PoolSettings.builder().url(url).build())
              .replica(replicaUrl)
              .checkInterval(Duration.ofMillis(50))
              .build();
      try (var app =
          AuditFixture.start(
              url, AuditFixture.manualSealing().build(), 6, new ReplicaModule(replicaSettings))) {
        var db = app.get(DSLContext.class);
        var replicas = app.get(Replicas.class);
        RowSecurity.table("orders").tenantColumn("tenant_id").build().apply(db);
        try (var unit = replicas.unitOfWork()) {
          for (int i = 0; i < 100; i++) {
            var tenant = TENANTS.get(i % 2);
            RequestContext.as(db, ActingContext.of("seed", tenant))
                .execute(
                    "insert into orders (tenant_id, owner_id, amount) values (?, 'seed', ?)",
                    tenant,
                    i);
          }
          var written = unit.position();
          Await.until(
              "the replica replays the rows",
              Duration.ofSeconds(30),
              () ->
                  replicas.states().get(0).status() == ReplicaState.Status.USABLE
                      && written.replayedBy(replicas.states().get(0).replayed()));
        }
        var pool = Executors.newFixedThreadPool(4);
        var work = new ArrayList<Future<Integer>>();
        try {
          for (int t = 0; t < 4; t++) {
            work.add(
                pool.submit(
                    (Callable<Integer>)
                        () -> {
                          var reads = 0;
                          for (int i = 0; i < 500; i++) {
                            var pick = ThreadLocalRandom.current().nextInt(3);
                            if (pick == 2) {
                              List<String> seen =
                                  replicas.read(
                                      r ->
                                          r.fetch("select tenant_id from orders")
                                              .getValues(0, String.class));
                              assertThat(seen).as("no context, no rows").isEmpty();
                            } else {
                              var tenant = TENANTS.get(pick);
                              try (var scope =
                                  RequestContext.open(ActingContext.of("u-" + tenant, tenant))) {
                                List<String> seen =
                                    replicas.read(
                                        r -> {
                                          assertThat(
                                                  r.fetchSingle("select pg_is_in_recovery()")
                                                      .get(0, Boolean.class))
                                              .isTrue();
                                          return r.fetch("select tenant_id from orders")
                                              .getValues(0, String.class);
                                        });
                                assertThat(seen).hasSize(50).containsOnly(tenant);
                              }
                            }
                            reads++;
                          }
                          return reads;
                        }));
          }
          var total = 0;
          for (var f : work) {
            total += f.get(5, TimeUnit.MINUTES);
          }
          assertThat(total).isEqualTo(2000);
        } finally {
          pool.shutdownNow();
        }
        var metrics = app.get(MetricRegistry.class);
        assertThat(metrics.counter("ballast.pool.replicas.reads.replica-1").getCount())
            .isEqualTo(2000);
        assertThat(metrics.counter("ballast.pool.replicas.reads.primary").getCount()).isZero();

        // read-your-writes under a context: the write is seen at once, wherever it is read
        replica.pauseReplay();
        try (var scope = RequestContext.open(ActingContext.of("u-acme", "acme"));
            var unit = replicas.unitOfWork()) {
          db.execute("insert into orders (tenant_id, owner_id, amount) values ('acme', 'u', 1000)");
          int count =
              replicas.read(
                  r -> r.fetchSingle("select count(*) from orders").get(0, Integer.class));
          assertThat(count).isEqualTo(51);
        } finally {
          replica.resumeReplay();
        }
      }
    }
  }
}
