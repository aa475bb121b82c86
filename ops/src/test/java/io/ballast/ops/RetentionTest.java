package io.ballast.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.testkit.Await;
import io.ballast.testkit.PostgresExtension;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Archive and purge in batches on a real PostgreSQL, under concurrent writes and a crash. */
class RetentionTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  static final RetentionPolicy EVENTS =
      RetentionPolicy.of("events", "created_at", Duration.ofDays(365))
          .archiveTo("events_archive", Duration.ofDays(730));

  /** {@code old} rows of 400 days, {@code ancient} of 800, {@code recent} of today. */
  static void events(String table, int old, int ancient, int recent) throws SQLException {
    PG.execute(
        "create table "
            + table
            + " (id bigserial primary key, created_at timestamptz not null, payload text)",
        "insert into "
            + table
            + " (created_at, payload) select now() - interval '400 days', 'old ' || g"
            + " from generate_series(1, "
            + old
            + ") g",
        "insert into "
            + table
            + " (created_at, payload) select now() - interval '800 days', 'ancient ' || g"
            + " from generate_series(1, "
            + ancient
            + ") g",
        "insert into "
            + table
            + " (created_at, payload) select now(), 'recent ' || g from generate_series(1, "
            + recent
            + ") g");
  }

  static long count(String sql) throws SQLException {
    try (var c = PG.connect();
        var s = c.createStatement();
        var rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static Retention retention(OpsSettings settings) {
    return new Retention(PG.dataSource(), settings);
  }

  @Test
  void archive_of100000Rows_inBatches_whileAnotherThreadInsertsAndReads_losesAndDuplicatesNothing()
      throws Exception {
    events("events", 90_000, 10_000, 1_000);
    var settings =
        OpsSettings.builder().batchSize(5_000).batchPause(Duration.ZERO).retention(EVENTS).build();
    var stop = new AtomicBoolean();
    var inserted = new AtomicLong();
    var reads = new AtomicLong();
    var failure = new AtomicReference<Throwable>();
    var writer =
        new Thread(
            () -> {
              try (var c = PG.connect();
                  var insert =
                      c.prepareStatement(
                          "insert into events (created_at, payload) values (now(), 'during')");
                  var read =
                      c.prepareStatement(
                          "select count(*) from events where created_at > now() - interval '1 day'")) {
                while (!stop.get()) {
                  insert.executeUpdate();
                  inserted.incrementAndGet();
                  try (var rs = read.executeQuery()) {
                    rs.next();
                    reads.incrementAndGet();
                  }
                }
              } catch (Throwable e) {
                failure.set(e);
              }
            });
    writer.start();
    Await.until("the writer is writing", Duration.ofSeconds(10), () -> inserted.get() > 0);
    // the archiver's transactions, as pg_stat_activity shows them while it works: one per batch,
    // never one for the whole run
    var transactions = java.util.concurrent.ConcurrentHashMap.<String>newKeySet();
    var sampling = PG.connect();
    var sample =
        sampling.prepareStatement(
            "select xact_start::text from pg_stat_activity"
                + " where application_name = 'ballast retention' and xact_start is not null");
    var sampler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    var unusedSamples =
        sampler.scheduleWithFixedDelay(
            () -> {
              try (var rs = sample.executeQuery()) {
                while (rs.next()) {
                  transactions.add(rs.getString(1));
                }
              } catch (SQLException e) {
                failure.set(e);
              }
            },
            0,
            2,
            java.util.concurrent.TimeUnit.MILLISECONDS);
    var duringArchive = inserted.get();
    var batches = new AtomicLong();
    MaintenanceAction action;
    try {
      action =
          retention(settings)
              .archive(EVENTS, false, (what, done, total) -> batches.incrementAndGet());
    } finally {
      sampler.shutdown();
      sampler.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
      sampling.close();
    }
    duringArchive = inserted.get() - duringArchive;
    stop.set(true);
    writer.join();

    assertThat(failure.get()).isNull();
    assertThat(action.outcome()).isEqualTo("done");
    assertThat(action.rows()).isEqualTo(100_000);
    assertThat(batches.get()).as("batches of 5 000").isEqualTo(20);
    assertThat(transactions.size())
        .as("distinct transactions of the archiver seen while it ran (one per batch)")
        .isGreaterThan(1);
    assertThat(duringArchive).as("inserts committed while archiving").isPositive();
    assertThat(count("select count(*) from events where created_at < now() - interval '365 days'"))
        .as("old rows left behind")
        .isZero();
    assertThat(count("select count(*) from events")).isEqualTo(1_000 + inserted.get());
    assertThat(count("select count(*) from events_archive")).isEqualTo(100_000);
    assertThat(count("select count(distinct id) from events_archive")).isEqualTo(100_000);
    assertThat(count("select count(*) from events e join events_archive a using (id)"))
        .as("rows in both")
        .isZero();
    assertThat(
            count(
                "select count(*) from events_archive where payload like 'recent%' or payload = 'during'"))
        .isZero();
  }

  @Test
  void aKilledConnectionMidArchive_resumesCleanly_noRowLostOrDuplicated() throws Exception {
    events("crashy", 60_000, 0, 10);
    var policy =
        RetentionPolicy.of("crashy", "created_at", Duration.ofDays(365))
            .archiveTo("crashy_archive", null);
    var settings = OpsSettings.builder().batchSize(1_000).batchPause(Duration.ZERO).build();
    var killed = new AtomicBoolean();
    var thrown = new AtomicReference<Throwable>();
    var archiver =
        new Thread(
            () -> {
              try {
                retention(settings).archive(policy, false, Progress.NONE);
              } catch (Throwable e) {
                thrown.set(e);
              }
            });
    archiver.start();
    Await.until(
        "some batches done",
        Duration.ofSeconds(30),
        () ->
            count("select count(*) from pg_class where relname = 'crashy_archive'") == 1
                && count("select count(*) from crashy_archive") >= 5_000);
    // kill the archiving session in the middle of a batch (its transaction carries the name)
    Await.until(
        "the archiver killed mid-batch",
        Duration.ofSeconds(30),
        () -> {
          killed.set(
              count(
                      "select count(pg_terminate_backend(pid)) from pg_stat_activity"
                          + " where application_name = 'ballast retention'")
                  > 0);
          return killed.get() || !archiver.isAlive();
        });
    archiver.join();
    assertThat(killed).as("the archiver was killed mid-run").isTrue();
    assertThat(thrown.get())
        .isInstanceOf(MaintenanceException.class)
        .hasMessageStartingWith("archive of crashy stopped after ")
        .hasMessageContaining("those stay done; run it again to go on");
    var archivedBefore = count("select count(*) from crashy_archive");
    assertThat(archivedBefore).isBetween(5_000L, 59_999L);
    assertThat(archivedBefore % 1_000).as("whole batches only").isZero();

    var resumed = retention(settings).archive(policy, false, Progress.NONE);
    assertThat(resumed.rows()).isEqualTo(60_000 - archivedBefore);
    assertThat(count("select count(*) from crashy_archive")).isEqualTo(60_000);
    assertThat(count("select count(distinct id) from crashy_archive")).isEqualTo(60_000);
    assertThat(count("select count(*) from crashy")).isEqualTo(10);
  }

  @Test
  void dryRun_countsAndMovesNothing_thenPurgeDeletesOnlyArchivedRowsPastTheSecondAge()
      throws Exception {
    events("logs", 300, 200, 50);
    var policy =
        RetentionPolicy.of("logs", "created_at", Duration.ofDays(365))
            .archiveTo("logs_archive", Duration.ofDays(730));
    var retention = retention(OpsSettings.builder().batchSize(64).retention(policy).build());

    var dry = retention.archive(true, Progress.NONE);
    assertThat(dry)
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.outcome()).isEqualTo("dry run");
              assertThat(a.rows()).isEqualTo(500);
            });
    assertThat(count("select count(*) from logs")).isEqualTo(550);
    assertThat(count("select (to_regclass('logs_archive') is not null)::int"))
        .as("not created")
        .isZero();
    assertThat(retention.purge(true, Progress.NONE))
        .singleElement()
        .satisfies(a -> assertThat(a.rows()).isZero());

    assertThat(retention.archive(false, Progress.NONE))
        .singleElement()
        .satisfies(a -> assertThat(a.rows()).isEqualTo(500));
    assertThat(retention.purge(true, Progress.NONE))
        .singleElement()
        .satisfies(a -> assertThat(a.rows()).isEqualTo(200));
    assertThat(retention.purge(false, Progress.NONE))
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.action()).isEqualTo("purge");
              assertThat(a.rows()).isEqualTo(200);
            });
    assertThat(count("select count(*) from logs_archive")).isEqualTo(300);
    assertThat(count("select count(*) from logs_archive where payload like 'ancient%'")).isZero();
    assertThat(count("select count(*) from logs")).isEqualTo(50);
  }

  @Test
  void withoutAnArchiveTable_oldRowsAreDeleted() throws Exception {
    events("sessions", 120, 0, 30);
    var policy = RetentionPolicy.of("sessions", "created_at", Duration.ofDays(30));
    var action =
        retention(OpsSettings.builder().batchSize(50).build())
            .archive(policy, false, Progress.NONE);
    assertThat(action.action()).isEqualTo("delete");
    assertThat(action.rows()).isEqualTo(120);
    assertThat(count("select count(*) from sessions")).isEqualTo(30);
  }

  @Test
  void anArchiveTableMissingAColumn_failsNamingIt_andMovesNothing() throws Exception {
    events("audits", 10, 0, 0);
    PG.execute("create table audits_archive (id bigint primary key, created_at timestamptz)");
    var policy =
        RetentionPolicy.of("audits", "created_at", Duration.ofDays(30))
            .archiveTo("audits_archive", null);
    assertThatThrownBy(
            () -> retention(OpsSettings.defaults()).archive(policy, false, Progress.NONE))
        .isInstanceOf(MaintenanceException.class)
        .hasMessageContaining("archive table audits_archive lacks column(s) payload of audits");
    assertThat(count("select count(*) from audits")).isEqualTo(10);
  }

  @Test
  void aPolicyWhoseKeyColumnIsMissing_failsNamingIt_andAnotherKeyWorks() throws Exception {
    PG.execute(
        "create table visits (visit_id bigint primary key, at timestamptz not null)",
        "insert into visits select g, now() - interval '100 days' from generate_series(1, 30) g");
    var byId = RetentionPolicy.of("visits", "at", Duration.ofDays(30));
    assertThatThrownBy(() -> retention(OpsSettings.defaults()).archive(byId, false, Progress.NONE))
        .isInstanceOf(MaintenanceException.class)
        .hasMessageContaining("table visits has no column id (the policy's key column");
    var policy = RetentionPolicy.parseAll("visits.at:30:::visit_id").get(0);
    assertThat(policy).isEqualTo(byId.keyedBy("visit_id"));
    assertThat(retention(OpsSettings.defaults()).archive(policy, false, Progress.NONE).rows())
        .isEqualTo(30);
  }

  @Test
  void rowsTheApplicationHoldsLocked_areSkippedWithoutWaiting_andTakenByTheNextRun()
      throws Exception {
    events("held", 50, 0, 0);
    var policy =
        RetentionPolicy.of("held", "created_at", Duration.ofDays(365))
            .archiveTo("held_archive", null);
    var retention =
        retention(OpsSettings.builder().batchSize(10).lockTimeout(Duration.ofSeconds(30)).build());
    try (var app = PG.connect()) {
      app.setAutoCommit(false);
      try (var s = app.createStatement()) {
        s.execute("select * from held where id in (3, 17) for update");
      }
      // with a 30 s lock timeout, waiting for the held rows would show as a stalled run
      var first = retention.archive(policy, false, Progress.NONE);
      assertThat(first.rows()).isEqualTo(48);
      assertThat(count("select count(*) from held")).isEqualTo(2);
      app.rollback();
    }
    assertThat(retention.archive(policy, false, Progress.NONE).rows()).isEqualTo(2);
    assertThat(count("select count(*) from held_archive")).isEqualTo(50);
  }

  @Test
  void policies_checkTheirParts_andParseFromTheEnvironmentForm() {
    assertThat(RetentionPolicy.parseAll("events.created_at:365:events_archive:730; app.logs.at:30"))
        .containsExactly(EVENTS, RetentionPolicy.of("app.logs", "at", Duration.ofDays(30)));
    assertThatThrownBy(() -> RetentionPolicy.of("events;drop", "created_at", Duration.ofDays(1)))
        .hasMessage("table must be a table name, optionally schema-qualified, but was events;drop");
    assertThatThrownBy(
            () ->
                RetentionPolicy.of("events", "created_at", Duration.ofDays(10))
                    .archiveTo("events_archive", Duration.ofDays(5)))
        .hasMessage(
            "purgeAfter of events must be longer than archiveAfter (PT240H), but was PT120H");
    assertThatThrownBy(() -> OpsSettings.fromEnv(java.util.Map.of("BALLAST_RETENTION", "events")))
        .hasMessageContaining("BALLAST_RETENTION")
        .hasMessageContaining("table.column:days");
  }
}
