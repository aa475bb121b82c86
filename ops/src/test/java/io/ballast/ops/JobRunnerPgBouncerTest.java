package io.ballast.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import io.ballast.testkit.PgBouncer;
import io.ballast.testkit.PostgresExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Jobs behind a real PgBouncer in transaction mode, where a session advisory lock would stay on
 * whichever server connection took it: each scheduled time still runs exactly once, week after
 * week, and a dead holder's run is still taken over.
 */
class JobRunnerPgBouncerTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  static DataSource through(PgBouncer bouncer) {
    var ds = new PGSimpleDataSource();
    ds.setServerNames(new String[] {bouncer.host()});
    ds.setPortNumbers(new int[] {bouncer.port()});
    ds.setDatabaseName(PG.databaseName());
    ds.setUser(PG.username());
    ds.setPassword(PG.password());
    ds.setPrepareThreshold(0);
    return ds;
  }

  @Test
  void threeRunnersThroughATransactionPoolingBouncer_runEachTimeExactlyOnce() throws Exception {
    try (var bouncer =
        PgBouncer.builder(PG).poolMode(PgBouncer.PoolMode.TRANSACTION).poolSize(3).start()) {
      var clock = new JobRunnerTest.MovableClock(JobRunnerTest.SUNDAY_3AM);
      var settings = OpsSettings.defaults();
      var runs = new CopyOnWriteArrayList<String>();
      var runners = new ArrayList<JobRunner>();
      for (var name : List.of("a", "b", "c")) {
        runners.add(
            new JobRunner(
                through(bouncer),
                settings,
                List.of(
                    new Job(
                        "weekly",
                        "0 3 * * 0",
                        p -> {
                          runs.add(name);
                          return "ok";
                        })),
                new MetricRegistry(),
                clock,
                name));
      }
      for (int week = 0; week < 4; week++) {
        var ticks =
            runners.stream()
                .map(r -> CompletableFuture.supplyAsync(() -> r.tick().size() + r.tick().size()))
                .toList();
        var total = 0;
        for (var t : ticks) {
          total += t.get(60, TimeUnit.SECONDS);
        }
        assertThat(total).as("runs in week " + week + " (" + runs + ")").isEqualTo(1);
        clock.advance(Duration.ofDays(7));
      }
      assertThat(runs).hasSize(4);
      // no advisory lock is left behind on a server connection
      try (var c = PG.connect();
          var s = c.createStatement();
          var rs =
              s.executeQuery(
                  "select count(*) from pg_locks where locktype = 'advisory'"
                      + " and database = (select oid from pg_database where datname = current_database())")) {
        rs.next();
        assertThat(rs.getLong(1)).isZero();
      }
    }
  }
}
