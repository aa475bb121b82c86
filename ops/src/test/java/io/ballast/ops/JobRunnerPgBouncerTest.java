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
 * The ops module behind a real PgBouncer in transaction mode, where a session advisory lock or a
 * session {@code SET} would stay on whichever server connection took it: each scheduled time still
 * runs exactly once, week after week; vacuum and reindex are skipped saying why; retention works;
 * and no setting is left behind for other clients.
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

  @Test
  void maintenanceThroughABouncer_skipsVacuumSayingWhy_leaksNoSetting_andRetentionWorks()
      throws Exception {
    PG.execute(
        "create table through (id bigserial primary key, created_at timestamptz not null)"
            + " with (autovacuum_enabled = false)",
        "insert into through (created_at) select now() - interval '90 days'"
            + " from generate_series(1, 3000)",
        "insert into through (created_at) select now() from generate_series(1, 2000)",
        "delete from through where id % 3 = 0 and created_at > now() - interval '1 day'");
    PG.execute("select pg_stat_force_next_flush()");
    try (var bouncer =
            PgBouncer.builder(PG).poolMode(PgBouncer.PoolMode.TRANSACTION).poolSize(2).start();
        var app =
            io.ballast.core.Ballast.start(
                new io.ballast.core.CoreModule(io.ballast.core.CoreSettings.defaults()),
                new io.ballast.pool.PoolModule(
                    io.ballast.pool.PoolSettings.builder()
                        .url(bouncer.databaseUrl(PG.username(), PG.password()))
                        .connectionLimit(4)
                        .build()),
                new OpsModule(
                    OpsSettings.builder()
                        .jobsEnabled(false)
                        .vacuumMinDeadRows(100)
                        .batchSize(500)
                        .retention(
                            RetentionPolicy.of("through", "created_at", Duration.ofDays(30))
                                .archiveTo("through_archive", null))
                        .build()))) {
      assertThat(app.get(io.ballast.pool.Pool.class).pgbouncerMode()).isTrue();
      var maintenance = app.get(Maintenance.class);
      assertThat(maintenance.report().findings()).anyMatch(f -> f.startsWith("public.through: "));
      assertThat(maintenance.vacuum(false, java.util.Set.of(), Progress.NONE))
          .filteredOn(a -> a.object().equals("public.through"))
          .singleElement()
          .extracting(MaintenanceAction::outcome)
          .isEqualTo(
              "skipped: needs a direct connection to the server, not PgBouncer in transaction mode");

      var archived = app.get(Retention.class).archive(false, Progress.NONE);
      assertThat(archived).singleElement().satisfies(a -> assertThat(a.rows()).isEqualTo(3000));

      // nothing Ballast set stays on the bouncer's server connections for the next client
      for (int i = 0; i < 4; i++) {
        try (var c = bouncer.connect(PG.username(), PG.password());
            var s = c.createStatement();
            var rs =
                s.executeQuery(
                    "select current_setting('lock_timeout'),"
                        + " current_setting('statement_timeout'), current_setting('application_name')")) {
          rs.next();
          assertThat(rs.getString(1)).isEqualTo("0");
          assertThat(rs.getString(2)).isEqualTo("0");
          assertThat(rs.getString(3)).isNotEqualTo("ballast retention");
        }
      }
    }
  }
}
