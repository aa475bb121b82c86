package io.ballast.ops.cli;

import io.ballast.ops.Maintenance;
import io.ballast.ops.MaintenanceReport;
import io.ballast.ops.Retention;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code ballast maintain …}: the report and the maintenance actions. */
@Command(
    name = "maintain",
    mixinStandardHelpOptions = true,
    description = "Database maintenance that is safe on a live database.",
    subcommands = {
      MaintainCommand.Report.class,
      MaintainCommand.Vacuum.class,
      MaintainCommand.Reindex.class,
      MaintainCommand.Archive.class,
      MaintainCommand.Purge.class
    })
final class MaintainCommand extends CommandGroup {

  @Command(
      name = "report",
      mixinStandardHelpOptions = true,
      description = {
        "Sizes, dead rows, scans and vacuum times per table; invalid, redundant, unused and bloated"
            + " indexes; the cache hit ratio and the transaction-id age.",
        "Exits 1 when there are findings."
      })
  static final class Report implements Callable<Integer> {
    @ParentCommand MaintainCommand parent;
    @Mixin Output output;

    @Override
    public Integer call() {
      var root = parent.root;
      try (var app = root.startMaintenance()) {
        var report = app.get(Maintenance.class).report();
        if (output.json) {
          root.json(report);
        } else {
          print(root, report);
        }
        return report.findings().isEmpty() ? BallastCli.OK : BallastCli.FINDINGS;
      }
    }

    private static void print(BallastCli root, MaintenanceReport report) {
      var out = root.out();
      var db = report.database();
      out.printf(
          Locale.ROOT,
          "database %s: %s, cache hit ratio %.1f %%, transaction-id age %,d (%.1f %% of the limit)%n%n",
          db.name(),
          size(db.bytes()),
          db.cacheHitRatio() * 100,
          db.xidAge(),
          db.wraparoundRatio() * 100);
      out.printf(
          Locale.ROOT,
          "%-40s %10s %10s %10s %12s %12s %6s %10s %10s  %s%n",
          "TABLE",
          "HEAP",
          "INDEXES",
          "TOAST",
          "LIVE",
          "DEAD",
          "DEAD%",
          "SEQ SCANS",
          "IDX SCANS",
          "LAST VACUUM");
      for (var t : report.tables()) {
        var vacuum = latest(t.lastVacuum(), t.lastAutovacuum());
        out.printf(
            Locale.ROOT,
            "%-40s %10s %10s %10s %,12d %,12d %6.1f %,10d %,10d  %s%n",
            t.qualifiedName(),
            size(t.heapBytes()),
            size(t.indexBytes()),
            size(t.toastBytes()),
            t.liveRows(),
            t.deadRows(),
            t.deadRatio() * 100,
            t.seqScans(),
            t.indexScans(),
            vacuum == null ? "never" : vacuum.toString());
      }
      out.println();
      out.printf(
          Locale.ROOT,
          "%-40s %-30s %10s %10s %6s  %s%n",
          "INDEX",
          "TABLE",
          "SIZE",
          "SCANS",
          "BLOAT%",
          "NOTE");
      for (var i : report.indexes()) {
        var note =
            !i.valid()
                ? "INVALID"
                : i.redundantWith() != null
                    ? "redundant with " + i.redundantWith()
                    : i.unique() ? "unique" : "";
        out.printf(
            Locale.ROOT,
            "%-40s %-30s %10s %,10d %6.0f  %s%n",
            i.qualifiedName(),
            i.table(),
            size(i.bytes()),
            i.scans(),
            i.estimatedBloat() * 100,
            note);
      }
      out.println();
      if (report.findings().isEmpty()) {
        out.println("no findings");
      } else {
        out.println("findings:");
        report.findings().forEach(f -> out.println("  - " + f));
      }
    }

    private static java.time.Instant latest(java.time.Instant a, java.time.Instant b) {
      if (a == null) {
        return b;
      }
      return b == null || a.isAfter(b) ? a : b;
    }

