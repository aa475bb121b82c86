package io.ballast.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.HealthRegistry;
import io.ballast.core.ProbeKind;
import io.ballast.core.ProbeStatus;
import io.ballast.pool.Pool;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.testkit.Await;
import io.ballast.testkit.FaultProxy;
import io.ballast.testkit.PostgresExtension;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.jooq.DSLContext;
import org.jooq.exception.DataAccessException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database breaker with a real PostgreSQL behind the fault proxy, and behind a real stop and
 * start.
 */
class DatabaseBreakerTest {
  private static final Logger LOG = LoggerFactory.getLogger(DatabaseBreakerTest.class);
  static final Duration POOL_TIMEOUT = Duration.ofSeconds(3);

  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  FaultProxy proxy;
  Ballast app;
  DSLContext db;

  @BeforeAll
  static void schema() throws Exception {
    PG.execute(
        "create table item (id int primary key, name text)", "insert into item values (1, 'one')");
  }

  @BeforeEach
  void start() {
    proxy = FaultProxy.to(PG.server().host(), PG.server().port());
    app = start("127.0.0.1", proxy.port());
  }

  Ballast start(String host, int port) {
    var url =
        "postgresql://"
            + PG.username()
            + (PG.password() == null ? "" : ":" + PG.password())
            + "@"
            + host
            + ":"
            + port
            + "/"
            + PG.databaseName();
    var started =
        Ballast.start(
            new CoreModule(CoreSettings.defaults()),
            new PoolModule(
                PoolSettings.builder()
                    .url(url)
                    .connectionLimit(4)
                    .poolTimeout(POOL_TIMEOUT)
                    .connectTimeout(Duration.ofSeconds(1))
                    .build()),
            new ResilienceModule(
                ResilienceSettings.builder()
                    .dbFailureThreshold(5)
                    .dbOpenDuration(Duration.ofSeconds(8))
                    .dbTrialCalls(2)
                    .build()));
    db = started.get(DSLContext.class);
    return started;
  }

  @AfterEach
  void stop() {
    app.close();
    proxy.close();
  }

  CircuitBreaker breaker() {
    return app.get(DatabaseGuard.class).breaker();
  }

  @Test
  void cut_opensAfterTheThreshold_thenFailsFastWithoutWaiting_thenRecoversByItself()
      throws Exception {
    assertThat(db.fetchValue("select name from item where id = 1")).isEqualTo("one");
    proxy.cut();
    var failures = 0;
    while (breaker().getState() == CircuitBreaker.State.CLOSED && failures < 20) {
      assertThatThrownBy(() -> db.fetchValue("select name from item where id = 1"))
          .isInstanceOf(DataAccessException.class)
          .isNotInstanceOf(DatabaseUnavailableException.class);
      failures++;
    }
    assertThat(failures).as("failures until open").isEqualTo(5);
    assertThat(breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);

    // refused at once: no connection asked for, nobody waits in the pool
    var latencies = new ArrayList<Long>();
    for (int i = 0; i < 100; i++) {
      var t0 = System.nanoTime();
      assertThatThrownBy(() -> db.fetchValue("select 1"))
          .isInstanceOfSatisfying(
              DatabaseUnavailableException.class,
              e -> {
                assertThat(e.breaker()).isEqualTo("db");
                assertThat(e.state()).isEqualTo("OPEN");
                assertThat(e.retryAt()).isNotNull();
                assertThat(e.getMessage())
                    .startsWith(
                        "Database breaker 'db' is OPEN and does not permit calls; it lets "
                            + "trial calls through from ")
                    .contains("; it opened after: ");
              });
      latencies.add(System.nanoTime() - t0);
    }
    latencies.sort(null);
    LOG.info(
        "Refused calls while open: median {} µs, p99 {} µs, max {} µs (pool timeout {} ms)",
        latencies.get(50) / 1000,
        latencies.get(98) / 1000,
        latencies.get(99) / 1000,
        POOL_TIMEOUT.toMillis());
    assertThat(latencies.get(99)).as("slowest refusal, ns").isLessThan(POOL_TIMEOUT.toNanos() / 10);
    assertThat(app.get(Pool.class).snapshot().waiting()).isZero();

    // 16 threads at once while open: all refused, none blocked
    var pool = Executors.newFixedThreadPool(16);
    try {
      var futures = new ArrayList<Future<Throwable>>();
      for (int i = 0; i < 16; i++) {
        futures.add(
            pool.submit(
                (Callable<Throwable>)
                    () -> {
                      try {
                        db.fetchValue("select 1");
                        return null;
                      } catch (Throwable e) {
                        return e;
                      }
                    }));
      }
      for (var f : futures) {
        assertThat(f.get(POOL_TIMEOUT.toMillis() / 2, TimeUnit.MILLISECONDS))
            .isInstanceOf(DatabaseUnavailableException.class);
      }
    } finally {
      pool.shutdownNow();
    }

    var ready = app.get(HealthRegistry.class).run(ProbeKind.READY);
    assertThat(ready.status()).isEqualTo(ProbeStatus.DOWN);
    assertThat(ready.check("db.breaker").orElseThrow().details()).containsEntry("state", "OPEN");

    proxy.restore();
    await(
        "closed again",
        () -> {
          try {
            db.fetchValue("select 1");
          } catch (DataAccessException e) {
            // open or a trial failed: keep asking
          }
          return breaker().getState() == CircuitBreaker.State.CLOSED;
        });
    assertThat(db.fetchValue("select name from item where id = 1")).isEqualTo("one");
    assertThat(app.get(Pool.class).snapshot().total()).isPositive();
    assertThat(
            app.get(HealthRegistry.class)
                .run(ProbeKind.READY)
                .check("db.breaker")
                .orElseThrow()
                .status())
        .isEqualTo(ProbeStatus.UP);
    var gauges = app.get(MetricRegistry.class).getGauges().keySet();
    assertThat(gauges).anyMatch(name -> name.startsWith("ballast.resilience.breaker.db."));
  }

