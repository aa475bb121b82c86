package io.ballast.ops.cli;

import io.ballast.core.Ballast;
import io.ballast.migrations.MigrationMode;
import io.ballast.migrations.MigrationSettings;
import io.ballast.migrations.MigrationStatus;
import io.ballast.migrations.Migrations;
import io.ballast.migrations.MigrationsModule;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ballast migrate …}: the migration sets of {@code BALLAST_MIGRATIONS_LOCATIONS}, as the
 * migrations module runs them.
 */
@Command(
    name = "migrate",
    mixinStandardHelpOptions = true,
    description = {
      "Applies the pending migrations of BALLAST_MIGRATIONS_LOCATIONS (e.g."
          + " filesystem:db/migration), under the migrations module's lock and lock timeouts.",
      "Exits 1 when a migration fails."
    },
    subcommands = {
      MigrateCommand.Status.class,
      MigrateCommand.Validate.class,
      MigrateCommand.RepairIndexes.class
    })
final class MigrateCommand implements Callable<Integer> {
  @ParentCommand BallastCli root;
  @Mixin Output output;

  @Override
  public Integer call() {
    return status(root, output, MigrationMode.MIGRATE);
  }

  /** Starts with migrations in {@code mode} (which may apply or check), then prints the status. */
  static int status(BallastCli root, Output output, MigrationMode mode) {
    try (var app = start(root, mode)) {
      return print(root, output, app.get(Migrations.class).status());
    }
  }

  static Ballast start(BallastCli root, MigrationMode mode) {
    var locations = root.env().get(MigrationSettings.LOCATIONS.variable());
    if (locations == null || locations.isBlank()) {
      throw new IllegalArgumentException(
          "set "
              + MigrationSettings.LOCATIONS.variable()
              + " to the migrations' location, e.g. filesystem:db/migration");
    }
    var settings = MigrationSettings.fromEnv(root.env()).toBuilder().mode(mode).build();
    return root.start(new MigrationsModule(settings));
  }

  /** Prints each set's state; 1 when one has pending or failed migrations. */
  static int print(BallastCli root, Output output, List<MigrationStatus> sets) {
    if (output.json) {
      root.json(sets);
    } else {
      for (var set : sets) {
        root.out()
            .println(
                set.set()
                    + " ("
                    + set.historyTable()
                    + "): "
                    + set.applied().size()
                    + " applied"
                    + list(", pending: ", set.pending())
                    + list(", FAILED: ", set.failed()));
      }
    }
    return sets.stream().allMatch(MigrationStatus::upToDate) ? BallastCli.OK : BallastCli.FINDINGS;
  }

  private static String list(String label, List<MigrationStatus.Entry> entries) {
    return entries.isEmpty()
        ? ""
        : label
            + entries.stream().map(MigrationStatus.Entry::label).collect(Collectors.joining(", "));
  }

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description =
          "Applied, pending and failed migrations of each set; exits 1 when one is behind.")
  static final class Status implements Callable<Integer> {
    @ParentCommand MigrateCommand parent;
    @Mixin Output output;

    @Override
    public Integer call() {
      return status(parent.root, output, MigrationMode.OFF);
    }
  }

  @Command(
      name = "validate",
      mixinStandardHelpOptions = true,
      description =
          "Checks that nothing is pending and no applied migration changed; applies nothing.")
  static final class Validate implements Callable<Integer> {
    @ParentCommand MigrateCommand parent;
    @Mixin Output output;

    @Override
    public Integer call() {
      return status(parent.root, output, MigrationMode.VALIDATE);
    }
  }

  @Command(
      name = "repair-indexes",
      mixinStandardHelpOptions = true,
      description =
          "Rebuilds every INVALID index with CREATE INDEX CONCURRENTLY, without blocking writes.")
  static final class RepairIndexes implements Callable<Integer> {
    @ParentCommand MigrateCommand parent;
    @Mixin Output output;

    @Override
    public Integer call() {
      var root = parent.root;
      try (var app = start(root, MigrationMode.OFF)) {
        var rebuilt = app.get(Migrations.class).repairInvalidIndexes();
        if (output.json) {
          root.json(rebuilt);
        } else if (rebuilt.isEmpty()) {
          root.out().println("no invalid index");
        } else {
          rebuilt.forEach(i -> root.out().println("rebuilt " + i.qualifiedName()));
        }
        return BallastCli.OK;
      }
    }
  }
}