    private static String size(long bytes) {
      return MaintenanceReport.bytes(bytes);
    }
  }

  @Command(
      name = "vacuum",
      mixinStandardHelpOptions = true,
      description = {
        "VACUUM (ANALYZE) of the tables whose dead rows or changes since the last analyze cross"
            + " BALLAST_VACUUM_DEAD_PERCENT / BALLAST_ANALYZE_CHANGED_PERCENT, one at a time.",
        "A table whose lock is not granted within BALLAST_MAINTENANCE_LOCK_TIMEOUT_MS is skipped"
            + " (exit 1).",
        "Never VACUUM FULL (which locks the table for the whole rewrite) unless named with --full."
      })
  static final class Vacuum implements Callable<Integer> {
    @ParentCommand MaintainCommand parent;
    @Mixin Output output;

    @Option(names = "--dry-run", description = "Say what would run; run nothing.")
    boolean dryRun;

    @Option(
        names = "--full",
        paramLabel = "SCHEMA.TABLE",
        description = "VACUUM (FULL, ANALYZE) this table (repeatable).")
    List<String> full = List.of();

    @Override
    public Integer call() {
      var root = parent.root;
      try (var app = root.startMaintenance()) {
        var actions =
            app.get(Maintenance.class)
                .vacuum(dryRun, new LinkedHashSet<>(full), Output.progress(root.err()));
        return Output.actions(root, output, actions);
      }
    }
  }

  @Command(
      name = "reindex",
      mixinStandardHelpOptions = true,
      description = {
        "REINDEX INDEX CONCURRENTLY of invalid indexes and of those whose estimated bloat crosses"
            + " BALLAST_REINDEX_BLOAT_PERCENT; writes go on meanwhile.",
        "A failed reindex's _ccnew/_ccold leftovers are dropped instead."
      })
  static final class Reindex implements Callable<Integer> {
    @ParentCommand MaintainCommand parent;
    @Mixin Output output;

    @Option(names = "--dry-run", description = "Say what would run; run nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
      var root = parent.root;
      try (var app = root.startMaintenance()) {
        return Output.actions(
            root, output, app.get(Maintenance.class).reindex(dryRun, Output.progress(root.err())));
      }
    }
  }

  @Command(
      name = "archive",
      mixinStandardHelpOptions = true,
      description = {
        "Moves rows older than each BALLAST_RETENTION policy's age into its archive table (or"
            + " deletes them), in batches of BALLAST_RETENTION_BATCH_SIZE, one transaction each.",
        "Safe to stop at any point: running it again goes on where it stopped."
      })
  static final class Archive implements Callable<Integer> {
    @ParentCommand MaintainCommand parent;
    @Mixin Output output;

    @Option(names = "--dry-run", description = "Count the rows that would move; move nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
      var root = parent.root;
      if (root.opsSettings().retention().isEmpty()) {
        throw new IllegalArgumentException(
            "no retention policy: set BALLAST_RETENTION, e.g."
                + " events.created_at:365:events_archive:730");
      }
      try (var app = root.startMaintenance()) {
        return Output.actions(
            root, output, app.get(Retention.class).archive(dryRun, Output.progress(root.err())));
      }
    }
  }

  @Command(
      name = "purge",
      mixinStandardHelpOptions = true,
      description =
          "Deletes archived rows older than each BALLAST_RETENTION policy's purge age, in batches.")
  static final class Purge implements Callable<Integer> {
    @ParentCommand MaintainCommand parent;
    @Mixin Output output;

    @Option(names = "--dry-run", description = "Count the rows that would go; delete nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
      var root = parent.root;
      if (root.opsSettings().retention().stream().noneMatch(p -> p.purgeAfter() != null)) {
        throw new IllegalArgumentException(
            "no retention policy with a purge age: set BALLAST_RETENTION, e.g."
                + " events.created_at:365:events_archive:730");
      }
      try (var app = root.startMaintenance()) {
        return Output.actions(
            root, output, app.get(Retention.class).purge(dryRun, Output.progress(root.err())));
      }
    }
  }
}
