package io.ballast.ops;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How long the rows of one table stay: rows whose {@code timestampColumn} is older than {@code
 * archiveAfter} move to {@code archiveTable} (or are deleted, without one); archived rows older
 * than {@code purgeAfter} are deleted from the archive. Rows move in batches ordered by {@code
 * keyColumn}, which must be unique.
 *
 * <pre>{@code
 * RetentionPolicy.of("events", "created_at", Duration.ofDays(365))
 *     .archiveTo("events_archive", Duration.ofDays(730));
 * }</pre>
 *
 * @param table the table, {@code name} or {@code schema.name}
 * @param timestampColumn the column whose age decides
 * @param keyColumn a unique column ordering the batches ({@code id} by default)
 * @param archiveAfter the age after which rows leave the table
 * @param archiveTable where they go, or {@code null} to delete them
 * @param purgeAfter the age after which archived rows are deleted, or {@code null} to keep them
 */
public record RetentionPolicy(
    String table,
    String timestampColumn,
    String keyColumn,
    Duration archiveAfter,
    String archiveTable,
    Duration purgeAfter) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}");
  private static final Pattern QUALIFIED =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}(\\.[A-Za-z_][A-Za-z0-9_$]{0,62})?");

  /** Checks every component; a wrong one fails naming it and what is allowed. */
  public RetentionPolicy {
    requireQualified("table", table);
    requireName("timestampColumn", timestampColumn);
    requireName("keyColumn", keyColumn);
    Objects.requireNonNull(archiveAfter, "archiveAfter");
    if (archiveAfter.isNegative() || archiveAfter.isZero()) {
      throw new IllegalArgumentException(
          "archiveAfter of " + table + " must be positive, but was " + archiveAfter);
    }
    if (archiveTable != null) {
      requireQualified("archiveTable", archiveTable);
      if (archiveTable.equals(table)) {
        throw new IllegalArgumentException(
            "archiveTable of " + table + " must be another table, but was " + archiveTable);
      }
    }
    if (purgeAfter != null) {
      if (archiveTable == null) {
        throw new IllegalArgumentException(
            "purgeAfter of " + table + " needs an archiveTable: without one, rows are deleted");
      }
      if (purgeAfter.compareTo(archiveAfter) <= 0) {
        throw new IllegalArgumentException(
            "purgeAfter of "
                + table
                + " must be longer than archiveAfter ("
                + archiveAfter
                + "), but was "
                + purgeAfter);
      }
    }
  }

  /**
   * Rows of {@code table} older than {@code archiveAfter} by {@code timestampColumn} are deleted.
   */
  public static RetentionPolicy of(String table, String timestampColumn, Duration archiveAfter) {
    return new RetentionPolicy(table, timestampColumn, "id", archiveAfter, null, null);
  }

  /** The same policy, moving rows to {@code archiveTable} and purging them after {@code purge}. */
  public RetentionPolicy archiveTo(String archiveTable, Duration purge) {
    return new RetentionPolicy(
        table, timestampColumn, keyColumn, archiveAfter, archiveTable, purge);
  }

  /** The same policy, batches ordered by {@code keyColumn}. */
  public RetentionPolicy keyedBy(String keyColumn) {
    return new RetentionPolicy(
        table, timestampColumn, keyColumn, archiveAfter, archiveTable, purgeAfter);
  }

  /**
   * Policies written as in {@code BALLAST_RETENTION}: entries separated by {@code ;}, each {@code
   * table.column:days[:archive_table[:purge_days[:key_column]]]}, e.g. {@code
   * events.created_at:365:events_archive:730}; a schema-qualified table is {@code
   * schema.table.column:…}; empty fields are skipped ({@code sessions.created_at:30:::session_id}).
   * The key column is {@code id} unless given.
   */
  public static List<RetentionPolicy> parseAll(String text) {
    var out = new ArrayList<RetentionPolicy>();
    for (var entry : text.split(";", -1)) {
      var e = entry.trim();
      if (e.isEmpty()) {
        continue;
      }
      var parts = e.split(":", -1);
      if (parts.length < 2 || parts.length > 5) {
        throw new IllegalArgumentException(e);
      }
      var target = parts[0];
      var dot = target.lastIndexOf('.');
      if (dot <= 0) {
        throw new IllegalArgumentException(e);
      }
      var archiveAfter = Duration.ofDays(Long.parseLong(parts[1]));
      var archive = parts.length > 2 && !parts[2].isBlank() ? parts[2] : null;
      var purge =
          parts.length > 3 && !parts[3].isBlank()
              ? Duration.ofDays(Long.parseLong(parts[3]))
              : null;
      var key = parts.length > 4 && !parts[4].isBlank() ? parts[4] : "id";
      out.add(
          new RetentionPolicy(
              target.substring(0, dot),
              target.substring(dot + 1),
              key,
              archiveAfter,
              archive,
              purge));
    }
    return List.copyOf(out);
  }

  private static void requireName(String what, String value) {
    if (value == null || !NAME.matcher(value).matches()) {
      throw new IllegalArgumentException(
          what + " must be a column name (letters, digits, _ and $), but was " + value);
    }
  }

  private static void requireQualified(String what, String value) {
    if (value == null || !QUALIFIED.matcher(value).matches()) {
      throw new IllegalArgumentException(
          what + " must be a table name, optionally schema-qualified, but was " + value);
    }
  }
}
