package io.ballast.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import com.google.inject.Guice;
import com.google.inject.Stage;
import com.zaxxer.hikari.HikariDataSource;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.HealthRegistry;
import io.ballast.core.Lifecycle;
import io.ballast.core.LifecycleException;
import io.ballast.core.ProbeKind;
import io.ballast.testkit.Await;
import io.ballast.testkit.FaultProxy;
import io.ballast.testkit.LogCapture;
import io.ballast.testkit.PostgresExtension;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.jooq.exception.DataAccessException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGConnection;

class PoolModuleTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  private static PoolSettings.Builder settings() {
    return PoolSettings.builder().url(PG.databaseUrl());
  }

  private static Ballast start(PoolSettings settings) {
    return Ballast.start(new CoreModule(CoreSettings.defaults()), new PoolModule(settings));
  }

  @Test
  void dslContext_runsQueriesThroughThePool() {
    try (var app = start(settings().connectionLimit(3).build())) {
      var db = app.get(DSLContext.class);
      assertThat(db.resultQuery("select 40 + 2").fetchOne(0, Integer.class)).isEqualTo(42);
      var pool = app.get(Pool.class);
      assertThat(pool.isRunning()).isTrue();
      var snap = pool.snapshot();
      assertThat(snap.max()).isEqualTo(3);
      assertThat(snap.total()).isBetween(1, 3);
      assertThat(snap.active()).isZero();
      assertThat(snap.pool()).isEqualTo("primary");
    }
  }

  @Test
  void modules_doNoIoUntilTheLifecycleStarts() {
    try (var proxy = FaultProxy.to(PG.server().host(), PG.server().port())) {
      var url =
          "postgresql://"
              + PG.username()
              + "@"
              + proxy.host()
              + ":"
              + proxy.port()
              + "/"
              + PG.databaseName();
      var injector =
          Guice.createInjector(
              Stage.PRODUCTION,
              new CoreModule(CoreSettings.defaults()),
              new PoolModule(PoolSettings.builder().url(url).connectionLimit(2).build()));
      injector.getInstance(DSLContext.class);
      injector.getInstance(Pool.class).snapshot();
      assertThat(proxy.openConnections())
          .as("connections opened by building the injector")
          .isZero();

      var lifecycle = injector.getInstance(Lifecycle.class);
      lifecycle.start();
      try {
        assertThat(proxy.openConnections()).isPositive();
      } finally {
        lifecycle.stop();
      }
    }
  }

  @Test
  void snapshot_countsLentConnectionsAndUtilisation() throws SQLException {
    try (var app = start(settings().connectionLimit(4).build())) {
      var pool = app.get(Pool.class);
      try (Connection a = pool.dataSource().getConnection();
          Connection b = pool.dataSource().getConnection()) {
        var snap = pool.snapshot();
        assertThat(snap.active()).isEqualTo(2);
        assertThat(snap.utilisationPercent()).isEqualTo(50.0);
        assertThat(snap.active() + snap.idle()).isEqualTo(snap.total());
      }
    }
  }

  @Test
  void poolTimeout_reportsActiveIdleAndWaiting() throws Exception {
    try (var app =
        start(
            settings()
                .name("orders")
                .connectionLimit(2)
                .poolTimeout(Duration.ofSeconds(1))
                .build())) {
      var ds = app.get(DataSource.class);
      try (var a = ds.getConnection();
          var b = ds.getConnection()) {
        // a second waiter, starting 300 ms after ours and so still waiting when ours gives up,
        // shows in "waiting"
        var other =
            CompletableFuture.runAsync(
                () -> {
                  try (var c = ds.getConnection()) {
                    c.isValid(1);
                  } catch (SQLException expected) {
                    // times out as well
                  }
                },
                CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS));
        assertThatThrownBy(ds::getConnection)
            .isInstanceOf(PoolExhaustedException.class)
            .hasMessageMatching(
                "Pool 'orders' exhausted: no connection free after waiting \\d+ ms \\(active 2, idle 0,"
                    + " waiting 1, max 2\\)\\. Raise connection_limit \\(DATABASE_URL or DB_CONNECTION_LIMIT\\) or find the"
                    + " slow queries holding connections\\.")
            .satisfies(
                e -> {
                  var ex = (PoolExhaustedException) e;
                  assertThat(ex.snapshot().active()).isEqualTo(2);
                  assertThat(ex.waited()).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
                  assertThat(ex.getSQLState()).isEqualTo("08000");
                });
        other.get(5, TimeUnit.SECONDS);
      }
      // through jOOQ the same error is the cause of the DataAccessException
      var db = app.get(DSLContext.class);
      try (var a = ds.getConnection();
          var b = ds.getConnection()) {
        assertThatThrownBy(() -> db.fetchValue("select 1"))
            .isInstanceOf(DataAccessException.class)
            .hasCauseInstanceOf(PoolExhaustedException.class);
      }
      // each borrower that gave up is counted for the alert on acquisition timeouts
      var timeouts =
          (io.prometheus.metrics.model.snapshots.CounterSnapshot)
              app.get(io.prometheus.metrics.model.registry.PrometheusRegistry.class)
                  .scrape(name -> name.startsWith("ballast_pool_acquire_timeouts"))
                  .get(0);
      assertThat(timeouts.getDataPoints())
          .singleElement()
          .satisfies(
              d -> {
                assertThat(d.getLabels().get("pool")).isEqualTo("orders");
                assertThat(d.getValue()).isEqualTo(3.0);
              });
    }
  }

  @Test
  void unreachableDatabase_isNotReportedAsExhaustion() throws Exception {
    try (var proxy = FaultProxy.to(PG.server().host(), PG.server().port())) {
      var url =
          "postgresql://"
              + PG.username()
              + "@"
              + proxy.host()
              + ":"
              + proxy.port()
              + "/"
              + PG.databaseName();
      try (var app =
          start(
              PoolSettings.builder()
                  .url(url)
                  .connectionLimit(2)
                  .poolTimeout(Duration.ofMillis(800))
                  .connectTimeout(Duration.ofSeconds(1))
                  .build())) {
        var ds = app.get(DataSource.class);
        proxy.cut();
        // the idle connections are dead; HikariCP notices on borrow and cannot open new ones
        assertThatThrownBy(
                () -> {
                  try (var c = ds.getConnection();
                      var s = c.createStatement()) {
                    s.execute("select 1");
                  }
                })
            .isInstanceOf(SQLException.class)
            .isNotInstanceOf(PoolExhaustedException.class);
        assertThatThrownBy(ds::getConnection)
            .isInstanceOf(SQLTransientConnectionException.class)
            .isNotInstanceOf(PoolExhaustedException.class)
            .hasCauseInstanceOf(SQLException.class);
        // the pool has probed the server by now and refuses at once, naming it, until it answers
        // again
        var pool = ds.unwrap(io.ballast.core.ConnectionHealth.class);
        Await.until(
            "the pool's probe found the server gone",
            Duration.ofSeconds(10),
            () -> !pool.reachable());
        var t0 = System.nanoTime();
        assertThatThrownBy(ds::getConnection)
            .isInstanceOf(DatabaseUnreachableException.class)
            .hasMessageStartingWith(
                "Pool 'primary' cannot reach the database at postgresql://****@127.0.0.1:"
                    + proxy.port()
                    + "/"
                    + PG.databaseName()
                    + " (")
            .hasMessageEndingWith(
                "); failing at once until it accepts connections again (checked every 250 ms)");
        // at once: without the probe a borrower waits the whole pool timeout (800 ms) first; a
        // quarter
        // of it leaves room for a slow machine and still tells the two apart
        assertThat(Duration.ofNanos(System.nanoTime() - t0))
            .as("refused at once")
            .isLessThan(Duration.ofMillis(200));
        assertThat(app.get(HealthRegistry.class).run(ProbeKind.READY).healthy()).isFalse();

        proxy.restore();
        // HikariCP refills in the background with a back-off; the pool recovers without a restart
        var health = app.get(HealthRegistry.class);
        Await.until(
            "ready without a restart",
            Duration.ofSeconds(10),
            () -> health.run(ProbeKind.READY).healthy());
        assertThat(app.get(DSLContext.class).resultQuery("select 1").fetchOne(0, Integer.class))
            .isEqualTo(1);
      }
    }
  }

  @Test
  void start_whenTheDatabaseIsUnreachable_failsNamingThePoolAndMaskedUrl() {
    var secret = "do-not-print-me";
    try (var proxy = FaultProxy.to(PG.server().host(), PG.server().port())) {
      proxy.cut();
      var url =
          "postgresql://"
              + PG.username()
              + ":"
              + secret
              + "@"
              + proxy.host()
              + ":"
              + proxy.port()
              + "/"
              + PG.databaseName();
      assertThatThrownBy(
              () ->
                  start(
                      PoolSettings.builder()
                          .url(url)
                          .poolTimeout(Duration.ofMillis(500))
                          .connectTimeout(Duration.ofSeconds(1))
                          .build()))
          .isInstanceOf(LifecycleException.class)
          .hasMessageStartingWith(
              "Could not start pool:primary (phase 100): Pool 'primary' could not connect to postgresql://"
                  + "****@127.0.0.1:"
                  + proxy.port()
                  + "/"
                  + PG.databaseName()
                  + ": ")
          .satisfies(
              e -> {
                for (Throwable t = e; t != null; t = t.getCause()) {
                  assertThat(String.valueOf(t.getMessage())).doesNotContain(secret);
                }
              });
    }
  }

  @Test
  void password_neverReachesTheLogs() throws Exception {
    var secret = "log-leak-canary-7731";
    var url =
        "postgresql://"
            + PG.username()
            + ":"
            + secret
            + "@"
            + PG.server().host()
            + ":"
            + PG.server().port()
            + "/"
            + PG.databaseName();
    try (var logs = new LogCapture()) {
      try (var app = start(PoolSettings.builder().url(url).build())) {
        app.get(DSLContext.class).fetchValue("select 1");
      }
      try (var proxy = FaultProxy.to(PG.server().host(), PG.server().port())) {
        proxy.cut();
        var bad = url.replace(":" + PG.server().port() + "/", ":" + proxy.port() + "/");
        assertThatThrownBy(
                () ->
                    start(
                        PoolSettings.builder()
                            .url(bad)
                            .poolTimeout(Duration.ofMillis(300))
                            .connectTimeout(Duration.ofSeconds(1))
                            .build()))
            .isInstanceOf(LifecycleException.class);
      }
      assertThat(logs.lines()).isNotEmpty().noneMatch(line -> line.contains(secret));
      assertThat(logs.lines())
          .anyMatch(line -> line.contains("Pool 'primary' started") && line.contains("//****@"));
    }
  }

  @Test
  void start_warnsWhenPoolsWouldExceedEightyPercentOfMaxConnections() throws SQLException {
    int maxConnections;
    try (var c = PG.connect();
        var s = c.createStatement();
        var rs = s.executeQuery("select current_setting('max_connections')::int")) {
      rs.next();
      maxConnections = rs.getInt(1);
    }
    var instances = maxConnections; // 2 × max_connections > 80 % of it
    try (var logs = new LogCapture();
        var app = start(settings().connectionLimit(2).instances(instances).build())) {
      var sizing = app.get(Pool.class).sizing().orElseThrow();
      assertThat(sizing.exceeds()).isTrue();
      assertThat(sizing.maxConnections()).isEqualTo(maxConnections);
      assertThat(sizing.recommendedConnectionLimit()).isEqualTo(1);
      var expected =
          "connection_limit 2 × "
              + instances
              + " instance(s) = "
              + (2 * instances)
              + " exceeds 80% of the"
              + " server's max_connections "
              + maxConnections
              + " ("
              + (int) Math.floor(0.8 * maxConnections)
              + "); recommended connection_limit: at most 1";
      assertThat(logs.lines()).anyMatch(l -> l.startsWith("WARN Pool 'primary': " + expected));
    }
    try (var logs = new LogCapture();
        var app = start(settings().connectionLimit(2).build())) {
      assertThat(app.get(Pool.class).sizing().orElseThrow().exceeds()).isFalse();
      assertThat(logs.lines()).noneMatch(l -> l.contains("exceeds 80%"));
    }
  }

  @Test
  void metrics_areRegisteredUnderBallastPoolAndRemovedAtStop() throws SQLException {
    var app = start(settings().name("metered").connectionLimit(2).build());
    var metrics = app.get(MetricRegistry.class);
    try (var c = app.get(DataSource.class).getConnection()) {
      assertThat(metrics.getNames())
          .contains(
              "ballast.pool.metered.Wait",
              "ballast.pool.metered.ActiveConnections",
              "ballast.pool.metered.TotalConnections",
              "ballast.pool.metered.PendingConnections",
              "ballast.pool.metered.UtilisationPercent");
      assertThat(metrics.getGauges().get("ballast.pool.metered.ActiveConnections").getValue())
          .isEqualTo(1);
      assertThat(metrics.getGauges().get("ballast.pool.metered.UtilisationPercent").getValue())
          .isEqualTo(50.0);
      assertThat(metrics.getTimers().get("ballast.pool.metered.Wait").getCount()).isPositive();
    }
    app.close();
    assertThat(metrics.getNames()).noneMatch(n -> n.startsWith("ballast.pool.metered."));
  }

  @Test
  void dataSource_beforeStartAndAfterStop_refusesWithAClearError() throws Exception {
    var app = start(settings().build());
    var ds = app.get(DataSource.class);
    app.close();
    assertThatThrownBy(ds::getConnection)
        .isInstanceOf(SQLException.class)
        .hasMessage(
            "Pool 'primary' is not running: start the Ballast lifecycle (Ballast.start or Lifecycle.start) before"
                + " using the DataSource, and do not use it after stop");
    var report = app.get(HealthRegistry.class).run(ProbeKind.READY);
    assertThat(report.healthy()).isFalse();
    assertThat(report.check("pool").orElseThrow().message())
        .isEqualTo("pool 'primary' is not running");
    assertThat(report.check("db").orElseThrow().message())
        .startsWith("Pool 'primary' is not running");
  }

  @Test
  void stop_waitsForWorkInFlightWithinTheGracePeriod() throws Exception {
    var app =
        Ballast.start(
            new CoreModule(CoreSettings.builder().shutdownGrace(Duration.ofSeconds(10)).build()),
            new PoolModule(settings().build()));
    var db = app.get(DSLContext.class);
    var running = new CountDownLatch(1);
    var work =
        CompletableFuture.supplyAsync(
            () ->
                db.transactionResult(
                    cfg -> {
                      running.countDown();
                      cfg.dsl().execute("select pg_sleep(0.8)");
                      return cfg.dsl().resultQuery("select 7").fetchOne(0, Integer.class);
                    }));
    assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
    app.close();
    assertThat(work).isDone();
    assertThat(work.get()).isEqualTo(7);
  }

  @Test
  void settings_reachTheDriver_schemaPgbouncerAndConnectTimeout() throws SQLException {
    PG.execute("create schema if not exists sales");
    try (var app =
        start(
            settings()
                .schema("sales")
                .pgbouncer(true)
                .connectTimeout(Duration.ofSeconds(3))
                .build())) {
      var ds = app.get(DataSource.class);
      try (var c = ds.getConnection();
          var s = c.createStatement();
          var rs = s.executeQuery("select current_schema()")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("sales");
        assertThat(c.unwrap(PGConnection.class).getPrepareThreshold()).isZero();
      }
      assertThat(ds.unwrap(HikariDataSource.class).getDataSourceProperties())
          .containsEntry("connectTimeout", "3");
    }
    try (var app = start(settings().build());
        var c = app.get(DataSource.class).getConnection()) {
      assertThat(c.unwrap(PGConnection.class).getPrepareThreshold()).isEqualTo(5);
    }
  }

  @Test
  void eachPoolTimeoutError_isCountedByHikarisTimeoutMeter() throws SQLException {
    try (var app =
        start(
            settings()
                .name("meter")
                .connectionLimit(1)
                .poolTimeout(Duration.ofMillis(250))
                .build())) {
      var ds = app.get(DataSource.class);
      var errors = new ArrayList<Throwable>();
      try (var held = ds.getConnection()) {
        for (int i = 0; i < 2; i++) {
          try (var c = ds.getConnection()) {
            c.isValid(1);
          } catch (PoolExhaustedException e) {
            errors.add(e);
          }
        }
      }
      assertThat(errors).hasSize(2);
      assertThat(
              app.get(MetricRegistry.class)
                  .getMeters()
                  .get("ballast.pool.meter.ConnectionTimeoutRate")
                  .getCount())
          .isEqualTo(2);
    }
  }

  /**
   * Regression: jOOQ rolled back a transaction whose begin had failed, asking the exhausted pool
   * again.
   */
  @Test
  void aTransactionThatCannotBegin_asksThePoolOnce_notAgainToRollBack() throws SQLException {
    try (var app =
        start(
            settings().name("tx").connectionLimit(1).poolTimeout(Duration.ofMillis(250)).build())) {
      var ds = app.get(DataSource.class);
      try (var held = ds.getConnection()) {
        assertThatThrownBy(
                () -> app.get(DSLContext.class).transaction(tx -> tx.dsl().fetchValue("select 1")))
            .hasRootCauseInstanceOf(PoolExhaustedException.class);
      }
      assertThat(
              app.get(MetricRegistry.class)
                  .getMeters()
                  .get("ballast.pool.tx.ConnectionTimeoutRate")
                  .getCount())
          .isEqualTo(1);
      Object one =
          app.get(DSLContext.class).transactionResult(tx -> tx.dsl().fetchValue("select 1"));
      assertThat(one).isEqualTo(1);
    }
  }
}
