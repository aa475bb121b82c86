package io.ballast.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.Counter;
import com.codahale.metrics.MetricRegistry;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.HealthRegistry;
import io.ballast.core.ProbeKind;
import io.ballast.core.ProbeStatus;
import io.ballast.core.monitor.QueryMonitor;
import io.ballast.core.monitor.QueryTimeoutException;
import io.ballast.testkit.Await;
import io.ballast.testkit.LogCapture;
import io.ballast.testkit.MachinePostgres;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jooq.DSLContext;
import org.jooq.exception.DataAccessException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Routing to a real streaming replica of a real primary (the machine's PostgreSQL, {@code
 * pg_basebackup -R}): read-your-writes with replay paused, the lag bound, a replica killed under
 * load, and reads that never reach the primary while the replica is healthy.
 */
class ReplicaRoutingTest {
  private static MachinePostgres primary;
  private static MachinePostgres replica;
  private static final AtomicInteger TABLES = new AtomicInteger();

  @BeforeAll
  static void servers() {
    primary = MachinePostgres.builder().start();
    replica = primary.startReplica();
  }

  @AfterAll
  static void stopServers() {
    if (replica != null) {
      replica.close();
    }
    if (primary != null) {
      primary.close();
    }
  }

  @AfterEach
  void replicaBackToNormal() throws SQLException {
    replica.start(); // after a kill
    Await.until("the replica accepts connections", Duration.ofSeconds(30), this::replicaAnswers);
    replica.resumeReplay();
  }

