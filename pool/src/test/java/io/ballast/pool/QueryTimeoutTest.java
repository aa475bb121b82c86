package io.ballast.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.core.AppEnv;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.monitor.MonitorSettings;
import io.ballast.core.monitor.QueryClass;
import io.ballast.core.monitor.QueryMonitor;
import io.ballast.core.monitor.QueryTimeoutException;
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
    PG.execute("create table t (id bigint primary key)", "insert into t select generate_series(1, 10)");
  }

  /** A pool of one connection: whatever a timeout does to it, the next statement sees. */
  private static Ballast start(boolean pgbouncer) {
    return Ballast.start(new CoreModule(CoreSettings.builder().monitor(MonitorSettings.defaults(AppEnv.PRODUCTION)).build()),
        new PoolModule(PoolSettings.builder().url(PG.databaseUrl()).connectionLimit(1).pgbouncer(pgbouncer).build()));
  }

  private static long runningSleeps() throws SQLException {
    try (var c = PG.connect(); var s = c.createStatement(); var rs = s.executeQuery(
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
            .hasMessage("Query cancelled after its 1 s timeout (class simple): select pg_sleep(?)")
            .satisfies(e -> assertThat(((QueryTimeoutException) e).limit()).isEqualTo(Duration.ofSeconds(1)));
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
      assertThatThrownBy(() -> db.fetchValue("select count(*) from t where pg_sleep(0.5) is not null"))
          .isInstanceOf(QueryTimeoutException.class)
          .hasMessage("Query cancelled after its 1 s timeout (class simple): select count(*) from t where pg_sleep(?)"
              + " is not null")
          .satisfies(e -> assertThat(((QueryTimeoutException) e).queryClass()).isEqualTo(QueryClass.SIMPLE));
      // the same statement with a REPORT block limit completes (10 rows × 0.5 s = 5 s)
      try (var scope = app.get(QueryMonitor.class).withTimeout(QueryClass.REPORT)) {
        assertThat(db.fetchValue("select count(*) from t where id <= 3 and pg_sleep(0.5) is not null")).isEqualTo(3L);
      }
    }
  }

  @Test
  void timeoutInATransaction_rollsItBackAndLeavesTheConnectionClean() throws SQLException {
    PG.execute("create table if not exists audit_probe (n int)");
    try (var app = start(false)) {
      var db = app.get(DSLContext.class);
      try (var scope = app.get(QueryMonitor.class).withTimeout(Duration.ofSeconds(1))) {
        assertThatThrownBy(() -> db.transaction(cfg -> {
          cfg.dsl().execute("insert into audit_probe values (1)");
          cfg.dsl().execute("select pg_sleep(10)");
        })).isInstanceOf(QueryTimeoutException.class);
      }
      assertThat(runningSleeps()).isZero();
      assertThat(db.fetchValue("select count(*) from audit_probe")).isEqualTo(0L);
      assertThat(db.fetchValue("select 1")).isEqualTo(1);
    }
  }

  @Test
  void timeouts_leaveNoSessionSettingBehind_soPgBouncerTransactionPoolingIsSafe() throws SQLException {
    try (var app = start(true)) {
      var db = app.get(DSLContext.class);
      try (var scope = app.get(QueryMonitor.class).withTimeout(Duration.ofSeconds(1))) {
        assertThatThrownBy(() -> db.execute("select pg_sleep(5)")).isInstanceOf(QueryTimeoutException.class);
      }
      db.fetch("select id from t where id = ?", 1L);
      try (var c = app.get(DataSource.class).getConnection(); var s = c.createStatement();
           var rs = s.executeQuery("select current_setting('statement_timeout'), current_setting('lock_timeout')")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("0");
        assertThat(rs.getString(2)).isEqualTo("0");
      }
    }
  }

  @Test
  void queriesOverHalfTheirLimit_areLoggedAsWarnings() {
    try (var logs = new LogCapture(); var app = start(false)) {
      app.get(DSLContext.class).fetchValue("select count(*) from t where id = 1 and pg_sleep(0.6) is not null");
      assertThat(logs.lines()).anyMatch(l -> l.startsWith("WARN Query near its timeout: ")
          && l.contains("class simple (timeout 1 s)"));
    }
  }
}
