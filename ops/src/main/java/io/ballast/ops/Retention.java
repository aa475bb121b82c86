package io.ballast.ops;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import io.ballast.core.settings.Checks;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies {@link RetentionPolicy retention policies}: {@link #archive} moves rows older than a
 * policy's age to its archive table (or deletes them), {@link #purge} deletes archived rows past
 * the second age. Never one large {@code DELETE}: rows go in batches of {@link
 * OpsSettings#batchSize()} in key order, each batch one short transaction with a statement and a
 * lock timeout, with a pause between batches. A batch moves its rows with {@code WITH moved AS
 * (DELETE … RETURNING …) INSERT INTO archive …}, so a batch is all or nothing: after a crash or a
 * killed connection, running again goes on where it stopped, and no row is lost or archived twice.
 * Rows that the application holds locked are skipped ({@code FOR UPDATE SKIP LOCKED}) and taken by
 * the next run.
 *
 * <p>An archive table that does not exist is created as {@code LIKE source INCLUDING ALL} (same
 * columns, defaults, constraints and indexes); an existing one must have every column of the
 * source.
 */
@Singleton
public final class Retention {
  private static final Logger LOG = LoggerFactory.getLogger(Retention.class);

  private final DataSource dataSource;
  private final OpsSettings settings;

  /** Retention on the database behind {@code dataSource}. */
  @Inject
  public Retention(DataSource dataSource, OpsSettings settings) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /** Archives (or deletes) the old rows of every policy of the settings, one after another. */
  public List<MaintenanceAction> archive(boolean dryRun, Progress progress) {
    var out = new ArrayList<MaintenanceAction>();
    for (var policy : settings.retention()) {
      out.add(archive(policy, dryRun, progress));
    }
    return out;
  }

  /** Purges the old archived rows of every policy of the settings that has a purge age. */
  public List<MaintenanceAction> purge(boolean dryRun, Progress progress) {
    var out = new ArrayList<MaintenanceAction>();
    for (var policy : settings.retention()) {
      if (policy.purgeAfter() != null) {
        out.add(purge(policy, dryRun, progress));
      }
    }
    return out;
  }

  /**
   * Moves the rows of {@code policy}'s table older than its age into its archive table (deletes
   * them when it has none), in batches.
   *
   * @param dryRun count the rows that would move, move nothing
   * @throws MaintenanceException when the database cannot be reached or a batch fails; the batches
   *     before it stay done
   */
  public MaintenanceAction archive(RetentionPolicy policy, boolean dryRun, Progress progress) {
    var action = policy.archiveTable() == null ? "delete" : "archive";
    var reason =
        "rows older than "
            + days(policy.archiveAfter())
            + " by "
            + policy.timestampColumn()
            + (policy.archiveTable() == null ? "" : ", into " + policy.archiveTable());
    var source = Identifiers.table(policy.table());
    var key = Identifiers.quote(policy.keyColumn());
    var ts = Identifiers.quote(policy.timestampColumn());
    return inBatches(
        action,
        policy.table(),
        reason,
        policy.archiveAfter(),
        dryRun,
        progress,
        (c, dry) -> {
          requireColumns(c, policy.table(), policy);
          var pick =
              "select "
                  + key
                  + " from "
                  + source
                  + " where "
                  + ts
                  + " < ? order by "
                  + key
                  + " limit ? for update skip locked";
          if (policy.archiveTable() == null) {
            return "delete from " + source + " where " + key + " in (" + pick + ")";
          }
          if (dry) {
            return "";
          }
          var columns = columnsFor(c, policy);
          return "with moved as (delete from "
              + source
              + " where "
              + key
              + " in ("
              + pick
              + ") returning "
              + columns
              + ") insert into "
              + Identifiers.table(policy.archiveTable())
              + " ("
              + columns
              + ") select "
              + columns
              + " from moved";
        },
        "select count(*) from " + source + " where " + ts + " < ?");
  }

  /**
   * Deletes the rows of {@code policy}'s archive table older than its purge age, in batches.
   *
   * @param dryRun count the rows that would go, delete nothing
   */
  public MaintenanceAction purge(RetentionPolicy policy, boolean dryRun, Progress progress) {
    if (policy.purgeAfter() == null) {
      throw new IllegalArgumentException(
          "the retention policy of " + policy.table() + " has no purge age");
    }
    var archive = Identifiers.table(policy.archiveTable());
    var key = Identifiers.quote(policy.keyColumn());
    var ts = Identifiers.quote(policy.timestampColumn());
    return inBatches(
        "purge",
        policy.archiveTable(),
        "archived rows older than " + days(policy.purgeAfter()) + " by " + policy.timestampColumn(),
        policy.purgeAfter(),
        dryRun,
        progress,
        (c, dry) -> {
          if (!exists(c, policy.archiveTable())) {
            return null;
          }
          requireColumns(c, policy.archiveTable(), policy);
          return "delete from "
              + archive
              + " where "
              + key
              + " in (select "
              + key
              + " from "
              + archive
              + " where "
              + ts
              + " < ? order by "
              + key
              + " limit ? for update skip locked)";
        },
        "select count(*) from " + archive + " where " + ts + " < ?");
  }

  /**
   * Builds a batch statement with two parameters (cutoff, batch size), or null for nothing to do;
   * in a dry run it changes nothing (and may return a statement that is not run).
   */
  private interface BatchSql {
    String build(Connection c, boolean dryRun) throws SQLException;
  }

  private MaintenanceAction inBatches(
      String action,
      String object,
      String reason,
      java.time.Duration age,
      boolean dryRun,
      Progress progress,
      BatchSql batchSql,
      String countSql) {
    var start = System.nanoTime();
    long rows = 0;
    try (var c = dataSource.getConnection()) {
      var cutoff = cutoff(c, age);
      if (dryRun) {
        if (batchSql.build(c, true) == null) {
          return new MaintenanceAction(action, object, reason, "dry run", 0, 0);
        }
        try (var ps = c.prepareStatement(countSql)) {
          ps.setObject(1, cutoff);
          try (var rs = ps.executeQuery()) {
            rs.next();
            return new MaintenanceAction(
                action, object, reason, "dry run", rs.getLong(1), millis(start));
          }
        }
      }
      var sql = batchSql.build(c, false);
      if (sql == null) {
        return new MaintenanceAction(action, object, reason, "done", 0, millis(start));
      }
      c.setAutoCommit(false);
      try {
        while (true) {
          var moved = batch(c, sql, cutoff);
          rows += moved;
          if (moved > 0) {
            progress.step("rows " + action + "d from " + object, rows, -1);
          }
          if (moved < settings.batchSize()) {
            break;
          }
          if (!pause()) {
            LOG.info(
                "{} of {} interrupted after {} rows; it resumes next run", action, object, rows);
            return new MaintenanceAction(
                action, object, reason, "interrupted", rows, millis(start));
          }
        }
      } finally {
        restore(c);
      }
      LOG.info("{} {} ({}): {} rows in {} ms", action, object, reason, rows, millis(start));
      return new MaintenanceAction(action, object, reason, "done", rows, millis(start));
    } catch (SQLException e) {
      throw new MaintenanceException(
          action
              + " of "
              + object
              + " stopped after "
              + rows
              + " rows (those stay done; run it again to go on): "
              + e.getMessage(),
          e);
    }
  }

  /** One batch in its own transaction; returns the rows it moved. */
  private int batch(Connection c, String sql, OffsetDateTime cutoff) throws SQLException {
    try (var s = c.createStatement()) {
      // transaction-local, so nothing stays on the connection (or, behind PgBouncer, on a server
      // connection other clients use next); the name shows the batch in pg_stat_activity
      s.execute("set local statement_timeout = " + settings.batchTimeout().toMillis());
      s.execute("set local lock_timeout = " + settings.lockTimeout().toMillis());
      s.execute("set local application_name = 'ballast retention'");
    }
    try (var ps = c.prepareStatement(sql)) {
      ps.setObject(1, cutoff);
      ps.setInt(2, settings.batchSize());
      var moved = ps.executeUpdate();
      c.commit();
      return moved;
    } catch (SQLException e) {
      try {
        c.rollback();
      } catch (SQLException ignored) {
        // the connection is gone; the batch rolled back with it
      }
      throw e;
    }
  }

  private static void restore(Connection c) {
    try {
      if (!c.isClosed()) {
        c.rollback();
        c.setAutoCommit(true);
      }
    } catch (SQLException ignored) {
      // a broken connection is the pool's to drop
    }
  }

  private boolean pause() {
    var pause = settings.batchPause();
    if (pause.isZero()) {
      return !Thread.currentThread().isInterrupted();
    }
    try {
      Thread.sleep(pause.toMillis());
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The database's now minus {@code age}, read once per run so every batch uses the same line. */
  private static OffsetDateTime cutoff(Connection c, java.time.Duration age) throws SQLException {
    try (var ps = c.prepareStatement("select now() - make_interval(secs => ?)")) {
      ps.setDouble(1, age.toMillis() / 1000.0);
      try (var rs = ps.executeQuery()) {
        rs.next();
        return rs.getObject(1, OffsetDateTime.class);
      }
    }
  }

  /**
   * The source's columns (but generated ones) as a quoted list, creating the archive table like the
   * source when it does not exist; fails naming any column the archive lacks.
   */
  private static String columnsFor(Connection c, RetentionPolicy policy) throws SQLException {
    var source = columns(c, policy.table());
    if (source.isEmpty()) {
      throw new SQLException("no table " + policy.table());
    }
    if (!exists(c, policy.archiveTable())) {
      var autoCommit = c.getAutoCommit();
      c.setAutoCommit(true);
      try (var s = c.createStatement()) {
        s.execute(
            "create table if not exists "
                + Identifiers.table(policy.archiveTable())
                + " (like "
                + Identifiers.table(policy.table())
                + " including all)");
        LOG.info("Created archive table {} like {}", policy.archiveTable(), policy.table());
      } finally {
        c.setAutoCommit(autoCommit);
      }
    }
    var archive = columns(c, policy.archiveTable());
    var missing = source.stream().filter(col -> !archive.contains(col)).toList();
    if (!missing.isEmpty()) {
      throw new SQLException(
          "archive table "
              + policy.archiveTable()
              + " lacks column(s) "
              + String.join(", ", missing)
              + " of "
              + policy.table());
    }
    return source.stream().map(Identifiers::quote).collect(Collectors.joining(", "));
  }

  /** Fails naming the table, and the column the policy needs that it lacks. */
  private static void requireColumns(Connection c, String table, RetentionPolicy policy)
      throws SQLException {
    var columns = columns(c, table);
    if (columns.isEmpty()) {
      throw new SQLException("no table " + table);
    }
    if (!columns.contains(policy.keyColumn())) {
      throw new SQLException(
          "table "
              + table
              + " has no column "
              + policy.keyColumn()
              + " (the policy's key column: keyedBy(…), or the fifth field of BALLAST_RETENTION)");
    }
    if (!columns.contains(policy.timestampColumn())) {
      throw new SQLException("table " + table + " has no column " + policy.timestampColumn());
    }
  }

  private static List<String> columns(Connection c, String table) throws SQLException {
    var out = new ArrayList<String>();
    try (var ps =
        c.prepareStatement(
            "select attname from pg_attribute where attrelid = to_regclass(?) and attnum > 0"
                + " and not attisdropped and attgenerated = '' order by attnum")) {
      ps.setString(1, Identifiers.table(table));
      try (var rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }

  private static boolean exists(Connection c, String table) throws SQLException {
    try (var ps = c.prepareStatement("select to_regclass(?) is not null")) {
      ps.setString(1, Identifiers.table(table));
      try (var rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  private static long millis(long start) {
    return (System.nanoTime() - start) / 1_000_000;
  }

  private static String days(java.time.Duration age) {
    return Checks.human(age);
  }
}