  private boolean replicaAnswers() {
    try {
      replica.execute("postgres", "select 1");
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  private static Ballast start(ReplicaSettings.Builder replicas) {
    var poolSettings =
        PoolSettings.builder().url(primary.databaseUrl("postgres")).connectionLimit(6).build();
    return Ballast.start(
        new CoreModule(CoreSettings.defaults()),
        new PoolModule(poolSettings),
        new ReplicaModule(replicas.build()));
  }

  private static ReplicaSettings.Builder replicaSettings(PoolSettings primarySettings) {
    return ReplicaSettings.builder(primarySettings)
        .replica(replica.databaseUrl("postgres") + "?connection_limit=6")
        .checkInterval(Duration.ofMillis(50));
  }

  private static ReplicaSettings.Builder replicas() {
    return replicaSettings(
        PoolSettings.builder().url(primary.databaseUrl("postgres")).connectionLimit(6).build());
  }

  /** A new table on the primary, waited for on the replica. */
  private static String table(Ballast app) {
    var name = "t" + TABLES.incrementAndGet();
    app.get(DSLContext.class)
        .execute("create table " + name + " (id bigint primary key, v text not null)");
    var position = app.get(Replicas.class).primaryPosition();
    Await.until(
        "the replica replays the new table",
        Duration.ofSeconds(30),
        () -> position.replayedBy(app.get(Replicas.class).states().get(0).replayed()));
    return name;
  }

  /** {@code true} while no worker has ended; a worker that failed fails the test with its cause. */
  private static boolean alive(java.util.List<Future<?>> work) throws Exception {
    for (var f : work) {
      if (f.isDone()) {
        f.get();
        throw new AssertionError("a worker ended early");
      }
    }
    return true;
  }

  private static boolean onStandby(DSLContext db) {
    return db.fetchSingle("select pg_is_in_recovery()").get(0, Boolean.class);
  }

  private static String text(DSLContext db, String sql, Object... binds) {
    return db.fetchSingle(sql, binds).get(0, String.class);
  }

  private static int number(DSLContext db, String sql) {
    return db.fetchSingle(sql).get(0, Integer.class);
  }

  private static long count(Ballast app, String name) {
    Counter c =
        app.get(MetricRegistry.class).getCounters().get("ballast.pool.replicas.reads." + name);
    return c.getCount();
  }

  private static void awaitStatus(Ballast app, ReplicaState.Status status) {
    Await.until(
        "replica-1 is " + status,
        Duration.ofSeconds(30),
        () -> app.get(Replicas.class).states().get(0).status() == status);
  }

  @Test
  void readsWithoutAPosition_neverReachThePrimary_whileTheReplicaIsHealthy() {
    try (var app = start(replicas())) {
      awaitStatus(app, ReplicaState.Status.USABLE);
      var replicas = app.get(Replicas.class);
      for (int i = 0; i < 500; i++) {
        // answered by the server itself: true only on a standby
        boolean onStandby = replicas.read(db -> onStandby(db));
        assertThat(onStandby).as("read %d ran on the standby", i).isTrue();
      }
      assertThat(count(app, "replica-1")).isEqualTo(500);
      assertThat(count(app, "primary")).isZero();
    }
  }

  @Test
  void
      withReplayPaused_tenThousandWriteThenReadUnits_neverMissTheirWrite_andOtherReadsStayOnTheReplica()
          throws Exception {
    try (var app = start(replicas().maxLag(Duration.ofHours(1)).maxLagBytes(1L << 40))) {
      var name = table(app);
      awaitStatus(app, ReplicaState.Status.USABLE);
      replica.pauseReplay();
      var replicas = app.get(Replicas.class);
      var db = app.get(DSLContext.class);
      var units = 10_000;
      var next = new AtomicInteger();
      var unrelated = new AtomicInteger();
      var pool = Executors.newFixedThreadPool(4);
      try {
        var work = new ArrayList<Future<?>>();
        for (int t = 0; t < 4; t++) {
          work.add(
              pool.submit(
                  (Callable<Void>)
                      () -> {
                        for (int n; (n = next.getAndIncrement()) < units; ) {
                          final int i = n;
                          try (var unit = replicas.unitOfWork()) {
                            db.execute("insert into " + name + " values (?, ?)", i, "v" + i);
                            var seen =
                                replicas.read(
                                    r -> text(r, "select v from " + name + " where id = ?", i));
                            assertThat(seen)
                                .as("unit %d reads its own write", i)
                                .isEqualTo("v" + i);
                            assertThat(unit.position()).isNotNull();
                          }
                          // a read with no position: the paused replica is within the bound
                          boolean onStandby = replicas.read(r -> onStandby(r));
                          assertThat(onStandby).isTrue();
                          unrelated.incrementAndGet();
                        }
                        return null;
                      }));
        }
        for (var f : work) {
          f.get(10, TimeUnit.MINUTES);
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(unrelated.get()).isEqualTo(units);
      assertThat(count(app, "replica-1")).isEqualTo(units); // every unrelated read
      assertThat(count(app, "primary")).isEqualTo(units); // every read of a unit's own write
      var state = replicas.states().get(0);
      assertThat(state.replayPaused()).isTrue();
      assertThat(state.lagBytes()).isPositive();
      replica.resumeReplay();
      // once replayed, the same kind of read goes to the replica
      try (var unit = replicas.unitOfWork()) {
        db.execute("insert into " + name + " values (?, ?)", -1, "last");
        var position = unit.position();
        Await.until(
            "the replica replays past the unit's write",
            Duration.ofSeconds(30),
            () -> position.replayedBy(replicas.states().get(0).replayed()));
        boolean onStandby =
            replicas.read(
                r -> {
                  assertThat(text(r, "select v from " + name + " where id = -1")).isEqualTo("last");
                  return onStandby(r);
                });
        assertThat(onStandby).isTrue();
      }
    }
  }

  @Test
  void aPositionCarriedToAnotherRequest_isHonoured() throws SQLException {
    try (var app = start(replicas().maxLag(Duration.ofHours(1)).maxLagBytes(1L << 40))) {
      var name = table(app);
      var replicas = app.get(Replicas.class);
      replica.pauseReplay();
      String cookie;
      try (var unit = replicas.unitOfWork()) {
        app.get(DSLContext.class).execute("insert into " + name + " values (1, 'one')");
        cookie = unit.position().toString();
      }
      // the next request, with only the cookie
      try (var unit = replicas.unitOfWork(WalPosition.parse(cookie))) {
        String seen = replicas.read(r -> text(r, "select v from " + name + " where id = 1"));
        assertThat(seen).isEqualTo("one");
      }
      int rows =
          replicas.read(WalPosition.parse(cookie), r -> number(r, "select count(*) from " + name));
      assertThat(rows).isEqualTo(1);
      assertThat(count(app, "primary")).isEqualTo(2);
      assertThat(count(app, "replica-1")).isZero();
    }
  }

  @Test
  void aReplicaLaggingPastTheBound_isSkipped_andTakenBackWhenItCatchesUp() throws SQLException {
    try (var logs = new LogCapture();
        var app = start(replicas().maxLag(Duration.ofMillis(300)))) {
      var name = table(app);
      awaitStatus(app, ReplicaState.Status.USABLE);
      var replicas = app.get(Replicas.class);
      var health = app.get(HealthRegistry.class);
      replica.pauseReplay();
      app.get(DSLContext.class).execute("insert into " + name + " values (1, 'one')");
      awaitStatus(app, ReplicaState.Status.LAGGING);
      var state = replicas.states().get(0);
      assertThat(state.lag()).isGreaterThan(Duration.ofMillis(300));
      assertThat(state.reason()).contains("bound 300 ms").contains("replay paused");
      boolean onStandby = replicas.read(r -> onStandby(r));
      assertThat(onStandby).as("read went to the primary").isFalse();
      var report = health.run(ProbeKind.READY);
      assertThat(report.status()).isEqualTo(ProbeStatus.DEGRADED);
      assertThat(report.check("replica:replica-1").orElseThrow().status())
          .isEqualTo(ProbeStatus.DEGRADED);
      assertThat(logs.lines())
          .anyMatch(l -> l.startsWith("WARN Replica 'replica-1' is skipped: LAGGING"));
      replica.resumeReplay();
      awaitStatus(app, ReplicaState.Status.USABLE);
      onStandby = replicas.read(r -> onStandby(r));
      assertThat(onStandby).isTrue();
      assertThat(health.run(ProbeKind.READY).status()).isEqualTo(ProbeStatus.UP);
      assertThat(
              app.get(MetricRegistry.class)
                  .getCounters()
                  .get("ballast.pool.replicas.replica-1.skips")
                  .getCount())
          .as("skipped at least once while lagging (a slow machine may see the lag twice)")
          .isPositive();
    }
  }

  @Test
  void killingTheReplicaMidLoad_failsNoRead() throws Exception {
    try (var app = start(replicas())) {
      var name = table(app);
      var replicas = app.get(Replicas.class);
      try (var unit = replicas.unitOfWork()) {
        app.get(DSLContext.class).execute("insert into " + name + " values (1, 'one')");
        var written = unit.position();
        Await.until(
            "the replica replays the row",
            Duration.ofSeconds(30),
            () -> written.replayedBy(replicas.states().get(0).replayed()));
      }
      awaitStatus(app, ReplicaState.Status.USABLE);
      var stop = new AtomicBoolean();
      var reads = new AtomicInteger();
      ExecutorService pool = Executors.newFixedThreadPool(4);
      var work = new ArrayList<Future<?>>();
      try {
        for (int t = 0; t < 4; t++) {
          work.add(
              pool.submit(
                  (Callable<Void>)
                      () -> {
                        while (!stop.get()) {
                          String seen =
                              replicas.read(
                                  r -> text(r, "select v from " + name + " where id = 1"));
                          assertThat(seen).isEqualTo("one");
                          reads.incrementAndGet();
                        }
                        return null;
                      }));
        }
        Await.until(
            "reads on the replica",
            Duration.ofSeconds(30),
            () -> alive(work) && count(app, "replica-1") > 200);
        var killedAt = reads.get();
        replica.kill();
        Await.until(
            "reads go on on the primary",
            Duration.ofSeconds(30),
            () -> alive(work) && count(app, "primary") > 500 && reads.get() > killedAt + 500);
        awaitStatus(app, ReplicaState.Status.DOWN);
        replica.start();
        awaitStatus(app, ReplicaState.Status.USABLE);
        var before = count(app, "replica-1");
        Await.until(
            "reads back on the replica",
            Duration.ofSeconds(30),
            () -> alive(work) && count(app, "replica-1") > before + 100);
        stop.set(true);
        for (var f : work) {
          f.get(1, TimeUnit.MINUTES); // any failed read fails here
        }
      } finally {
        stop.set(true);
        pool.shutdownNow();
      }
    }
  }

  @Test
  void aReadIsReadOnly_onTheReplicaAndOnThePrimary() throws Exception {
    try (var app = start(replicas())) {
      var name = table(app);
      var replicas = app.get(Replicas.class);
      assertThatThrownBy(
              () -> replicas.read(r -> r.execute("insert into " + name + " values (1, 'x')")))
          .isInstanceOf(DataAccessException.class)
          .hasMessageContaining("read-only transaction");
      replica.pauseReplay();
      app.get(DSLContext.class).execute("insert into " + name + " values (2, 'y')");
      try (var unit = replicas.unitOfWork(replicas.primaryPosition())) {
        assertThatThrownBy(
                () -> replicas.read(r -> r.execute("insert into " + name + " values (3, 'z')")))
            .isInstanceOf(DataAccessException.class)
            .hasMessageContaining("read-only transaction");
      }
      assertThat(count(app, "primary")).isEqualTo(1);
      assertThat(number(app.get(DSLContext.class), "select count(*) from " + name)).isEqualTo(1);
    }
  }

  @Test
  void aReplicaDownAtStart_doesNotStopTheApplication_andReadsGoToThePrimary() {
    replica.stop();
    try (var app = start(replicas())) {
      var replicas = app.get(Replicas.class);
      assertThat(replicas.states().get(0).status()).isEqualTo(ReplicaState.Status.DOWN);
      assertThat(replicas.states().get(0).reason())
          .contains("not reachable")
          .doesNotContain("password");
      boolean onStandby = replicas.read(r -> onStandby(r));
      assertThat(onStandby).isFalse();
      assertThat(app.get(HealthRegistry.class).run(ProbeKind.READY).status())
          .isEqualTo(ProbeStatus.DEGRADED);
      replica.start();
      awaitStatus(app, ReplicaState.Status.USABLE);
      onStandby = replicas.read(r -> onStandby(r));
      assertThat(onStandby).isTrue();
    }
  }

  @Test
  void aQueryTimeoutCancelsTheStatementOnTheReplica_andItsStatisticsNameTheReplica()
      throws SQLException {
    try (var app = start(replicas())) {
      awaitStatus(app, ReplicaState.Status.USABLE);
      var replicas = app.get(Replicas.class);
      try (var scope = app.get(QueryMonitor.class).withTimeout(Duration.ofSeconds(1))) {
        assertThatThrownBy(() -> replicas.read(r -> r.execute("select pg_sleep(30)")))
            .isInstanceOf(QueryTimeoutException.class);
      }
      // cancelled on the replica's server, not left running there
      Await.until(
          "no pg_sleep left on the replica",
          Duration.ofSeconds(10),
          () -> {
            try (var c = replica.connect("postgres");
                var st = c.createStatement();
                var rs =
                    st.executeQuery(
                        "select count(*) from pg_stat_activity where state = 'active' and query like 'select pg_sleep%'")) {
              rs.next();
              return rs.getInt(1) == 0;
            }
          });
      assertThat(count(app, "primary")).isZero(); // a timeout is no reason to read elsewhere
      var durations =
          (HistogramSnapshot)
              app.get(PrometheusRegistry.class)
                  .scrape(name -> name.equals("ballast_query_duration_seconds"))
                  .get(0);
      var byServer = new java.util.HashMap<String, Long>();
      durations
          .getDataPoints()
          .forEach(d -> byServer.put(d.getLabels().get("server"), d.getCount()));
      assertThat(byServer.get("replica-1")).isPositive();
    }
  }
}