  @Test
  void callerErrors_neverTripTheBreaker() {
    for (int i = 0; i < 20; i++) {
      assertThatThrownBy(() -> db.execute("insert into item values (1, 'dup')"))
          .isInstanceOf(DataAccessException.class);
      assertThatThrownBy(() -> db.execute("selec 1")).isInstanceOf(DataAccessException.class);
      assertThatThrownBy(() -> db.execute("select 1 / 0")).isInstanceOf(DataAccessException.class);
    }
    assertThat(breaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
    assertThat(breaker().getMetrics().getNumberOfFailedCalls()).isZero();
  }

  @Test
  void transactions_areRefusedBeforeTheyTakeAConnection_andTheirFailuresCount() {
    proxy.cut();
    var failures = 0;
    while (breaker().getState() == CircuitBreaker.State.CLOSED && failures < 20) {
      assertThatThrownBy(() -> db.transaction(tx -> tx.dsl().fetchValue("select 1")))
          .isInstanceOf(DataAccessException.class);
      failures++;
    }
    assertThat(breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
    assertThat(failures).isLessThanOrEqualTo(5);
    var t0 = System.nanoTime();
    assertThatThrownBy(() -> db.transaction(tx -> tx.dsl().fetchValue("select 1")))
        .isInstanceOf(DatabaseUnavailableException.class);
    assertThat(System.nanoTime() - t0).isLessThan(POOL_TIMEOUT.toNanos() / 10);
  }

  @Test
  void serverStoppedAndStarted_theBreakerOpensThenClosesWithoutARestart() throws Exception {
    var server = PG.server();
    Assumptions.assumeTrue(
        server.isEmbedded(),
        "only the embedded PostgreSQL is stopped by tests; an external one "
            + "(BALLAST_TEST_PG_URL) is shared and never stopped");
    app.close();
    app = start(server.host(), server.port());
    assertThat(db.fetchValue("select 1")).isEqualTo(1);
    server.stop();
    try {
      await(
          "open",
          () -> {
            try {
              db.fetchValue("select 1");
            } catch (DataAccessException e) {
              // expected while the server is down
            }
            return breaker().getState() == CircuitBreaker.State.OPEN;
          });
      assertThatThrownBy(() -> db.fetchValue("select 1"))
          .isInstanceOf(DatabaseUnavailableException.class);
    } finally {
      server.start();
    }
    await(
        "closed",
        () -> {
          try {
            db.fetchValue("select 1");
          } catch (DataAccessException e) {
            // trial calls until it closes
          }
          return breaker().getState() == CircuitBreaker.State.CLOSED;
        });
    assertThat(db.fetchValue("select name from item where id = 1")).isEqualTo("one");
  }

  /** {@link Await#until} with the breaker tests' time limit. */
  static void await(String what, BooleanSupplier condition) {
    Await.until(what, Duration.ofSeconds(30), condition::getAsBoolean);
  }
}
