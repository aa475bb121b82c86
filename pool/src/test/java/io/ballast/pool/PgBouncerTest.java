package io.ballast.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.monitor.MonitorSettings;
import io.ballast.core.monitor.QueryMonitor;
import io.ballast.core.monitor.QueryTimeoutException;
import io.ballast.core.settings.AppEnv;
import io.ballast.testkit.Await;
import io.ballast.testkit.LogCapture;
import io.ballast.testkit.PgBouncer;
import io.ballast.testkit.PostgresExtension;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The pool through a real PgBouncer: detection of transaction pooling, dirty connections, timeouts.
 */
class PgBouncerTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  private static Ballast start(String url, int connections, boolean pgbouncer) {
    return Ballast.start(
        new CoreModule(
            CoreSettings.builder().monitor(MonitorSettings.defaults(AppEnv.PRODUCTION)).build()),
        new PoolModule(
            PoolSettings.builder()
                .url(url)
                .connectionLimit(connections)
                .pgbouncer(pgbouncer)
                .build()));
  }

  @Test
  void transactionPoolingBouncer_withoutTheFlag_isDetectedAndRunsInPgBouncerMode() {
    try (var bouncer =
            PgBouncer.builder(PG).poolMode(PgBouncer.PoolMode.TRANSACTION).poolSize(2).start();
        var logs = new LogCapture();
        var app = start(bouncer.databaseUrl(PG.username(), PG.password()), 4, false)) {
      var pool = app.get(Pool.class);
      assertThat(pool.pgbouncerMode()).isTrue();
      assertThat(logs.lines())
          .anyMatch(
              l ->
                  l.startsWith("WARN Pool 'primary': ")
                      && l.contains("is a transaction-pooling PgBouncer")
                      && l.contains("Set pgbouncer=true"));
      // prepared statements would break here: the same statement many times, from many threads
      var db = app.get(DSLContext.class);
      for (int i = 0; i < 50; i++) {
        assertThat(db.fetchValue("select ?::int + 1", i)).isEqualTo(i + 1);
        db.transaction(cfg -> cfg.dsl().fetchValue("select 1"));
      }
    }
  }

  @Test
  void directServerAndSessionPooling_areNotTakenForTransactionPooling() {
    try (var logs = new LogCapture();
        var app = start(PG.databaseUrl(), 2, false)) {
      assertThat(app.get(Pool.class).pgbouncerMode()).isFalse();
      assertThat(logs.lines()).noneMatch(l -> l.contains("transaction-pooling PgBouncer"));
    }
    try (var bouncer =
            PgBouncer.builder(PG).poolMode(PgBouncer.PoolMode.SESSION).poolSize(4).start();
        var app = start(bouncer.databaseUrl(PG.username(), PG.password()), 2, false)) {
      assertThat(app.get(Pool.class).pgbouncerMode()).isFalse();
    }
  }

  /**
   * Regression: a connection handed back still inside a transaction (its end lost, as behind a
   * transaction pooler without the flag) was lent to the next borrower, who then ran inside it,
   * under its settings.
   */
  @Test
  void connectionReturnedInsideATransaction_isEvictedNotLent() throws SQLException {
    try (var logs = new LogCapture();
        var app = start(PG.databaseUrl(), 1, false)) {
      var ds = app.get(DataSource.class);
      try (var c = ds.getConnection();
          var s = c.createStatement()) {
        // autocommit on, yet a transaction open with a transaction-local setting: what a lost
        // COMMIT leaves
        s.execute("begin");
        s.execute("select set_config('ballast.tenant_id', 'acme', true)");
      }
      var db = app.get(DSLContext.class);
      assertThat(db.fetchValue("select current_setting('ballast.tenant_id', true)")).isIn(null, "");
      assertThat(
              app.get(com.codahale.metrics.MetricRegistry.class)
                  .counter("ballast.pool.primary.DirtyEvictions")
                  .getCount())
          .isEqualTo(1);
      assertThat(logs.lines())
          .anyMatch(l -> l.startsWith("WARN Pool 'primary': a connection came back still inside"));
    }
  }

  /**
   * Regression: statements past a 1 s timeout through a bouncer whose server pool of 4 is
   * saturated: the bouncer drops the cancel request of a client still queued for a server, and the
   * watchdog cancelled only once, so such a statement ran its full 30 s once it got a server. Four
   * statements with a 3 s timeout hold the servers while sixteen with 1 s wait behind them: every
   * one must end by a timeout.
   */
  @Test
  void timeoutsBehindASaturatedBouncer_cancelEveryStatement() throws Exception {
    try (var bouncer =
            PgBouncer.builder(PG).poolMode(PgBouncer.PoolMode.TRANSACTION).poolSize(4).start();
        var app = start(bouncer.databaseUrl(PG.username(), PG.password()), 20, true)) {
      var db = app.get(DSLContext.class);
      var monitor = app.get(QueryMonitor.class);
      var executor = Executors.newFixedThreadPool(20);
      try {
        var started = System.nanoTime();
        var results = new ArrayList<Future<Object>>();
        for (int i = 0; i < 20; i++) {
          var limit = Duration.ofSeconds(i < 4 ? 3 : 1);
          results.add(
              executor.submit(
                  () -> {
                    try (var scope = monitor.withTimeout(limit)) {
                      return db.fetchValue("select pg_sleep(30)");
                    } catch (QueryTimeoutException e) {
                      return e;
                    }
                  }));
          if (i == 3) {
            awaitSleeping(4); // the four long ones hold every server connection of the bouncer
          }
        }
        var outcomes = new ArrayList<Object>();
        for (var f : results) {
          try {
            outcomes.add(f.get(60, TimeUnit.SECONDS));
          } catch (java.util.concurrent.TimeoutException e) {
            outcomes.add("still running after 60 s");
          }
        }
        var took = Duration.ofNanos(System.nanoTime() - started);
        assertThat(outcomes)
            .as(bouncer.logTail())
            .allMatch(o -> o instanceof QueryTimeoutException);
        // the long ones end at 3 s, then 4 waves of 4 each ended by a cancel: far below one
        // statement's 30 s
        assertThat(took).isLessThan(Duration.ofSeconds(20));
      } finally {
        executor.shutdownNow();
      }
      assertThat(sleeping()).as("backends still sleeping").isZero();
    }
  }

  private static long sleeping() throws SQLException {
    try (var c = PG.connect();
        var s = c.createStatement();
        var rs =
            s.executeQuery(
                "select count(*) from pg_stat_activity where state = 'active' and query like 'select pg_sleep%'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void awaitSleeping(int n) {
    Await.until(n + " sleeping backends", Duration.ofSeconds(10), () -> sleeping() >= n);
  }
}
