package io.ballast.ops.backup;

import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.inject.Inject;
import io.ballast.core.ProbeResult;
import io.ballast.ops.Progress;
import io.ballast.pool.PoolSettings;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Physical backups and point-in-time recovery through pgBackRest, for a stanza the operator has set
 * up (Ballast configures nothing on the server: see the ops README for {@code archive_command} and
 * {@code stanza-create}).
 *
 * <ul>
 *   <li>{@link #backup} runs {@code pgbackrest backup --type=full|diff|incr};
 *   <li>{@link #info} parses {@code pgbackrest info --output=json};
 *   <li>{@link #verify} runs {@code pgbackrest verify} (the repository's checksums), then restores
 *       the newest backup into a scratch data directory, starts it on a free loopback port, waits
 *       for recovery to end, reads every table, and stops and deletes it;
 *   <li>{@link #restore} restores into an empty data directory, to a point in time if asked.
 * </ul>
 *
 * <p>{@code pgbackrest} and {@code pg_ctl} run with {@link BackupSettings#commandPrefix()} before
 * them (e.g. {@code sudo -u postgres}). Metrics: {@code ballast.ops.backup.pgbackrest.last-success}
 * and {@code .last-verified} (UNIX seconds), {@code .size} (bytes of the newest backup, from {@code
 * info}), {@code .duration} and {@code .verify-duration} (timers), {@code .failures} (meter).
 */
public final class PgBackRest {
  private static final Logger LOG = LoggerFactory.getLogger(PgBackRest.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter TARGET =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSSxxx", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  /** The kinds of backup pgBackRest takes. */
  public enum Type {
    /** Everything. */
    FULL,
    /** What changed since the last full backup. */
    DIFF,
    /** What changed since the last backup of any type (a full one when there is none). */
    INCR
  }

  /**
   * One backup in the repository.
   *
   * @param label its label, e.g. {@code 20261201-021500F_20261202-021500I}
   * @param type full, diff or incr
   * @param start when it started
   * @param stop when it finished
   * @param sizeBytes the database's size it restores to
   * @param repositoryBytes what it takes in the repository
   */
  public record Backup(
      String label,
      String type,
      Instant start,
      Instant stop,
      long sizeBytes,
      long repositoryBytes) {}

  /**
   * A verification's outcome.
   *
   * @param ok whether the repository checked out and the newest backup restored and read
   * @param detail what was checked, or what failed
   */
  public record Verification(boolean ok, String detail) {}

  private final PgConnection target;
  private final BackupSettings settings;
  private final String stanza;
  private final Clock clock;
  private final String searchPath;
  private final Instant created;
  private final AtomicLong lastSuccess = new AtomicLong();
  private final AtomicLong lastVerified = new AtomicLong();
  private final AtomicLong lastSize = new AtomicLong();
  private final AtomicReference<Instant> lastFailedVerify = new AtomicReference<>();
  private final Timer duration;
  private final Timer verifyDuration;
  private final Meter failures;

  /** For Guice: the stanza of {@code settings}, its database reached as the pool's. */
  @Inject
  public PgBackRest(PoolSettings pool, BackupSettings settings, MetricRegistry metrics) {
    this(
        Backups.target(pool, settings),
        settings,
        metrics,
        Clock.systemUTC(),
        System.getenv("PATH"));
  }

  PgBackRest(
      PgConnection target,
      BackupSettings settings,
      MetricRegistry metrics,
      Clock clock,
      String searchPath) {
    this.target = Objects.requireNonNull(target, "target");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.stanza =
        settings
            .stanza()
            .orElseThrow(
                () -> new BackupException("No pgBackRest stanza: set BALLAST_PGBACKREST_STANZA"));
    this.clock = clock;
    this.searchPath = searchPath;
    this.created = clock.instant();
    var prefix = MetricRegistry.name("ballast", "ops", "backup", "pgbackrest");
    metrics.gauge(MetricRegistry.name(prefix, "last-success"), () -> lastSuccess::get);
    metrics.gauge(MetricRegistry.name(prefix, "last-verified"), () -> lastVerified::get);
    metrics.gauge(MetricRegistry.name(prefix, "size"), () -> lastSize::get);
    this.duration = metrics.timer(MetricRegistry.name(prefix, "duration"));
    this.verifyDuration = metrics.timer(MetricRegistry.name(prefix, "verify-duration"));
    this.failures = metrics.meter(MetricRegistry.name(prefix, "failures"));
  }

  /** Takes a backup of {@code type}; returns it as {@code info} lists it. */
  public synchronized Backup backup(Type type, Progress progress) {
    var context = duration.time();
    try {
      progress.step(
          "pgbackrest " + type.name().toLowerCase(Locale.ROOT) + " backup started", 0, -1);
      pgbackrest(List.of("--type=" + type.name().toLowerCase(Locale.ROOT), "backup"), false);
      context.stop();
      var newest =
          newest(info())
              .orElseThrow(
                  () -> new BackupException("pgbackrest info lists no backup after a backup"));
      LOG.info("pgBackRest {} backup {} taken", newest.type(), newest.label());
      return newest;
    } catch (RuntimeException e) {
      failures.mark();
      throw e;
    }
  }

  /** The stanza's backups, oldest first, from {@code pgbackrest info --output=json}. */
  public List<Backup> info() {
    var json = pgbackrest(List.of("--output=json", "info"), true);
    var backups = new ArrayList<Backup>();
    try {
      for (var s : JSON.readTree(json)) {
        if (!stanza.equals(s.path("name").asText())) {
          continue;
        }
        var status = s.path("status");
        // 0 ok, 2 no valid backup yet, 6 a backup or expire running: usable; the rest is not
        var code = status.path("code").asInt(0);
        if (code != 0 && code != 2 && code != 6) {
          throw new BackupException(
              "pgbackrest info: stanza "
                  + stanza
                  + " is not usable: "
                  + status.path("message").asText());
        }
        for (var b : s.path("backup")) {
          if (b.path("error").asBoolean(false)) {
            continue;
          }
          backups.add(
              new Backup(
                  b.path("label").asText(),
                  b.path("type").asText(),
                  seconds(b.path("timestamp").path("start")),
                  seconds(b.path("timestamp").path("stop")),
                  b.path("info").path("size").asLong(),
                  b.path("info").path("repository").path("delta").asLong()));
        }
      }
    } catch (IOException e) {
      throw new BackupException("pgbackrest info printed no JSON: " + e.getMessage(), e);
    }
    newest(backups)
        .ifPresent(
            b -> {
              lastSuccess.set(b.stop().getEpochSecond());
              lastSize.set(b.sizeBytes());
            });
    return backups;
  }

  private static Instant seconds(JsonNode node) {
    return Instant.ofEpochSecond(node.asLong());
  }

  private static Optional<Backup> newest(List<Backup> backups) {
    return backups.isEmpty() ? Optional.empty() : Optional.of(backups.get(backups.size() - 1));
  }

  /**
   * {@code pgbackrest verify}, then a restore test of the newest backup in a scratch data
   * directory; a failure is an outcome ({@link Verification#ok()} false), recorded in the metrics
   * and the check.
   */
  public synchronized Verification verify(Progress progress) {
    var context = verifyDuration.time();
    Verification result;
    try {
      progress.step("pgbackrest verify", 0, 1);
      // pgBackRest 2.45 exits 0 whatever verify finds: its report says whether the stanza is valid
      var report = pgbackrest(List.of("--log-level-console=info", "verify"), true);
      checkVerifyReport(report);
      progress.step("pgbackrest verify", 1, 1);
      var newest = newest(info()).orElseThrow(() -> new BackupException("no backup to verify"));
      try (var scratch = restoreAndStart(Optional.empty(), progress)) {
        var tables = scratch.readEveryTable();
        result =
            new Verification(
                true,
                "repository verified; "
                    + newest.label()
                    + " restored into a scratch server and its "
                    + tables
                    + " tables read");
        lastVerified.set(newest.stop().getEpochSecond());
      }
    } catch (BackupException e) {
      result = new Verification(false, e.getMessage());
    }
    context.stop();
    if (result.ok()) {
      lastFailedVerify.set(null);
      LOG.info("pgBackRest stanza {} verified: {}", stanza, result.detail());
    } else {
      failures.mark();
      lastFailedVerify.set(clock.instant());
      LOG.warn("pgBackRest stanza {} failed verification: {}", stanza, result.detail());
    }
    return result;
  }

  /** Fails with the findings when {@code pgbackrest verify}'s report is not clean. */
  static void checkVerifyReport(String report) {
    var findings = new ArrayList<String>();
    var bad = false;
    for (var raw : report.split("\n", -1)) {
      var line = raw.strip();
      if (line.contains("status: error")) {
        bad = true;
      }
      if (line.contains("status: invalid")
          || line.matches(".*(checksum invalid|size invalid|missing|other): [1-9].*")
          || line.contains("INFO: invalid")
          || line.contains("ERROR")) {
        findings.add(line.replaceFirst("^\\S+ \\S+ P\\d+ +INFO: ", ""));
        bad = true;
      }
    }
    if (bad) {
      throw new BackupException(
          "pgbackrest verify found problems in the repository: " + String.join("; ", findings));
    }
  }

  /**
   * Restores the stanza into {@code dataDir} (which must not exist or be empty): the newest backup
   * and all archived WAL, or up to {@code targetTime} (the backup before it is chosen by
   * pgBackRest), after which the server promotes. The server is not started.
   */
  public synchronized void restore(Path dataDir, Optional<Instant> targetTime, Progress progress) {
    restore(dataDir, targetTime, progress, false);
  }

  private void restore(
      Path dataDir, Optional<Instant> targetTime, Progress progress, boolean test) {
    var args = new ArrayList<String>();
    args.add("--pg1-path=" + dataDir.toAbsolutePath());
    if (test) {
      args.add("--job-retry=0"); // a restore test reports a bad file at once instead of retrying
    }
    if (targetTime.isPresent()) {
      args.add("--type=time");
      args.add("--target=" + TARGET.format(targetTime.get()));
      args.add("--target-action=promote");
    } else {
      args.add("--type=immediate");
      args.add("--target-action=promote");
    }
    args.add("restore");
    progress.step("pgbackrest restore into " + dataDir, 0, -1);
    pgbackrest(args, false);
  }

  /**
   * Restores into a new scratch directory and starts it on a free loopback port, recovery ended;
   * closing stops it and deletes the directory.
   */
  ScratchServer restoreAndStart(Optional<Instant> targetTime, Progress progress) {
    var pgCtl = pgCtl();
    Path parent;
    try {
      parent = Files.createTempDirectory("ballast-pgbackrest-");
      // the server's user (the prefix's) creates the data directory inside
      Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwx-wx-wx"));
    } catch (IOException e) {
      throw new BackupException("Could not create a scratch directory: " + e.getMessage(), e);
    }
    var scratch = new ScratchServer(parent, parent.resolve("data"), pgCtl);
    try {
      restore(scratch.dataDir, targetTime, progress, true);
      progress.step("starting the restored server", 0, -1);
      scratch.start();
      return scratch;
    } catch (RuntimeException e) {
      scratch.close();
      throw e;
    }
  }

  private String pgCtl() {
    var found = new ArrayList<String>();
    try (var c = target.open()) {
      var major = Integer.parseInt(single(c)) / 10_000;
      var tools = PgTools.find(settings.pgBin(), major, searchPath);
      var pgCtl = Path.of(tools.path("pg_ctl"));
      if (Files.isExecutable(pgCtl) && Files.isExecutable(pgCtl.resolveSibling("postgres"))) {
        return pgCtl.toString();
      }
      found.add(pgCtl.getParent().toString());
      throw new BackupException(
          "pg_ctl and postgres of PostgreSQL "
              + major
              + " not found in "
              + found
              + ": a restore test starts a scratch server; install the Debian package postgresql-"
              + major);
    } catch (SQLException e) {
      throw new BackupException("Could not reach " + target + ": " + e.getMessage(), e);
    }
  }

  private static String single(java.sql.Connection c) throws SQLException {
    try (var s = c.createStatement();
        var rs = s.executeQuery("show server_version_num")) {
      rs.next();
      return rs.getString(1);
    }
  }

  /**
   * Degraded when the newest backup is older than {@link BackupSettings#maxAge()} (or there has
   * been none for that long), or when the last verification failed.
   */
  public ProbeResult check() {
    var details = new LinkedHashMap<String, Object>();
    details.put("stanza", stanza);
    details.put("max_age", settings.maxAge().toString());
    var failed = lastFailedVerify.get();
    if (failed != null) {
      details.put("verify_failed_at", failed.toString());
      return ProbeResult.degraded("the last pgBackRest verification failed", details);
    }
    var now = clock.instant();
    var newest = newest(info());
    if (newest.isEmpty()) {
      return Duration.between(created, now).compareTo(settings.maxAge()) > 0
          ? ProbeResult.degraded("no pgBackRest backup in " + settings.maxAge(), details)
          : ProbeResult.healthy("no pgBackRest backup yet", details);
    }
    var age = Duration.between(newest.get().stop(), now);
    details.put("newest", newest.get().label());
    details.put("age_seconds", age.toSeconds());
    if (age.compareTo(settings.maxAge()) > 0) {
      return ProbeResult.degraded(
          "the newest pgBackRest backup is " + age.toHours() + " h old", details);
    }
    return ProbeResult.healthy("newest pgBackRest backup " + age.toMinutes() + " min old", details);
  }

  private String pgbackrest(List<String> args, boolean output) {
    var command = new ArrayList<>(settings.commandPrefix());
    command.add("pgbackrest");
    settings.pgBackRestConfig().ifPresent(c -> command.add("--config=" + c));
    command.add("--stanza=" + stanza);
    if (args.stream().noneMatch(a -> a.startsWith("--log-level-console="))) {
      command.add("--log-level-console=warn");
    }
    command.addAll(args);
    try {
      return PgTools.exec(
          command, null, settings.timeout(), "pgbackrest " + args.get(args.size() - 1), output);
    } catch (IOException e) {
      throw new BackupException(
          "Could not run pgbackrest ("
              + e.getMessage()
              + "): install the Debian package pgbackrest",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BackupException("pgbackrest interrupted", e);
    }
  }

  /** A restored data directory started on a free loopback port. */
  final class ScratchServer implements AutoCloseable {
    private final Path parent;
    private final Path dataDir;
    private final String pgCtl;
    private int port;
    private boolean started;

    ScratchServer(Path parent, Path dataDir, String pgCtl) {
      this.parent = parent;
      this.dataDir = dataDir;
      this.pgCtl = pgCtl;
    }

    void start() {
      try (var socket = new ServerSocket(0)) {
        port = socket.getLocalPort();
      } catch (IOException e) {
        throw new BackupException("No free port for a scratch server: " + e.getMessage(), e);
      }
      var command = new ArrayList<>(settings.commandPrefix());
      command.addAll(
          List.of(
              pgCtl,
              "-D",
              dataDir.toString(),
              "-l",
              dataDir.resolve("ballast-verify.log").toString(),
              "-w",
              "-t",
              Long.toString(Math.max(60, settings.timeout().toSeconds())),
              "-o",
              "-p "
                  + port
                  + " -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c"
                  + " archive_mode=off -c hot_standby=off",
              "start"));
      try {
        try {
          PgTools.exec(command, null, settings.timeout(), "pg_ctl start", false);
        } catch (BackupException e) {
          throw new BackupException(e.getMessage() + serverLog(), e);
        }
        started = true;
        awaitPromotion();
      } catch (IOException e) {
        throw new BackupException("Could not start the scratch server: " + e.getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new BackupException("interrupted while starting the scratch server", e);
      }
    }

    /** The tail of the scratch server's log, when this process may read it. */
    private String serverLog() {
      try {
        var lines = Files.readAllLines(dataDir.resolve("ballast-verify.log"));
        return " / server log: "
            + String.join(" / ", lines.subList(Math.max(0, lines.size() - 8), lines.size()));
      } catch (IOException | RuntimeException e) {
        return "";
      }
    }

    private void awaitPromotion() throws InterruptedException {
      var deadline = System.nanoTime() + settings.timeout().toNanos();
      while (true) {
        try (var c = connection();
            var s = c.createStatement();
            var rs = s.executeQuery("select pg_is_in_recovery()")) {
          rs.next();
          if (!rs.getBoolean(1)) {
            return;
          }
        } catch (SQLException e) {
          if (System.nanoTime() > deadline) {
            throw new BackupException(
                "The scratch server did not accept connections: " + e.getMessage(), e);
          }
        }
        if (System.nanoTime() > deadline) {
          throw new BackupException(
              "The scratch server was still recovering after " + settings.timeout());
        }
        Thread.sleep(100);
      }
    }

    /** A connection to the restored copy of the target database, as the target's user. */
    java.sql.Connection connection() throws SQLException {
      return new PgConnection(
              "127.0.0.1", port, target.database(), target.user(), target.password(), target.tls())
          .open();
    }

    /** Reads every user table; returns how many there are. */
    int readEveryTable() {
      try (var c = connection()) {
        var tables = new ArrayList<String>();
        try (var s = c.createStatement();
            var rs =
                s.executeQuery(
                    "select quote_ident(n.nspname) || '.' || quote_ident(c.relname) from pg_class c"
                        + " join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r'"
                        + " and n.nspname not in ('pg_catalog', 'information_schema')"
                        + " and n.nspname not like 'pg\\_toast%'")) {
          while (rs.next()) {
            tables.add(rs.getString(1));
          }
        }
        for (var t : tables) {
          try (var s = c.createStatement();
              var rs = s.executeQuery("select count(*) from " + t)) {
            rs.next();
          }
        }
        return tables.size();
      } catch (SQLException e) {
        throw new BackupException("The restored server could not be read: " + e.getMessage(), e);
      }
    }

    @Override
    public void close() {
      try {
        if (started) {
          var stop = new ArrayList<>(settings.commandPrefix());
          stop.addAll(List.of(pgCtl, "-D", dataDir.toString(), "-m", "immediate", "-w", "stop"));
          PgTools.exec(stop, null, Duration.ofMinutes(1), "pg_ctl stop", false);
        }
        var remove = new ArrayList<>(settings.commandPrefix());
        remove.addAll(List.of("rm", "-rf", "--", dataDir.toString()));
        PgTools.exec(remove, null, Duration.ofMinutes(10), "rm", false);
        Files.deleteIfExists(parent);
      } catch (IOException | RuntimeException e) {
        LOG.warn("Could not remove the scratch server in {}: {}", parent, e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Where these backups stand: the newest, the newest verified, its size, failures so far. */
  public BackupFigures figures() {
    return new BackupFigures(
        "pgbackrest", lastSuccess.get(), lastVerified.get(), lastSize.get(), failures.getCount());
  }
}
