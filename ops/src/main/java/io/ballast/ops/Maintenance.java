package io.ballast.ops;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import io.ballast.pool.Pool;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Database maintenance that is safe on a live database: a {@link #report()}, {@link
 * #vacuum(boolean, Set, Progress) vacuum} of the tables that need it, {@link #reindex(boolean,
 * Progress) reindex} of invalid and bloated indexes without blocking writes, and the {@link
 * Retention} of old rows. Every statement waits at most {@link OpsSettings#lockTimeout()} for a
 * lock and gives up on that object (reported, not thrown) rather than queue writers behind it.
 *
 * <pre>{@code
 * var maintenance = injector.getInstance(Maintenance.class);
 * maintenance.report().findings().forEach(System.out::println);
 * maintenance.vacuum(false, Set.of(), Progress.NONE);
 * }</pre>
 */
@Singleton
public final class Maintenance {
  private static final Logger LOG = LoggerFactory.getLogger(Maintenance.class);
  private static final String LOCK_NOT_AVAILABLE = "55P03";

  private final DataSource dataSource;
  private final OpsSettings settings;
  private final java.util.function.BooleanSupplier transactionPooled;

  /** Maintenance of the database behind {@code dataSource}, a direct connection to the server. */
  public Maintenance(DataSource dataSource, OpsSettings settings) {
    this(dataSource, settings, () -> false);
  }

  /**
   * Maintenance of the pool's database. Behind PgBouncer in transaction mode ({@link
   * Pool#pgbouncerMode()}), vacuum and reindex are skipped, saying why: they cannot run in a
   * transaction, and the {@code SET lock_timeout} they need would stay on a server connection for
   * other clients' transactions. The report and retention work there.
   */
  @Inject
  public Maintenance(DataSource dataSource, OpsSettings settings, Pool pool) {
    this(dataSource, settings, pool::pgbouncerMode); // known once the pool has started
  }

  private Maintenance(
      DataSource dataSource,
      OpsSettings settings,
      java.util.function.BooleanSupplier transactionPooled) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.transactionPooled = transactionPooled;
  }

  /** The settings maintenance runs with. */
  public OpsSettings settings() {
    return settings;
  }

  // ------------------------------------------------------------------ report

  /**
   * Reads the statistics views in one read-only transaction. It takes no lock a writer waits for:
   * only the sizes take a share lock on each relation, which an exclusive lock (a migration's
   * {@code ALTER TABLE}, a {@code VACUUM FULL}) makes wait; that wait is bounded by the lock
   * timeout, after which the report fails saying so rather than hang.
   */
  public MaintenanceReport report() {
    try (var c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      c.setReadOnly(true);
      try {
        try (var s = c.createStatement()) {
          s.execute("set local lock_timeout = " + settings.lockTimeout().toMillis());
        }
        var database = database(c);
        var tables = tables(c);
        var indexes = indexes(c);
        return new MaintenanceReport(
            database, tables, indexes, findings(database, tables, indexes));
      } finally {
        c.rollback();
        c.setReadOnly(false);
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      if (LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
        throw new MaintenanceException(
            "the report could not read a table's size: its lock was not granted within "
                + settings.lockTimeout().toMillis()
                + " ms (an exclusive lock, from a migration or a VACUUM FULL, holds it); run it"
                + " again once that is done",
            e);
      }
      throw new MaintenanceException("could not read the database's statistics", e);
    }
  }

  private static MaintenanceReport.Database database(Connection c) throws SQLException {
    try (var s = c.createStatement();
        var rs =
            s.executeQuery(
                "select current_database(), pg_database_size(current_database()),"
                    + " coalesce(d.blks_hit::float8 / nullif(d.blks_hit + d.blks_read, 0), 1),"
                    + " age(db.datfrozenxid)"
                    + " from pg_stat_database d join pg_database db on db.oid = d.datid"
                    + " where d.datname = current_database()")) {
      rs.next();
      return new MaintenanceReport.Database(
          rs.getString(1), rs.getLong(2), rs.getDouble(3), rs.getLong(4));
    }
  }

  private static List<MaintenanceReport.Table> tables(Connection c) throws SQLException {
    var out = new ArrayList<MaintenanceReport.Table>();
    try (var s = c.createStatement();
        var rs =
            s.executeQuery(
                "select s.schemaname, s.relname, pg_relation_size(s.relid), pg_indexes_size(s.relid),"
                    + " coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0),"
                    + " s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze,"
                    + " s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze,"
                    + " coalesce(s.seq_scan, 0), coalesce(s.idx_scan, 0)"
                    + " from pg_stat_user_tables s join pg_class c on c.oid = s.relid"
                    + " order by pg_total_relation_size(s.relid) desc, 1, 2")) {
      while (rs.next()) {
        out.add(
            new MaintenanceReport.Table(
                rs.getString(1),
                rs.getString(2),
                rs.getLong(3),
                rs.getLong(4),
                rs.getLong(5),
                rs.getLong(6),
                rs.getLong(7),
                rs.getLong(8),
                instant(rs, 9),
                instant(rs, 10),
                instant(rs, 11),
                instant(rs, 12),
                rs.getLong(13),
                rs.getLong(14)));
      }
    }
    return out;
  }

  /**
   * Indexes with an estimate of their bloat: for a B-tree on plain columns, the pages its rows
   * would fill when packed at the default fill factor (90 %), from the table's row count and the
   * columns' average widths in {@code pg_stats}, against the pages it has. Like every such estimate
   * it needs fresh statistics (an analyze) and misjudges very small indexes.
   */
  private static List<MaintenanceReport.Index> indexes(Connection c) throws SQLException {
    record Raw(
        String schema,
        String table,
        String name,
        long bytes,
        long scans,
        boolean valid,
        boolean unique,
        String definition,
        double bloat,
        long tableOid,
        String keys,
        boolean plain) {}
    var raw = new ArrayList<Raw>();
    try (var s = c.createStatement();
        var rs =
            s.executeQuery(
                "select s.schemaname, s.relname, s.indexrelname, pg_relation_size(s.indexrelid),"
                    + " coalesce(s.idx_scan, 0), i.indisvalid, i.indisunique or i.indisprimary,"
                    + " pg_get_indexdef(s.indexrelid), ic.relpages, ic.reltuples,"
                    + " am.amname = 'btree' and 0 <> all (i.indkey) as plain_btree,"
                    + " (select coalesce(sum(coalesce(st.avg_width, 8)), 8) from pg_attribute a"
                    + "   left join pg_stats st on st.schemaname = s.schemaname and st.tablename = s.relname"
                    + "    and st.attname = a.attname"
                    + "   where a.attrelid = i.indrelid and a.attnum = any (i.indkey)) as key_width,"
                    + " i.indrelid, i.indkey::text,"
                    + " i.indpred is null and i.indexprs is null and am.amname = 'btree' as plain"
                    + " from pg_stat_user_indexes s"
                    + " join pg_index i on i.indexrelid = s.indexrelid"
                    + " join pg_class ic on ic.oid = s.indexrelid"
                    + " join pg_am am on am.oid = ic.relam"
                    + " order by pg_relation_size(s.indexrelid) desc, 1, 3")) {
      while (rs.next()) {
        var pages = rs.getLong(9);
        var tuples = Math.max(0, rs.getDouble(10));
        var bloat = 0.0;
        if (rs.getBoolean(11) && pages > 1) {
          var keyWidth = rs.getDouble(12);
          var tupleBytes = 8 + Math.ceil(keyWidth / 8) * 8 + 4; // header, aligned key, line pointer
          var usable = (8192 - 24 - 16) * 0.9; // page header and B-tree special space; fill factor
          var ideal = Math.ceil(tuples * tupleBytes / usable) + 1; // and the metapage
          bloat = Math.max(0, 1 - ideal / pages);
        }
        raw.add(
            new Raw(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                rs.getLong(4),
                rs.getLong(5),
                rs.getBoolean(6),
                rs.getBoolean(7),
                rs.getString(8),
                bloat,
                rs.getLong(13),
                rs.getString(14),
                rs.getBoolean(15)));
      }
    }
    var out = new ArrayList<MaintenanceReport.Index>();
    for (var index : raw) {
      String redundantWith = null;
      if (index.plain() && index.valid()) {
        for (var other : raw) {
          if (other.name().equals(index.name())
              || other.tableOid() != index.tableOid()
              || !other.plain()
              || !other.valid()) {
            continue;
          }
          if (redundant(
              index.name(),
              index.keys(),
              index.unique(),
              other.name(),
              other.keys(),
              other.unique())) {
            redundantWith = other.schema() + "." + other.name();
            break;
          }
        }
      }
      out.add(
          new MaintenanceReport.Index(
              index.schema(),
              index.table(),
              index.name(),
              index.bytes(),
              index.scans(),
              index.valid(),
              index.unique(),
              index.definition(),
              index.bloat(),
              redundantWith));
    }
    return out;
  }

  /**
   * Whether index A is redundant with index B of the same table (both plain B-trees on columns):
   * A's columns lead B's. A unique index enforces something and is redundant only with an identical
   * unique one; of two identical indexes, the one whose name sorts later is the redundant one.
   */
  static boolean redundant(
      String aName, String aKeys, boolean aUnique, String bName, String bKeys, boolean bUnique) {
    var a = Arrays.asList(aKeys.split(" "));
    var b = Arrays.asList(bKeys.split(" "));
    if (b.size() < a.size() || !b.subList(0, a.size()).equals(a)) {
      return false;
    }
    var same = a.size() == b.size();
    if (aUnique) {
      return same && bUnique && aName.compareTo(bName) > 0;
    }
    if (same && !bUnique) {
      return aName.compareTo(bName) > 0;
    }
    return true;
  }

  private List<String> findings(
      MaintenanceReport.Database database,
      List<MaintenanceReport.Table> tables,
      List<MaintenanceReport.Index> indexes) {
    var out = new ArrayList<String>();
    if (database.wraparoundRatio() >= 0.5) {
      out.add(
          String.format(
              Locale.ROOT,
              "transaction-id age %,d is %.0f %% of the wraparound limit: vacuum the oldest tables"
                  + " (autovacuum may be blocked)",
              database.xidAge(),
              database.wraparoundRatio() * 100));
    }
    for (var index : indexes) {
      if (!index.valid()) {
        out.add(
            "invalid index "
                + index.qualifiedName()
                + " (left by a failed concurrent build): "
                + (isLeftover(index.name()) ? "drop it" : "reindex rebuilds it"));
      }
    }
    for (var table : tables) {
      if (vacuumReason(table) != null) {
        out.add(table.qualifiedName() + ": " + vacuumReason(table) + ": vacuum");
      }
    }
    for (var index : indexes) {
      if (index.redundantWith() != null) {
        out.add(
            "index "
                + index.qualifiedName()
                + " is redundant with "
                + index.redundantWith()
                + " (its columns lead that index): consider dropping it");
      }
      if (index.valid() && bloated(index)) {
        out.add(
            String.format(
                Locale.ROOT,
                "index %s is about %.0f %% bloat (%s): reindex",
                index.qualifiedName(),
                index.estimatedBloat() * 100,
                MaintenanceReport.bytes(index.bytes())));
      }
    }
    for (var index : indexes) {
      if (index.valid() && index.scans() == 0 && !index.unique() && index.redundantWith() == null) {
        out.add(
            "index "
                + index.qualifiedName()
                + " has not been scanned since the statistics were reset ("
                + MaintenanceReport.bytes(index.bytes())
                + ")");
      }
    }
    if (database.cacheHitRatio() < 0.9) {
      out.add(
          String.format(
              Locale.ROOT,
              "cache hit ratio %.1f %%: the working set does not fit in shared_buffers",
              database.cacheHitRatio() * 100));
    }
    return out;
  }

  /** Why {@code table} needs a vacuum or an analyze under the settings, or {@code null}. */
  String vacuumReason(MaintenanceReport.Table table) {
    var deadPercent = table.deadRatio() * 100;
    if (table.deadRows() >= settings.vacuumMinDeadRows()
        && deadPercent >= settings.vacuumDeadPercent()) {
      return String.format(
          Locale.ROOT, "%.0f %% dead rows (%,d dead)", deadPercent, table.deadRows());
    }
    var changed =
        table.liveRows() == 0 ? 0 : table.modifiedSinceAnalyze() * 100.0 / table.liveRows();
    if (table.modifiedSinceAnalyze() >= settings.vacuumMinDeadRows()
        && changed >= settings.analyzeChangedPercent()) {
      return String.format(
          Locale.ROOT,
          "%,d rows changed since the last analyze (%.0f %%)",
          table.modifiedSinceAnalyze(),
          changed);
    }
    return null;
  }

  private boolean bloated(MaintenanceReport.Index index) {
    return index.bytes() >= settings.reindexMinSizeMb() * 1024L * 1024L
        && index.estimatedBloat() * 100 >= settings.reindexBloatPercent();
  }

  /** Invalid indexes named {@code …_ccnew} / {@code …_ccold} are a failed reindex's leftovers. */
  private static boolean isLeftover(String index) {
    return index.matches(".*_cc(new|old)[0-9]*");
  }

  // ------------------------------------------------------------------ vacuum

  /**
   * {@code VACUUM (ANALYZE)} of every table whose dead rows or changes since the last analyze cross
   * the settings' thresholds, one at a time; {@code VACUUM (FULL, ANALYZE)} only of the tables
   * named in {@code full} ({@code schema.table}), which it locks for the whole rewrite.
   *
   * @param dryRun report what would run, run nothing
   */
  public List<MaintenanceAction> vacuum(boolean dryRun, Set<String> full, Progress progress) {
    var chosen = new ArrayList<String[]>(); // object, reason, full?
    for (var table : report().tables()) {
      var name = table.qualifiedName();
      if (full.contains(name)) {
        chosen.add(new String[] {name, "asked for by name", "full"});
      } else {
        var reason = vacuumReason(table);
        if (reason != null) {
          chosen.add(new String[] {name, reason, ""});
        }
      }
    }
    for (var name : full) {
      if (chosen.stream().noneMatch(c -> c[0].equals(name))) {
        throw new MaintenanceException("no table " + name + " to vacuum in full", null);
      }
    }
    var actions = new ArrayList<MaintenanceAction>();
    var done = 0;
    for (var c : chosen) {
      var isFull = !c[2].isEmpty();
      var sql =
          (isFull ? "vacuum (full, analyze) " : "vacuum (analyze) ") + Identifiers.table(c[0]);
      actions.add(run(isFull ? "vacuum full" : "vacuum", c[0], c[1], sql, dryRun));
      progress.step("tables vacuumed", ++done, chosen.size());
    }
    return actions;
  }

  // ------------------------------------------------------------------ reindex

  /**
   * {@code REINDEX INDEX CONCURRENTLY} of every invalid index (but a failed reindex's {@code
   * _ccnew} / {@code _ccold} leftovers, which are dropped instead) and of every index whose
   * estimated bloat crosses {@link OpsSettings#reindexBloatPercent()}. Writes go on while an index
   * is rebuilt. If a rebuild fails (its lock not granted in time, a deadlock), the half-built copy
   * it leaves is dropped, so nothing invalid stays behind.
   *
   * @param dryRun report what would run, run nothing
   */
  public List<MaintenanceAction> reindex(boolean dryRun, Progress progress) {
    var chosen = new ArrayList<String[]>(); // object, reason, drop?
    for (var index : report().indexes()) {
      if (!index.valid()) {
        chosen.add(
            new String[] {
              index.qualifiedName(),
              isLeftover(index.name())
                  ? "invalid leftover of a failed reindex"
                  : "invalid (a failed concurrent build)",
              isLeftover(index.name()) ? "drop" : ""
            });
      } else if (bloated(index)) {
        chosen.add(
            new String[] {
              index.qualifiedName(),
              String.format(Locale.ROOT, "about %.0f %% bloat", index.estimatedBloat() * 100),
              ""
            });
      }
    }
    var actions = new ArrayList<MaintenanceAction>();
    var done = 0;
    for (var c : chosen) {
      var drop = !c[2].isEmpty();
      var action =
          run(
              drop ? "drop index" : "reindex",
              c[0],
              c[1],
              (drop ? "drop index concurrently if exists " : "reindex index concurrently ")
                  + Identifiers.table(c[0]),
              dryRun);
      if (!drop && !action.done() && !dryRun) {
        dropLeftovers(c[0]);
      }
      actions.add(action);
      progress.step("indexes rebuilt", ++done, chosen.size());
    }
    return actions;
  }

  /** Drops the invalid {@code <index>_ccnew…} copies a failed concurrent reindex leaves. */
  private void dropLeftovers(String qualifiedIndex) {
    var dot = qualifiedIndex.indexOf('.');
    var schema = qualifiedIndex.substring(0, dot);
    var name = qualifiedIndex.substring(dot + 1);
    try (var c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      var leftovers = new ArrayList<String>();
      try (var ps =
          c.prepareStatement(
              "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                  + " join pg_index i on i.indexrelid = c.oid"
                  + " where n.nspname = ? and not i.indisvalid"
                  + " and starts_with(c.relname, ? || '_ccnew')"
                  + " and substr(c.relname, length(?) + 7) ~ '^[0-9]*$'")) {
        ps.setString(1, schema);
        ps.setString(2, name);
        ps.setString(3, name);
        try (var rs = ps.executeQuery()) {
          while (rs.next()) {
            leftovers.add(rs.getString(1));
          }
        }
      }
      try (var s = c.createStatement()) {
        // the drop waits for the same transactions the reindex waited for: never longer than it
        s.execute("set lock_timeout = " + settings.lockTimeout().toMillis());
        try {
          for (var leftover : leftovers) {
            s.execute(
                "drop index concurrently if exists " + Identifiers.qualified(schema, leftover));
            LOG.info("Dropped {}.{}, left by the failed reindex of {}", schema, leftover, name);
          }
        } finally {
          resetQuietly(s);
        }
      }
    } catch (SQLException e) {
      LOG.warn(
          "Could not drop what the failed reindex of {} left behind ({}); the next reindex drops"
              + " it",
          qualifiedIndex,
          e.getMessage());
    }
  }

  // ------------------------------------------------------------------ running one statement

  /**
   * Runs one maintenance statement on its own autocommit connection with the lock timeout; a lock
   * not granted is an outcome, not an exception.
   */
  private MaintenanceAction run(
      String action, String object, String reason, String sql, boolean dryRun) {
    if (dryRun) {
      return new MaintenanceAction(action, object, reason, "dry run", 0, 0);
    }
    if (transactionPooled.getAsBoolean()) {
      return new MaintenanceAction(
          action,
          object,
          reason,
          "skipped: needs a direct connection to the server, not PgBouncer in transaction mode",
          0,
          0);
    }
    var start = System.nanoTime();
    try (var c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      try (var s = c.createStatement()) {
        s.execute("set lock_timeout = " + settings.lockTimeout().toMillis());
        s.execute("set statement_timeout = 0");
        try {
          s.execute(sql);
        } finally {
          resetQuietly(s);
        }
      }
      var millis = (System.nanoTime() - start) / 1_000_000;
      LOG.info("{} {} ({}): done in {} ms", action, object, reason, millis);
      return new MaintenanceAction(action, object, reason, "done", 0, millis);
    } catch (SQLException e) {
      var millis = (System.nanoTime() - start) / 1_000_000;
      var outcome =
          LOCK_NOT_AVAILABLE.equals(e.getSQLState())
              ? "skipped: lock not granted within " + settings.lockTimeout().toMillis() + " ms"
              : "failed: " + e.getMessage();
      LOG.warn("{} {} ({}): {}", action, object, reason, outcome);
      return new MaintenanceAction(action, object, reason, outcome, 0, millis);
    }
  }

  /** Puts the pooled connection's timeouts back; a broken connection is the pool's to drop. */
  static void resetQuietly(java.sql.Statement s) {
    try {
      s.execute("reset lock_timeout");
      s.execute("reset statement_timeout");
    } catch (SQLException ignored) {
      // the connection is broken: the pool discards it
    }
  }

  private static Instant instant(ResultSet rs, int column) throws SQLException {
    Timestamp t = rs.getTimestamp(column);
    return t == null ? null : t.toInstant();
  }

  /** Counts per outcome, for summaries: {@code {done=3, skipped=1}}. */
  static Map<String, Integer> outcomes(List<MaintenanceAction> actions) {
    var out = new HashMap<String, Integer>();
    for (var a : actions) {
      var key =
          a.outcome().contains(":")
              ? a.outcome().substring(0, a.outcome().indexOf(':'))
              : a.outcome();
      out.merge(key, 1, Integer::sum);
    }
    return out;
  }
}
