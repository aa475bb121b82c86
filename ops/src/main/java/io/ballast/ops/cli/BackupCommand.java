package io.ballast.ops.cli;

import com.codahale.metrics.MetricRegistry;
import io.ballast.ops.backup.BackupSettings;
import io.ballast.ops.backup.Backups;
import io.ballast.ops.backup.PgBackRest;
import io.ballast.pool.PoolSettings;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ballast backup …}: takes a backup ({@code pg_dump}, or pgBackRest with {@code --engine
 * pgbackrest}), proves one by restoring it, restores one, lists and prunes them.
 */
@Command(
    name = "backup",
    mixinStandardHelpOptions = true,
    description = {
      "Takes a backup: a pg_dump into BALLAST_BACKUP_DIR with its manifest (logical), or a"
          + " pgBackRest backup of BALLAST_PGBACKREST_STANZA (--engine pgbackrest).",
      "A logical dump is a copy as of one moment; point-in-time recovery needs pgBackRest."
    },
    subcommands = {
      BackupCommand.Verify.class,
      BackupCommand.Restore.class,
      BackupCommand.ListBackups.class,
      BackupCommand.Prune.class
    })
final class BackupCommand implements Callable<Integer> {
  /** Which engine a command drives. */
  enum Engine {
    logical,
    pgbackrest
  }

  @ParentCommand BallastCli root;
  @Mixin Output output;

  @Option(
      names = "--engine",
      description = "logical (pg_dump, the default) or pgbackrest.",
      defaultValue = "logical")
  Engine engine;

  @Option(
      names = "--type",
      description = "pgBackRest only: full, diff or incr (default incr: full when there is none).")
  PgBackRest.Type type;

  @Option(names = "--verify", description = "Prove the new backup by restoring it afterwards.")
  boolean verify;

  @Override
  public Integer call() {
    if (engine == Engine.pgbackrest) {
      var pgBackRest = pgBackRest(root);
      var kind = type == null ? PgBackRest.Type.INCR : type;
      var backup = pgBackRest.backup(kind, Output.progress(root.err()));
      var result = new LinkedHashMap<String, Object>();
      result.put("backup", backup);
      var ok = true;
      if (verify) {
        var verification = pgBackRest.verify(Output.progress(root.err()));
        result.put("verification", verification);
        ok = verification.ok();
      }
      if (output.json) {
        root.json(result);
      } else {
        root.out()
            .println(backup.label() + ": " + backup.type() + ", " + backup.sizeBytes() + " bytes");
        if (result.get("verification") instanceof PgBackRest.Verification v) {
          root.out().println((v.ok() ? "verified: " : "NOT VERIFIED: ") + v.detail());
        }
      }
      return ok ? BallastCli.OK : BallastCli.FINDINGS;
    }
    if (type != null) {
      throw new IllegalArgumentException("--type is for --engine pgbackrest only");
    }
    var backups = backups(root);
    var backup = backups.backup(Output.progress(root.err()));
    if (verify) {
      backup = backups.verify(backup.dump(), Output.progress(root.err()));
    }
    print(root, output, backup);
    return !verify || backup.manifest().verified() ? BallastCli.OK : BallastCli.FINDINGS;
  }

  static Backups backups(BallastCli root) {
    return new Backups(
        PoolSettings.fromEnv(root.env()),
        BackupSettings.fromEnv(root.env()),
        new MetricRegistry(),
        Optional.empty());
  }

  static PgBackRest pgBackRest(BallastCli root) {
    return new PgBackRest(
        PoolSettings.fromEnv(root.env()), BackupSettings.fromEnv(root.env()), new MetricRegistry());
  }

  static void print(BallastCli root, Output output, Backups.Backup backup) {
    if (output.json) {
      root.json(backup);
      return;
    }
    var m = backup.manifest();
    root.out()
        .printf(
            Locale.ROOT,
            "%s: %d bytes, %d tables, sha256 %s%n",
            backup.dump(),
            m.sizeBytes(),
            m.tables().size(),
            m.sha256());
    if (m.verification() != null) {
      root.out()
          .println(
              (m.verification().ok() ? "verified: " : "NOT VERIFIED: ")
                  + m.verification().detail());
    }
  }

  @Command(
      name = "verify",
      mixinStandardHelpOptions = true,
      description = {
        "Proves a backup by restoring it: checks the dump's SHA-256, restores it into a scratch"
            + " database, compares every table's rows with the manifest, checks the sequences,"
            + " drops the scratch database and records the outcome in the manifest (exit 1 when"
            + " it fails).",
        "With --engine pgbackrest: pgbackrest verify, then the newest backup restored into a"
            + " scratch server on a free loopback port and every table read."
      })
  static final class Verify implements Callable<Integer> {
    @ParentCommand BackupCommand parent;
    @Mixin Output output;

    @Parameters(
        paramLabel = "FILE",
        arity = "0..1",
        description = "A .dump or .manifest.json file (default: the newest backup).")
    Path file;

    @Option(names = "--latest", description = "The newest backup (the default).")
    boolean latest;

    @Option(
        names = "--engine",
        description = "logical (the default) or pgbackrest.",
        defaultValue = "logical")
    Engine engine;

