package io.ballast.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.monitor.MonitorSettings;
import io.ballast.core.monitor.QueryClass;
import io.ballast.core.monitor.QueryMonitor;
import io.ballast.core.monitor.QueryTimeoutException;
import io.ballast.core.settings.AppEnv;
import io.ballast.testkit.Await;
import io.ballast.testkit.FaultProxy;
import io.ballast.testkit.LogCapture;
import io.ballast.testkit.PostgresExtension;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Timeouts cancel on the server and leave the pooled connection usable and unchanged. */
class QueryTimeoutTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  @BeforeAll
  static void schema() throws SQLException {
    PG.execute(
        "create table t (id bigint primary key)", "insert into t select generate_series(1, 10)");
  }

  /** A pool of one connection: whatever a timeout does to it, the next statement sees. */
  private static Ballast start(boolean pgbouncer) {
    return Ballast.start(
        new CoreModule(
            CoreSettings.builder().monitor(MonitorSettings.defaults(AppEnv.PRODUCTION)).build()),
        new PoolModule(
            PoolSettings.builder()
                .url(PG.databaseUrl())
                .connectionLimit(1)
                .pgbouncer(pgbouncer)
                .build()));
  }

  private static long runningSleeps() throws SQLException {
    try (var c = PG.connect();
        var s = c.createStatement();
        var rs =
            s.executeQuery(
                "select count(*) from pg_stat_activity where state = 'active' and query like 'select pg_sleep%'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void timeout_cancelsTheStatementOnTheServer_andTheConnectionStaysUsable() throws SQLException {
    try (var app = start(false)) {
      var db = app.get(DSLContext.class);
      var monitor = app.get(QueryMonitor.class);
      try (var scope = monitor.withTimeout(Duration.ofSeconds(1))) {
        assertThatThrownBy(() -> db.execute("select pg_sleep(30)"))
            .isInstanceOf(QueryTimeoutException.class)
            .hasMessage(
                "Query cancelled after its 1 s timeout (class override): select pg_sleep(?)")
            .satisfies(
                e ->
                    assertThat(((QueryTimeoutException) e).limit())
                        .isEqualTo(Duration.ofSeconds(1)))
            .satisfies(e -> assertThat(((QueryTimeoutException) e).queryClass()).isNull());
      }
      assertThat(runningSleeps()).as("backends still sleeping").isZero();
      assertThat(db.fetchValue("select 42")).isEqualTo(42);
      assertThat(app.get(Pool.class).snapshot().total()).isEqualTo(1);
    }
  }

  @Test
  void queriesAreClassifiedAutomatically_aSlowCountHitsTheSimpleLimit() {
    try (var app = start(false)) {
      var db = app.get(DSLContext.class);
      assertThatThrownBy(
              () -> db.fetchValue("select count(*) from t where pg_sleep(0.5) is not null"))
          .isInstanceOf(QueryTimeoutException.class)
          .hasMessage(
              "Query cancelled after its 1 s timeout (class simple): select count(*) from t where pg_sleep(?)"
                  + " is not null")
          .satisfies(
              e ->
                  assertThat(((QueryTimeoutException) e).queryClass())
                      .isEqualTo(QueryClass.SIMPLE));
      // the same statement with a REPORT block limit completes (10 rows × 0.5 s = 5 s)
      try (var scope = app.get(QueryMonitor.class).withTimeout(QueryClass.REPORT)) {
        assertThat(
                db.fetchValue("select count(*) from t where id <= 3 and pg_sleep(0.5) is not null"))
            .isEqualTo(3L);
      }
      // a class's block limit keeps naming that class (simple's 1 s limit, given as the class)
      try (var scope = app.get(QueryMonitor.class).withTimeout(QueryClass.SIMPLE)) {
        assertThatThrownBy(() -> db.execute("select pg_sleep(5)"))
            .hasMessage("Query cancelled after its 1 s timeout (class simple): select pg_sleep(?)");
      }
    }
  }

  @Test
  void timeoutInATransaction_rollsItBackAndLeavesTheConnectionClean() throws SQLException {
    PG.execute("create table if not exists audit_probe (n int)");
    try (var app = start(false)) {
      var db = app.get(DSLContext.class);
      try (var scope = app.get(QueryMonitor.class).withTimeout(Duration.ofSeconds(1))) {
        assertThatThrownBy(
                () ->
                    db.transaction(
                        cfg -> {
                          cfg.dsl().execute("insert into audit_probe values (1)");
                          cfg.dsl().execute("select pg_sleep(10)");
                        }))
            .isInstanceOf(QueryTimeoutException.class);
      }
      assertThat(runningSleeps()).isZero();
      assertThat(db.fetchValue("select count(*) from audit_probe")).isEqualTo(0L);
      assertThat(db.fetchValue("select 1")).isEqualTo(1);
    }
  }

  @Test
  void timeouts_leaveNoSessionSettingBehind_soPgBouncerTransactionPoolingIsSafe()
      throws SQLException {
    try (var app = start(true)) {
      var db = app.get(DSLContext.class);
      try (var scope = app.get(QueryMonitor.class).withTimeout(Duration.ofSeconds(1))) {
        assertThatThrownBy(() -> db.execute("select pg_sleep(5)"))
            .isInstanceOf(QueryTimeoutException.class);
      }
      db.fetch("select id from t where id = ?", 1L);
      try (var c = app.get(DataSource.class).getConnection();
          var s = c.createStatement();
          var rs =
              s.executeQuery(
                  "select current_setting('statement_timeout'), current_setting('lock_timeout')")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("0");
        assertThat(rs.getString(2)).isEqualTo("0");
      }
    }
  }

  /**
   * Regression: the watchdog cancelled once; a lost cancel request (PgBouncer drops one for a
   * client still queued for a server) let the statement run to its end. Here the first request
   * cannot get through (the proxy in front of the server refuses new connections, and a cancel
   * request needs one); the next ones must.
   */
  @Test
  void lostCancelRequest_isSentAgainUntilTheStatementEnds() throws Exception {
    try (var proxy = FaultProxy.to(PG.server().host(), PG.server().port());
        var app =
            Ballast.start(
                new CoreModule(CoreSettings.defaults()),
                new PoolModule(
                    PoolSettings.builder()
                        .url(
                            PG.databaseUrl()
                                .replace(
                                    PG.server().host() + ":" + PG.server().port(),
                                    proxy.host() + ":" + proxy.port()))
                        .connectionLimit(1)
                        .build()))) {
      var db = app.get(DSLContext.class);
      assertThat(db.fetchValue("select 1")).isEqualTo(1); // the pool's one connection is open
      proxy.refuseNew();
      var executor = java.util.concurrent.Executors.newSingleThreadExecutor();
      try {
        var result =
            executor.submit(
                () -> {
                  try (var scope = app.get(QueryMonitor.class).withTimeout(Duration.ofSeconds(1))) {
                    return db.fetchValue("select pg_sleep(30)");
                  }
                });
        // past its deadline by well over the first request's attempt, and still running
        awaitRunningFor(Duration.ofMillis(1600));
        proxy.restore();
        assertThatThrownBy(() -> result.get(10, java.util.concurrent.TimeUnit.SECONDS))
            .hasCauseInstanceOf(QueryTimeoutException.class);
      } finally {
        executor.shutdownNow();
      }
      assertThat(runningSleeps()).isZero();
    }
  }

  private static void awaitRunningFor(Duration d) {
    Await.until(
        "a statement running for " + d,
        Duration.ofSeconds(20),
        () -> {
          try (var c = PG.connect();
              var s = c.createStatement();
              var rs =
                  s.executeQuery(
                      "select count(*) from pg_stat_activity where state = 'active' and query like 'select pg_sleep%'"
                          + " and now() - query_start > interval '"
                          + d.toMillis()
                          + " milliseconds'")) {
            rs.next();
            return rs.getLong(1) > 0;
          }
        });
  }

  @Test
  void queriesOverHalfTheirLimit_areLoggedAsWarnings() {
    try (var logs = new LogCapture();
        var app = start(false)) {
      app.get(DSLContext.class)
          .fetchValue("select count(*) from t where id = 1 and pg_sleep(0.6) is not null");
      assertThat(logs.lines())
          .anyMatch(
              l ->
                  l.startsWith("WARN Query near its timeout: ")
                      && l.contains("class simple (timeout 1 s)"));
    }
  }
}
