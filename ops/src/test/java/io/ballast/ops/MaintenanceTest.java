package io.ballast.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.testkit.PostgresExtension;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The report, vacuum and reindex on a real PostgreSQL, with bloat and dead rows made on purpose.
 */
class MaintenanceTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  static Maintenance maintenance(OpsSettings settings) {
    return new Maintenance(PG.dataSource(), settings);
  }

  @BeforeAll
  static void tables() throws SQLException {
    PG.execute(
        "create table quiet (id bigint primary key, x int, y int) with (autovacuum_enabled = false)",
        "insert into quiet select g, g % 100, g % 7 from generate_series(1, 5000) g",
        "create index quiet_x on quiet (x)",
        "create index quiet_x_y on quiet (x, y)",
        "create index quiet_y_a on quiet (y)",
        "create index quiet_y_b on quiet (y)",
        "analyze quiet");
  }

  /** Statistics reach the views at transaction end, at most once a second unless forced. */
  static void flushStats() throws SQLException {
    PG.execute("select pg_stat_force_next_flush()");
  }

  @Test
  void report_findsDeadRows_redundantIndexes_andDatabaseFigures() throws SQLException {
    PG.execute(
        // autovacuum off, so the dead rows stay until a vacuum
        "create table churn (id bigint primary key, payload text) with (autovacuum_enabled = false)",
        "insert into churn select g, repeat('x', 100) from generate_series(1, 20000) g",
        "delete from churn where id % 2 = 0");
    flushStats();
    var report = maintenance(OpsSettings.defaults()).report();

    var churn = report.table("public", "churn").orElseThrow();
    assertThat(churn.deadRows()).isEqualTo(10_000);
    assertThat(churn.deadRatio()).isBetween(0.45, 0.55);
    assertThat(churn.heapBytes()).isPositive();
    assertThat(churn.indexBytes()).isPositive();
    assertThat(report.findings())
        .anyMatch(f -> f.startsWith("public.churn: 50 % dead rows (10,000 dead): vacuum"));

    assertThat(report.index("public", "quiet_x").orElseThrow().redundantWith())
        .isEqualTo("public.quiet_x_y");
    assertThat(report.index("public", "quiet_y_b").orElseThrow().redundantWith())
        .as("the later name of two identical indexes")
        .isEqualTo("public.quiet_y_a");
    assertThat(report.index("public", "quiet_y_a").orElseThrow().redundantWith()).isNull();
    assertThat(report.index("public", "quiet_x_y").orElseThrow().redundantWith()).isNull();
    assertThat(report.index("public", "quiet_pkey").orElseThrow().unique()).isTrue();
    assertThat(report.findings())
        .contains(
            "index public.quiet_x is redundant with public.quiet_x_y (its columns lead that"
                + " index): consider dropping it");

    assertThat(report.database().name()).isEqualTo(PG.databaseName());
    assertThat(report.database().cacheHitRatio()).isBetween(0.0, 1.0);
    assertThat(report.database().xidAge()).isPositive();
    assertThat(report.database().wraparoundRatio()).isLessThan(0.5);
  }

  @Test
  void redundancy_rules() {
    assertThat(Maintenance.redundant("a", "1", false, "b", "1 2", false)).isTrue();
    assertThat(Maintenance.redundant("a", "1 2", false, "b", "1", false)).isFalse();
    assertThat(Maintenance.redundant("a", "2", false, "b", "1 2", false)).isFalse();
    assertThat(Maintenance.redundant("a", "1", true, "b", "1 2", false))
        .as("a unique index enforces something")
        .isFalse();
    assertThat(Maintenance.redundant("a", "1", false, "b", "1", true)).isTrue();
    assertThat(Maintenance.redundant("b", "1", true, "a", "1", true)).isTrue();
    assertThat(Maintenance.redundant("a", "1", true, "b", "1", true)).isFalse();
  }

  @Test
  void vacuum_dryRunChangesNothing_thenRemovesTheDeadRows() throws SQLException {
    PG.execute(
        "create table vac (id bigint primary key) with (autovacuum_enabled = false)",
        "insert into vac select generate_series(1, 10000)",
        "delete from vac where id <= 6000");
    flushStats();
    var maintenance = maintenance(OpsSettings.defaults());

    var dry = maintenance.vacuum(true, Set.of(), Progress.NONE);
    assertThat(dry)
        .filteredOn(a -> a.object().equals("public.vac"))
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.outcome()).isEqualTo("dry run");
              assertThat(a.reason()).isEqualTo("60 % dead rows (6,000 dead)");
            });
    flushStats();
    assertThat(maintenance.report().table("public", "vac").orElseThrow().deadRows())
        .isEqualTo(6000);

    var steps = new AtomicLong();
    var done = maintenance.vacuum(false, Set.of(), (what, n, total) -> steps.set(n));
    assertThat(done).filteredOn(a -> a.object().equals("public.vac")).allMatch(a -> a.done());
    assertThat(steps.get()).isEqualTo(done.size());
    flushStats();
    var after = maintenance.report().table("public", "vac").orElseThrow();
    assertThat(after.deadRows()).isZero();
    assertThat(after.lastVacuum()).isNotNull();
    assertThat(after.lastAnalyze()).isNotNull();
  }

  @Test
  void vacuum_ofALockedTable_isSkippedNamingTheLockTimeout_andTheOthersGoOn() throws Exception {
    PG.execute(
        "create table held (id bigint primary key) with (autovacuum_enabled = false)",
        "insert into held select generate_series(1, 5000)",
        "delete from held where id <= 3000");
    flushStats();
    var settings = OpsSettings.builder().lockTimeout(Duration.ofMillis(200)).build();
    try (var holder = PG.connect()) {
      holder.setAutoCommit(false);
      try (var s = holder.createStatement()) {
        s.execute("lock table held in share update exclusive mode");
      }
      var actions = maintenance(settings).vacuum(false, Set.of(), Progress.NONE);
      assertThat(actions)
          .filteredOn(a -> a.object().equals("public.held"))
          .singleElement()
          .extracting(MaintenanceAction::outcome)
          .isEqualTo("skipped: lock not granted within 200 ms");
      holder.rollback();
    }
  }

  @Test
  void vacuumFull_onlyOfATableNamed_andAnUnknownNameIsAnError() throws SQLException {
    PG.execute("create table fully (id bigint primary key)", "insert into fully values (1)");
    var maintenance = maintenance(OpsSettings.defaults());
    var actions = maintenance.vacuum(true, Set.of("public.fully"), Progress.NONE);
    assertThat(actions)
        .filteredOn(a -> a.object().equals("public.fully"))
        .singleElement()
        .satisfies(a -> assertThat(a.action()).isEqualTo("vacuum full"));
    assertThat(actions)
        .noneMatch(a -> a.action().equals("vacuum full") && !a.object().equals("public.fully"));
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> maintenance.vacuum(true, Set.of("public.nope"), Progress.NONE))
        .isInstanceOf(MaintenanceException.class)
        .hasMessage("no table public.nope to vacuum in full");
  }

  @Test
  void reindex_rebuildsAnInvalidIndexConcurrently_whileInsertsKeepFlowing() throws Exception {
    PG.execute(
        "create table orders (id bigserial primary key, code int not null)",
        "insert into orders (code) select g % 50000 from generate_series(1, 200000) g");
    // a unique index built concurrently over duplicates fails and stays behind, invalid
    try (var c = PG.connect();
        var s = c.createStatement()) {
      s.execute("create unique index concurrently orders_code on orders (code)");
    } catch (SQLException expected) {
      assertThat(expected.getSQLState()).isEqualTo("23505");
    }
    PG.execute("delete from orders where id > 50000");
    var maintenance = maintenance(OpsSettings.defaults());
    var invalid = maintenance.report().index("public", "orders_code").orElseThrow();
    assertThat(invalid.valid()).isFalse();
    assertThat(maintenance.report().findings())
        .contains(
            "invalid index public.orders_code (left by a failed concurrent build): reindex"
                + " rebuilds it");

    var stop = new AtomicBoolean();
    var inserts = new AtomicLong();
    var started = new CountDownLatch(1);
    var writer =
        new Thread(
            () -> {
              var code = 1_000_000;
              try (var c = PG.connect();
                  var ps = c.prepareStatement("insert into orders (code) values (?)")) {
                while (!stop.get()) {
                  ps.setInt(1, code++);
                  ps.executeUpdate();
                  inserts.incrementAndGet();
                  started.countDown();
                }
              } catch (SQLException e) {
                throw new IllegalStateException(e);
              }
            });
    writer.start();
    started.await();
    var before = inserts.get();
    var actions = maintenance.reindex(false, Progress.NONE);
    var insertsDuringReindex = inserts.get() - before;
    stop.set(true);
    writer.join();

    assertThat(actions)
        .filteredOn(a -> a.object().equals("public.orders_code"))
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.action()).isEqualTo("reindex");
              assertThat(a.outcome()).isEqualTo("done");
            });
    assertThat(insertsDuringReindex).as("inserts committed during the rebuild").isPositive();
    var rebuilt = maintenance.report().index("public", "orders_code").orElseThrow();
    assertThat(rebuilt.valid()).isTrue();
    assertThat(maintenance.report().indexes()).noneMatch(i -> i.name().contains("_ccnew"));
  }

  /** Leaves an invalid index named {@code name}: a unique build over duplicates fails. */
  static void invalidIndex(String table, String name) throws SQLException {
    PG.execute(
        "create table " + table + " (id bigint primary key, v int)",
        "insert into " + table + " select g, g % 10 from generate_series(1, 1000) g");
    try (var c = PG.connect();
        var s = c.createStatement()) {
      s.execute("create unique index concurrently " + name + " on " + table + " (v)");
    } catch (SQLException expected) {
      assertThat(expected.getSQLState()).isEqualTo("23505");
    }
    PG.execute("delete from " + table + " where id > 10");
  }

  @Test
  void reindex_thatCannotGetItsLock_isSkipped_andRunsOnceTheLockIsFree() throws Exception {
    invalidIndex("blocked", "blocked_v");
    var settings = OpsSettings.builder().lockTimeout(Duration.ofMillis(200)).build();
    try (var holder = PG.connect()) {
      holder.setAutoCommit(false);
      try (var s = holder.createStatement()) {
        s.execute("lock table blocked in share mode");
      }
      assertThat(maintenance(settings).reindex(false, Progress.NONE))
          .filteredOn(a -> a.object().equals("public.blocked_v"))
          .singleElement()
          .extracting(MaintenanceAction::outcome)
          .isEqualTo("skipped: lock not granted within 200 ms");
      holder.rollback();
    }
    assertThat(maintenance(settings).report().indexes())
        .noneMatch(i -> i.name().startsWith("blocked_v_ccnew"));
    assertThat(maintenance(settings).reindex(false, Progress.NONE))
        .filteredOn(a -> a.object().equals("public.blocked_v"))
        .singleElement()
        .extracting(MaintenanceAction::outcome)
        .isEqualTo("done");
    assertThat(maintenance(settings).report().index("public", "blocked_v").orElseThrow().valid())
        .isTrue();
  }

  @Test
  void aFailedReindexLeftover_isDropped_notRebuilt() throws Exception {
    invalidIndex("leftover", "leftover_v_ccnew");
    var maintenance = maintenance(OpsSettings.defaults());
    assertThat(maintenance.report().findings())
        .contains(
            "invalid index public.leftover_v_ccnew (left by a failed concurrent build): drop it");
    var dry = maintenance.reindex(true, Progress.NONE);
    assertThat(dry)
        .filteredOn(a -> a.object().equals("public.leftover_v_ccnew"))
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.action()).isEqualTo("drop index");
              assertThat(a.outcome()).isEqualTo("dry run");
            });
    assertThat(maintenance.report().index("public", "leftover_v_ccnew")).isPresent();
    maintenance.reindex(false, Progress.NONE);
    assertThat(maintenance.report().index("public", "leftover_v_ccnew")).isEmpty();
  }

  @Test
  void aBloatedIndex_isFoundByItsEstimate_andRebuilt() throws SQLException {
    PG.execute(
        "create table bloaty (id bigint primary key, v int) with (autovacuum_enabled = false)",
        "insert into bloaty select g, g from generate_series(1, 200000) g",
        "create index bloaty_v on bloaty (v)",
        // nine rows in ten go: the vacuum frees their index entries, the pages stay
        "delete from bloaty where id % 10 <> 0",
        "vacuum analyze bloaty");
    var settings = OpsSettings.builder().reindexMinSizeMb(0).build();
    var maintenance = maintenance(settings);
    var before = maintenance.report().index("public", "bloaty_v").orElseThrow();
    assertThat(before.estimatedBloat()).isGreaterThan(0.8);
    assertThat(maintenance.report().findings())
        .anyMatch(
            f -> f.matches("index public\\.bloaty_v is about \\d+ % bloat \\(.*\\): reindex"));

    // under the default minimum size (8 MB), the same bloat is left alone
    assertThat(before.bytes()).isLessThan(8L * 1024 * 1024);
    assertThat(maintenance(OpsSettings.defaults()).reindex(true, Progress.NONE))
        .noneMatch(a -> a.object().equals("public.bloaty_v"));
    assertThat(maintenance.reindex(false, Progress.NONE))
        .filteredOn(a -> a.object().equals("public.bloaty_v"))
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.reason()).matches("about \\d+ % bloat");
              assertThat(a.outcome()).isEqualTo("done");
            });
    var after = maintenance.report().index("public", "bloaty_v").orElseThrow();
    assertThat(after.bytes()).isLessThan(before.bytes() / 4);
    assertThat(after.estimatedBloat()).isLessThan(0.3);
  }

  /**
   * A reindex that times out waiting for an open transaction has already made its new copy; that
   * copy is dropped (or, while the transaction still blocks the drop too, by the next reindex), and
   * the index is rebuilt once the transaction ends.
   */
  @Test
  void aReindexTimedOutByAnOpenTransaction_leavesItsCopyToBeDropped_andRebuildsLater()
      throws Exception {
    invalidIndex("waited", "waited_v");
    var settings = OpsSettings.builder().lockTimeout(Duration.ofMillis(300)).build();
    var maintenance = maintenance(settings);
    try (var writer = PG.connect()) {
      writer.setAutoCommit(false);
      try (var s = writer.createStatement()) {
        s.execute("insert into waited values (100000, 100000)"); // holds its transaction open
      }
      var first = maintenance.reindex(false, Progress.NONE);
      assertThat(first)
          .filteredOn(a -> a.object().equals("public.waited_v"))
          .singleElement()
          .extracting(MaintenanceAction::outcome)
          .isEqualTo("skipped: lock not granted within 300 ms");
      // the reindex got as far as its new copy; the open transaction blocks dropping it too
      assertThat(maintenance.report().findings())
          .contains(
              "invalid index public.waited_v_ccnew (left by a failed concurrent build): drop it");
      writer.commit();
    }
    // whatever the failed reindex left is dropped now, and the index rebuilt
    maintenance.reindex(false, Progress.NONE);
    var indexes = maintenance.report().indexes();
    assertThat(indexes).noneMatch(i -> i.name().startsWith("waited_v_cc"));
    assertThat(maintenance.report().index("public", "waited_v").orElseThrow().valid()).isTrue();
  }

  @Test
  void theReport_behindAnExclusiveLock_failsWithinTheLockTimeoutSayingWhy_andDoesNotHang()
      throws Exception {
    PG.execute("create table altered (id bigint primary key)");
    var settings = OpsSettings.builder().lockTimeout(Duration.ofMillis(200)).build();
    try (var migration = PG.connect()) {
      migration.setAutoCommit(false);
      try (var s = migration.createStatement()) {
        s.execute("lock table altered in access exclusive mode");
      }
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> maintenance(settings).report())
          .isInstanceOf(MaintenanceException.class)
          .hasMessageStartingWith(
              "the report could not read a table's size: its lock was not granted within 200 ms");
      // the report holds nothing: a writer on another table goes on meanwhile
      PG.execute("insert into quiet values (999999, 1, 1)");
      migration.rollback();
    }
    assertThat(maintenance(settings).report().table("public", "altered")).isPresent();
  }

  @Test
  void thresholds_tablesUnderTheMinimumDeadRowsAndSmallBloatedIndexesAreLeftAlone()
      throws SQLException {
    PG.execute(
        "create table smalldead (id bigint primary key) with (autovacuum_enabled = false)",
        "insert into smalldead select generate_series(1, 1000)",
        "delete from smalldead where id <= 600");
    // analyzed once the changes are counted (a session reports them when it ends): only the dead
    // rows remain to decide
    PG.execute("analyze smalldead");
    flushStats();
    var maintenance = maintenance(OpsSettings.defaults());
    var table = maintenance.report().table("public", "smalldead").orElseThrow();
    assertThat(table.deadRatio()).as("over the 10 % threshold").isGreaterThan(0.1);
    assertThat(table.deadRows()).as("under the 1 000 minimum").isBetween(500L, 999L);
    assertThat(maintenance.vacuum(true, java.util.Set.of(), Progress.NONE))
        .noneMatch(a -> a.object().equals("public.smalldead"));
    assertThat(
            maintenance(OpsSettings.builder().vacuumMinDeadRows(500).build())
                .vacuum(true, java.util.Set.of(), Progress.NONE))
        .anyMatch(a -> a.object().equals("public.smalldead"));
  }
}
