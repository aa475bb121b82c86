package io.ballast.core;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A group of migrations with its own locations and its own schema history table, so that versions
 * of different sets never collide. The application's own set is {@code app} (order {@link
 * #APPLICATION_ORDER}); a Ballast module that ships SQL contributes one through {@link
 * Extensions#migrationSets(com.google.inject.Binder)} (an extension point of core, so that such a
 * module needs no compile-time dependency on the migrations module). {@code MigrationsModule} runs
 * them at start, in ascending {@link #order()}, then by name.
 *
 * @param name unique name, e.g. {@code audit}
 * @param order run order; module sets use {@link #MODULE_ORDER} so the application can build on
 *     them
 * @param historyTable the set's Flyway schema history table
 * @param locations Flyway locations, e.g. {@code classpath:io/ballast/audit/db}
 */
public record MigrationSet(String name, int order, String historyTable, List<String> locations) {
  /** Order of sets contributed by Ballast modules: before the application's. */
  public static final int MODULE_ORDER = 100;

  /** Order of the application's own set. */
  public static final int APPLICATION_ORDER = 1000;

  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,30}");
  private static final Pattern TABLE = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  /** Checks every component; a wrong one fails naming it and what is allowed. */
  public MigrationSet {
    Objects.requireNonNull(locations, "locations");
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "migration set name must match [a-z][a-z0-9_]{0,30}, but was " + name);
    }
    if (historyTable == null || !TABLE.matcher(historyTable).matches()) {
      throw new IllegalArgumentException(
          "history table of migration set '"
              + name
              + "' must match [a-z_][a-z0-9_]{0,62}, but was "
              + historyTable);
    }
    if (locations.isEmpty()) {
      throw new IllegalArgumentException(
          "migration set '" + name + "' must have at least one location");
    }
    locations = List.copyOf(locations);
  }

  /** A module's set, with history table {@code flyway_schema_history_<name>}. */
  public static MigrationSet of(String name, String... locations) {
    return new MigrationSet(
        name, MODULE_ORDER, "flyway_schema_history_" + name, List.of(locations));
  }
}
