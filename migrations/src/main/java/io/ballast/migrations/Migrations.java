package io.ballast.migrations;

import java.util.List;

/**
 * The migration sets of the application and its modules, run by the lifecycle at start-up. Bound by
 * {@link MigrationsModule}; usable after start. Thread-safe.
 */
public interface Migrations {
  /** Every set's applied, pending and failed migrations, in run order. */
  List<MigrationStatus> status();

  /** INVALID indexes in the database's schemas (builds in progress excluded). */
  List<InvalidIndex> invalidIndexes();

  /**
   * Drops each INVALID index and builds it again with {@code CREATE INDEX CONCURRENTLY}, without
   * blocking writes. Returns the rebuilt indexes.
   *
   * @throws MigrationException naming the index when a rebuild fails again (say, duplicates under a
   *     unique index): fix the data and repair again
   */
  List<InvalidIndex> repairInvalidIndexes();

  /**
   * Flyway's repair on every set: removes failed entries from the history tables and realigns
   * checksums, so the next start can apply a fixed migration. Never done automatically.
   */
  void repairHistory();

  /**
   * Drops every object in the migrated schema, through Flyway's clean, for development resets.
   *
   * @throws IllegalStateException unless {@code allow_clean} is set (which production refuses)
   */
  void clean();
}