    @Override
    public Integer call() {
      var root = parent.root;
      if (engine == Engine.pgbackrest) {
        var v = pgBackRest(root).verify(Output.progress(root.err()));
        if (output.json) {
          root.json(v);
        } else {
          root.out().println((v.ok() ? "verified: " : "NOT VERIFIED: ") + v.detail());
        }
        return v.ok() ? BallastCli.OK : BallastCli.FINDINGS;
      }
      if (file != null && latest) {
        throw new IllegalArgumentException("give a FILE or --latest, not both");
      }
      var backups = backups(root);
      var backup =
          file == null
              ? backups.verifyLatest(Output.progress(root.err()))
              : backups.verify(file, Output.progress(root.err()));
      print(root, output, backup);
      return backup.manifest().verified() ? BallastCli.OK : BallastCli.FINDINGS;
    }
  }

  @Command(
      name = "restore",
      mixinStandardHelpOptions = true,
      description = {
        "Restores a dump into a database (created when missing) after checking its SHA-256;"
            + " refuses a database that has tables unless --replace.",
        "With --engine pgbackrest: restores the stanza into an empty data directory (--to-dir),"
            + " to --target-time if given; the server is not started."
      })
  static final class Restore implements Callable<Integer> {
    @ParentCommand BackupCommand parent;

    @Parameters(paramLabel = "FILE", arity = "0..1", description = "The .dump file (logical).")
    Path file;

    @Option(names = "--to", paramLabel = "DATABASE", description = "The database to restore into.")
    String database;

    @Option(
        names = "--replace",
        description = "Drop and replace what the dump holds in a database that has tables.")
    boolean replace;

    @Option(
        names = "--engine",
        description = "logical (the default) or pgbackrest.",
        defaultValue = "logical")
    Engine engine;

    @Option(
        names = "--to-dir",
        paramLabel = "DIR",
        description = "pgBackRest: the empty data directory.")
    Path dataDir;

    @Option(
        names = "--target-time",
        paramLabel = "ISO-8601",
        description = "pgBackRest: recover up to this instant, e.g. 2026-12-01T10:15:30Z.")
    String targetTime;

    @Override
    public Integer call() {
      var root = parent.root;
      if (engine == Engine.pgbackrest) {
        if (dataDir == null) {
          throw new IllegalArgumentException("--engine pgbackrest needs --to-dir DIR");
        }
        Optional<Instant> target;
        try {
          target = Optional.ofNullable(targetTime).map(Instant::parse);
        } catch (java.time.format.DateTimeParseException e) {
          throw new IllegalArgumentException(
              "--target-time must be an ISO-8601 instant such as 2026-12-01T10:15:30Z, but was "
                  + targetTime,
              e);
        }
        pgBackRest(root).restore(dataDir, target, Output.progress(root.err()));
        root.out().println("restored into " + dataDir + target.map(t -> " up to " + t).orElse(""));
        return BallastCli.OK;
      }
      if (file == null || database == null) {
        throw new IllegalArgumentException("a logical restore needs FILE and --to DATABASE");
      }
      backups(root).restore(file, database, replace, Output.progress(root.err()));
      root.out().println("restored " + file.getFileName() + " into " + database);
      return BallastCli.OK;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "The backups, newest first, and whether each is verified.")
  static final class ListBackups implements Callable<Integer> {
    @ParentCommand BackupCommand parent;
    @Mixin Output output;

    @Option(
        names = "--engine",
        description = "logical (the default) or pgbackrest.",
        defaultValue = "logical")
    Engine engine;

    @Override
    public Integer call() {
      var root = parent.root;
      if (engine == Engine.pgbackrest) {
        var info = pgBackRest(root).info();
        if (output.json) {
          root.json(info);
        } else {
          root.out()
              .printf(Locale.ROOT, "%-40s %-5s %-21s %14s%n", "LABEL", "TYPE", "STOP", "BYTES");
          for (var b : info) {
            root.out()
                .printf(
                    Locale.ROOT,
                    "%-40s %-5s %-21s %14d%n",
                    b.label(),
                    b.type(),
                    b.stop(),
                    b.sizeBytes());
          }
        }
        return BallastCli.OK;
      }
      var list = backups(root).list();
      if (output.json) {
        root.json(list);
      } else {
        root.out()
            .printf(Locale.ROOT, "%-48s %-25s %14s  %s%n", "FILE", "FINISHED", "BYTES", "VERIFIED");
        for (var b : list) {
          var v = b.manifest().verification();
          root.out()
              .printf(
                  Locale.ROOT,
                  "%-48s %-25s %14d  %s%n",
                  b.dump().getFileName(),
                  b.manifest().finishedAt(),
                  b.manifest().sizeBytes(),
                  v == null ? "never" : (v.ok() ? "yes, " : "FAILED, ") + v.at());
        }
      }
      return BallastCli.OK;
    }
  }

  @Command(
      name = "prune",
      mixinStandardHelpOptions = true,
      description =
          "Deletes the backups retention no longer keeps (BALLAST_BACKUP_KEEP_LAST,"
              + " BALLAST_BACKUP_KEEP_DAYS; the newest verified one always stays).")
  static final class Prune implements Callable<Integer> {
    @ParentCommand BackupCommand parent;
    @Mixin Output output;

    @Option(names = "--dry-run", description = "Only list what would be deleted.")
    boolean dryRun;

    @Override
    public Integer call() {
      var root = parent.root;
      var deleted = backups(root).prune(dryRun);
      if (output.json) {
        root.json(deleted.stream().map(Path::toString).toList());
      } else if (deleted.isEmpty()) {
        root.out().println("nothing to prune");
      } else {
        deleted.forEach(p -> root.out().println((dryRun ? "would delete " : "deleted ") + p));
      }
      return BallastCli.OK;
    }
  }
}
