package io.ballast.ops;

import java.time.Instant;
import java.util.List;

/**
 * What maintenance knows about the database: sizes, dead rows, scans, vacuum and analyze times,
 * index validity, redundancy and estimated bloat, the cache hit ratio and the transaction-id age,
 * with the findings worth acting on. Figures come from PostgreSQL's statistics views, so they are
 * as fresh as the statistics collector's last report.
 *
 * @param database figures of the whole database
 * @param tables every user table, largest first
 * @param indexes every index of those tables, largest first
 * @param findings what deserves attention, one sentence each, most urgent first
 */
public record MaintenanceReport(
    Database database, List<Table> tables, List<Index> indexes, List<String> findings) {
  /** Copies the lists. */
  public MaintenanceReport {
    tables = List.copyOf(tables);
    indexes = List.copyOf(indexes);
    findings = List.copyOf(findings);
  }

  /** The table named {@code schema.name}, if it is in the report. */
  public java.util.Optional<Table> table(String schema, String name) {
    return tables.stream()
        .filter(t -> t.schema().equals(schema) && t.name().equals(name))
        .findFirst();
  }

  /** The index named {@code schema.name}, if it is in the report. */
  public java.util.Optional<Index> index(String schema, String name) {
    return indexes.stream()
        .filter(i -> i.schema().equals(schema) && i.name().equals(name))
        .findFirst();
  }

  /**
   * Figures of the whole database.
   *
   * @param name the database
   * @param bytes its size on disk
   * @param cacheHitRatio share of block reads served from shared buffers since the statistics were
   *     reset, 0–1 (1 when nothing was read yet)
   * @param xidAge transactions since the database's oldest unfrozen transaction id; PostgreSQL
   *     stops accepting writes near 2 billion
   */
  public record Database(String name, long bytes, double cacheHitRatio, long xidAge) {
    /** The transaction-id age as a share of the 2³¹ at which PostgreSQL refuses writes. */
    public double wraparoundRatio() {
      return xidAge / 2_147_483_648.0;
    }
  }

  /**
   * One table.
   *
   * @param schema its schema
   * @param name its name
   * @param heapBytes the table's own pages
   * @param indexBytes all its indexes
   * @param toastBytes its TOAST table and index (large values)
   * @param liveRows estimated live rows
   * @param deadRows estimated dead rows, waiting for a vacuum
   * @param modifiedSinceAnalyze rows inserted, updated or deleted since the last analyze
   * @param lastVacuum last manual vacuum, or {@code null}
   * @param lastAutovacuum last autovacuum, or {@code null}
   * @param lastAnalyze last manual analyze, or {@code null}
   * @param lastAutoanalyze last autoanalyze, or {@code null}
   * @param seqScans sequential scans since the statistics were reset
   * @param indexScans index scans since then
   */
  public record Table(
      String schema,
      String name,
      long heapBytes,
      long indexBytes,
      long toastBytes,
      long liveRows,
      long deadRows,
      long modifiedSinceAnalyze,
      Instant lastVacuum,
      Instant lastAutovacuum,
      Instant lastAnalyze,
      Instant lastAutoanalyze,
      long seqScans,
      long indexScans) {
    /** Dead rows as a share of all rows, 0–1. */
    public double deadRatio() {
      var all = liveRows + deadRows;
      return all == 0 ? 0 : (double) deadRows / all;
    }

    /** {@code schema.name}. */
    public String qualifiedName() {
      return schema + "." + name;
    }
  }

  /**
   * One index.
   *
   * @param schema its schema
   * @param table its table
   * @param name its name
   * @param bytes its size
   * @param scans index scans since the statistics were reset
   * @param valid false for an index a failed {@code CREATE INDEX CONCURRENTLY} left behind: it is
   *     maintained on every write and never used
   * @param unique whether it enforces uniqueness (or is a primary key)
   * @param definition its {@code CREATE INDEX} statement
   * @param estimatedBloat share of its pages that a rebuild would free, 0–1, estimated from the
   *     table's statistics for B-tree indexes on columns (0 for others)
   * @param redundantWith the index that makes this one redundant (same columns, or this one's
   *     columns a prefix of its), or {@code null}
   */
  public record Index(
      String schema,
      String table,
      String name,
      long bytes,
      long scans,
      boolean valid,
      boolean unique,
      String definition,
      double estimatedBloat,
      String redundantWith) {
    /** {@code schema.name}. */
    public String qualifiedName() {
      return schema + "." + name;
    }
  }

  /** {@code bytes} for people: {@code 512 B}, {@code 12.3 MB}. */
  public static String bytes(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    var units = "KMGTP";
    var value = (double) bytes;
    var unit = -1;
    while (value >= 1024 && unit < units.length() - 1) {
      value /= 1024;
      unit++;
    }
    return String.format(java.util.Locale.ROOT, "%.1f %sB", value, units.charAt(unit));
  }
}
