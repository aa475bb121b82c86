package io.ballast.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.monitor.MonitorSettings;
import io.ballast.core.monitor.QueryMonitor;
import io.ballast.core.monitor.QueryTimeoutException;
import io.ballast.core.settings.AppEnv;
import io.ballast.testkit.Await;
import io.ballast.testkit.PgBouncer;
import io.ballast.testkit.PostgresExtension;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Query timeouts through a real PgBouncer in transaction mode cancel the statement that ran out of
 * time and nothing else: other clients' statements, sharing the bouncer's two server connections,
 * run to the end while timeouts fire around them.
 */
class PgBouncerTimeoutTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  private static long sleeping(String seconds) throws SQLException {
    try (var c = PG.connect();
        var s = c.createStatement();
        var rs =
            s.executeQuery(
                "select count(*) from pg_stat_activity where state = 'active' and query = 'select pg_sleep("
                    + seconds
                    + ")'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void timeoutsBehindTransactionPooling_cancelTheirOwnStatement_andNoOtherClients()
      throws Exception {
    try (var bouncer =
            PgBouncer.builder(PG).poolMode(PgBouncer.PoolMode.TRANSACTION).poolSize(3).start();
        var app =
            Ballast.start(
                new CoreModule(
                    CoreSettings.builder()
                        .monitor(MonitorSettings.defaults(AppEnv.PRODUCTION))
                        .build()),
                new PoolModule(
                    PoolSettings.builder()
                        .url(bouncer.databaseUrl(PG.username(), PG.password()))
                        .connectionLimit(6)
                        .pgbouncer(true)
                        .build()))) {
      var db = app.get(DSLContext.class);
      var monitor = app.get(QueryMonitor.class);
      var stop = new AtomicBoolean();
      var completed = new AtomicInteger();
      var others = Executors.newFixedThreadPool(2);
      var work = new ArrayList<Future<?>>();
      try {
        for (int t = 0; t < 2; t++) {
          work.add(
              others.submit(
                  (Callable<Void>)
                      () -> {
                        while (!stop.get()) {
                          db.execute("select pg_sleep(0.3)"); // a wrong cancel fails it with 57014
                          completed.incrementAndGet();
                        }
                        return null;
                      }));
        }
        for (int round = 0; round < 5; round++) {
          try (var scope = monitor.withTimeout(Duration.ofSeconds(1))) {
            var started = System.nanoTime();
            assertThatThrownBy(() -> db.execute("select pg_sleep(20)"))
                .isInstanceOf(QueryTimeoutException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - started))
                .isLessThan(Duration.ofSeconds(10));
          }
          Await.until(
              "the timed-out statement is gone from the server",
              Duration.ofSeconds(10),
              () -> sleeping("20") == 0);
        }
        var before = completed.get();
        Await.until("the others go on", Duration.ofSeconds(10), () -> completed.get() > before + 2);
        stop.set(true);
        for (var f : work) {
          f.get(1, TimeUnit.MINUTES); // a cancelled statement of another client fails here
        }
      } finally {
        stop.set(true);
        others.shutdownNow();
      }
      assertThat(completed.get()).isGreaterThan(10);
      assertThat(db.fetchSingle("select 1").get(0, Integer.class)).isEqualTo(1);
    }
  }
}
