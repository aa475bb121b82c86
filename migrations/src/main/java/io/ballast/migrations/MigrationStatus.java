package io.ballast.migrations;

import java.time.Instant;
import java.util.List;

/**
 * One migration set's state, as data for the admin server and tools.
 *
 * @param set the set's name
 * @param historyTable its schema history table
 * @param applied migrations applied successfully, oldest first
 * @param pending migrations found in the locations and not applied yet
 * @param failed migrations recorded as failed (a non-transactional migration that broke half-way)
 */
public record MigrationStatus(
    String set, String historyTable, List<Entry> applied, List<Entry> pending, List<Entry> failed) {
  /** Copies the lists. */
  public MigrationStatus {
    applied = List.copyOf(applied);
    pending = List.copyOf(pending);
    failed = List.copyOf(failed);
  }

  /** Whether nothing is pending or failed. */
  public boolean upToDate() {
    return pending.isEmpty() && failed.isEmpty();
  }

  /**
   * One migration.
   *
   * @param version e.g. {@code 2}, or {@code null} for a repeatable migration
   * @param description e.g. {@code add orders}
   * @param script the file, e.g. {@code V2__add_orders.sql}
   * @param state Flyway's state, e.g. {@code Success}, {@code Pending}, {@code Failed}
   * @param installedOn when it was applied, or {@code null}
   */
  public record Entry(
      String version, String description, String script, String state, Instant installedOn) {
    /** {@code V2 (V2__add_orders.sql)}. */
    public String label() {
      return (version == null ? "R" : "V" + version) + " (" + script + ")";
    }
  }
}
