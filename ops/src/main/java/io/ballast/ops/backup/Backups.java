package io.ballast.ops.backup;

import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.google.inject.Inject;
import io.ballast.core.ProbeResult;
import io.ballast.ops.Progress;
import io.ballast.pool.PoolSettings;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logical backups with {@code pg_dump}, each proven by restoring it.
 *
 * <ul>
 *   <li>{@link #backup} dumps the database ({@code pg_dump --format=custom}, compressed) from an
 *       exported snapshot, counts every table's rows in that same snapshot, and writes {@code
 *       <database>-<UTC timestamp>.dump} and its {@link BackupManifest} (size, SHA-256, row counts)
 *       atomically: under temporary names, flushed to disk, then renamed, the manifest last. A
 *       crash or a killed {@code pg_dump} never leaves a backup that looks complete.
 *   <li>{@link #verify} checks the SHA-256, restores into a scratch database ({@code pg_restore
 *       --exit-on-error}), compares the row counts with the manifest, checks that no sequence is
 *       behind its column's maximum, drops the scratch database and records the outcome in the
 *       manifest.
 *   <li>{@link #restore} restores a backup into a database, refusing one that has tables unless
 *       told to replace them.
 *   <li>{@link #prune} keeps the newest {@link BackupSettings#keepLast()}, everything younger than
 *       {@link BackupSettings#keepDays()} and always the newest verified backup.
 * </ul>
 *
 * <p>The client tools are those of the server's major version ({@link PgTools}); the password
 * reaches them through a temporary password file, never the command line. Metrics: {@code
 * ballast.ops.backup.logical.last-success} and {@code .last-verified} (UNIX seconds, 0 for never),
 * {@code .size} (bytes of the newest), {@code .duration} and {@code .verify-duration} (timers),
 * {@code .failures} (meter). {@link #check()} is degraded when the newest verified backup is older
 * than {@link BackupSettings#maxAge()}.
 *
 * <p>Thread-safe; one backup or verification at a time per instance (the job runner makes it one
 * per cluster of instances).
 */
public final class Backups {
  private static final Logger LOG = LoggerFactory.getLogger(Backups.class);
  private static final String KIND = "logical";
  private static final String DUMP = ".dump";
  private static final String MANIFEST = ".manifest.json";
  private static final String PARTIAL = ".partial";
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC);
  private static final Pattern UNSAFE = Pattern.compile("[^A-Za-z0-9_.-]");
  private static final Pattern DATABASE = Pattern.compile("[A-Za-z_][A-Za-z0-9_$-]{0,62}");
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .enable(SerializationFeature.INDENT_OUTPUT);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final PgConnection target;
  private final BackupSettings settings;
  private final Optional<BackupUpload> upload;
  private final Clock clock;
  private final String searchPath;
  private final Instant created;
  private final AtomicLong lastSuccess = new AtomicLong();
  private final AtomicLong lastVerified = new AtomicLong();
  private final AtomicLong lastSize = new AtomicLong();
  private final Timer duration;
  private final Timer verifyDuration;
  private final Meter failures;

  /** For Guice: the pool's database (or {@link BackupSettings#databaseUrl()}). */
  @Inject
  public Backups(
      PoolSettings pool,
      BackupSettings settings,
      MetricRegistry metrics,
      Optional<BackupUpload> upload) {
    this(
        target(pool, settings),
        settings,
        metrics,
        upload,
        Clock.systemUTC(),
        System.getenv("PATH"));
  }

  Backups(
      PgConnection target,
      BackupSettings settings,
      MetricRegistry metrics,
      Optional<BackupUpload> upload,
      Clock clock,
      String searchPath) {
    this.target = Objects.requireNonNull(target, "target");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.upload = upload.or(() -> settings.uploadDirectory().map(LocalDirectoryUpload::new));
    this.clock = Objects.requireNonNull(clock, "clock");
    this.searchPath = searchPath;
    this.created = clock.instant();
    var prefix = MetricRegistry.name("ballast", "ops", "backup", KIND);
    metrics.gauge(MetricRegistry.name(prefix, "last-success"), () -> lastSuccess::get);
    metrics.gauge(MetricRegistry.name(prefix, "last-verified"), () -> lastVerified::get);
    metrics.gauge(MetricRegistry.name(prefix, "size"), () -> lastSize::get);
    this.duration = metrics.timer(MetricRegistry.name(prefix, "duration"));
    this.verifyDuration = metrics.timer(MetricRegistry.name(prefix, "verify-duration"));
    this.failures = metrics.meter(MetricRegistry.name(prefix, "failures"));
    if (settings.directory().isPresent() && Files.isDirectory(settings.directory().get())) {
      try {
        remember(list());
      } catch (RuntimeException e) {
        LOG.warn(
            "Could not read the backups in {}: {}", settings.directory().get(), e.getMessage());
      }
    }
  }

  /**
   * The connection a backup uses: {@link BackupSettings#databaseUrl()} when set, else the pool's.
   * Behind PgBouncer in transaction mode a dump's snapshot cannot be shared, so that needs the
   * direct URL.
   */
  static PgConnection target(PoolSettings pool, BackupSettings settings) {
    if (settings.databaseUrl().isPresent()) {
      return PgConnection.of(PoolSettings.builder().url(settings.databaseUrl().get()).build());
    }
    if (pool.pgbouncer()) {
      throw new BackupException(
          "DATABASE_URL goes through PgBouncer (BALLAST_PGBOUNCER=true), where a dump's exported"
              + " snapshot cannot be shared: set BALLAST_BACKUP_DATABASE_URL to the server itself");
    }
    return PgConnection.of(pool);
  }

  /** The settings. */
  public BackupSettings settings() {
    return settings;
  }

  // ---------------------------------------------------------------------------------- backup

  /**
   * Dumps the database into the backup directory; returns the new backup once its manifest is in
   * place.
   *
   * @throws BackupException when the tools are missing or of another major version, the dump fails,
   *     or the directory cannot be written; nothing that looks like a backup is left then
   */
  public synchronized Backup backup(Progress progress) {
    var dir = directory();
    var context = duration.time();
    Path partialDump = null;
    Path partialManifest = null;
    try {
      Files.createDirectories(dir);
      try (var c = target.open()) {
        var serverVersion = serverVersion(c);
        var tools = PgTools.find(settings.pgBin(), majorOf(c), searchPath);
        c.setAutoCommit(false);
        try (var s = c.createStatement()) {
          s.execute("set transaction isolation level repeatable read, read only");
        }
        var snapshot = single(c, "select pg_export_snapshot()");
        var started = clock.instant();
        var name = UNSAFE.matcher(target.database()).replaceAll("_") + "-" + STAMP.format(started);
        partialDump = dir.resolve("." + name + DUMP + PARTIAL);
        partialManifest = dir.resolve("." + name + MANIFEST + PARTIAL);
        progress.step("pg_dump of " + target.database() + " started", 0, -1);
        var dumpArgs =
            List.of(
                "--format=custom",
                "--no-password",
                "--snapshot=" + snapshot,
                "--file=" + partialDump);
        // the dump runs while this transaction counts the rows in the same snapshot
        var dumpThread = new DumpThread(tools, dumpArgs);
        dumpThread.start();
        Map<String, Long> counts;
        try {
          counts = countRows(c, progress);
        } finally {
          dumpThread.join();
        }
        dumpThread.rethrow();
        c.commit();
        fsync(partialDump);
        var size = Files.size(partialDump);
        var sha = sha256(partialDump);
        var finished = clock.instant();
        var manifest =
            new BackupManifest(
                BackupManifest.FORMAT,
                KIND,
                name + DUMP,
                target.database(),
                serverVersion,
                tools.version(),
                started,
                finished,
                Duration.between(started, finished).toMillis(),
                size,
                sha,
                new TreeMap<>(counts),
                null);
        writeJson(partialManifest, manifest);
        var dump = dir.resolve(name + DUMP);
        var manifestFile = dir.resolve(name + MANIFEST);
        move(partialDump, dump);
        move(partialManifest, manifestFile);
        fsync(dir);
        context.stop();
        var backup = new Backup(dump, manifestFile, manifest);
        lastSuccess.set(finished.getEpochSecond());
        lastSize.set(size);
        LOG.info(
            "Backup {} written: {} bytes, {} tables, sha256 {}", dump, size, counts.size(), sha);
        return backup;
      }
    } catch (SQLException e) {
      failures.mark();
      throw new BackupException("Backup of " + target + " failed: " + e.getMessage(), e);
    } catch (IOException e) {
      failures.mark();
      throw new BackupException("Backup into " + dir + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failures.mark();
      throw new BackupException("Backup interrupted", e);
    } catch (RuntimeException e) {
      failures.mark();
      throw e;
    } finally {
      deleteQuietly(partialDump);
      deleteQuietly(partialManifest);
    }
  }

  /** Runs pg_dump beside the counting transaction. */
  private final class DumpThread extends Thread {
    private final PgTools tools;
    private final List<String> args;
    private volatile Exception failure;

    DumpThread(PgTools tools, List<String> args) {
      super("ballast-pg_dump");
      setDaemon(true);
      this.tools = tools;
      this.args = args;
    }

    @Override
    public void run() {
      try {
        tools.run("pg_dump", args, target, settings.timeout());
      } catch (IOException | InterruptedException | RuntimeException e) {
        failure = e;
      }
    }

    void rethrow() throws IOException {
      var e = failure;
      if (e instanceof BackupException b) {
        throw new BackupException("pg_dump of " + target + ": " + b.getMessage(), b);
      }
      if (e instanceof IOException io) {
        throw io;
      }
      if (e != null) {
        throw new BackupException("pg_dump of " + target + ": " + e.getMessage(), e);
      }
    }
  }

  private Map<String, Long> countRows(Connection c, Progress progress) throws SQLException {
    var tables = tables(c);
    var counts = new LinkedHashMap<String, Long>();
    for (var table : tables.entrySet()) {
      counts.put(table.getKey(), count(c, table.getValue()));
      progress.step("tables counted", counts.size(), tables.size());
    }
    return counts;
  }

  /**
   * The user tables whose data pg_dump dumps (ordinary tables and partitions, no extension's):
   * their {@code schema.table} name and its quoted SQL form.
   */
  private static Map<String, String> tables(Connection c) throws SQLException {
    var tables = new LinkedHashMap<String, String>();
    try (var s = c.createStatement();
        var rs =
            s.executeQuery(
                "select n.nspname, c.relname from pg_class c"
                    + " join pg_namespace n on n.oid = c.relnamespace"
                    + " where c.relkind = 'r'"
                    + " and n.nspname not in ('pg_catalog', 'information_schema')"
                    + " and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%'"
                    + " and not exists (select 1 from pg_depend d where d.classid ="
                    + " 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')"
                    + " order by 1, 2")) {
      while (rs.next()) {
        tables.put(
            rs.getString(1) + "." + rs.getString(2),
            quotedName(rs.getString(1)) + "." + quotedName(rs.getString(2)));
      }
    }
    return tables;
  }

  private static long count(Connection c, String quotedTable) throws SQLException {
    try (var s = c.createStatement();
        var rs = s.executeQuery("select count(*) from " + quotedTable)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  // ---------------------------------------------------------------------------------- verify

  /** {@link #verify(Path, Progress)} of the newest backup. */
  public Backup verifyLatest(Progress progress) {
    var latest = list();
    if (latest.isEmpty()) {
      throw new BackupException("No backup in " + directory() + " to verify");
    }
    return verify(latest.get(0).dump(), progress);
  }

  /**
   * Restores {@code file} (a dump or its manifest) into a scratch database and checks it; records
   * the outcome in the manifest and returns the backup with it. A failed check is an outcome, not
   * an exception: see {@link BackupManifest#verified()}.
   *
   * @throws BackupException when there is no manifest or the scratch database cannot be made
   */
  public synchronized Backup verify(Path file, Progress progress) {
    var backup = read(file);
    var context = verifyDuration.time();
    var started = clock.instant();
    String detail;
    boolean ok;
    try {
      detail = check(backup, progress);
      ok = true;
    } catch (BackupException e) {
      detail = e.getMessage();
      ok = false;
    }
    context.stop();
    var finished = clock.instant();
    var verified =
        backup
            .manifest()
            .withVerification(
                new BackupManifest.Verification(
                    finished, ok, detail, Duration.between(started, finished).toMillis()));
    try {
      var partial =
          backup.manifestFile().resolveSibling("." + backup.manifestFile().getFileName() + PARTIAL);
      writeJson(partial, verified);
      move(partial, backup.manifestFile());
    } catch (IOException e) {
      throw new BackupException(
          "Could not record the verification in " + backup.manifestFile() + ": " + e.getMessage(),
          e);
    }
    if (ok) {
      lastVerified.accumulateAndGet(backup.manifest().finishedAt().getEpochSecond(), Math::max);
      LOG.info("Backup {} verified: {}", backup.dump(), detail);
    } else {
      failures.mark();
      LOG.warn("Backup {} failed verification: {}", backup.dump(), detail);
    }
    return new Backup(backup.dump(), backup.manifestFile(), verified);
  }

  private String check(Backup backup, Progress progress) {
    var manifest = backup.manifest();
    if (!Files.isRegularFile(backup.dump())) {
      throw new BackupException("the dump " + backup.dump() + " is missing");
    }
    try {
      var size = Files.size(backup.dump());
      if (size != manifest.sizeBytes()) {
        throw new BackupException(
            "size mismatch: the dump has "
                + size
                + " bytes, the manifest says "
                + manifest.sizeBytes());
      }
      var sha = sha256(backup.dump());
      if (!sha.equals(manifest.sha256())) {
        throw new BackupException(
            "checksum mismatch: the dump's SHA-256 is "
                + sha
                + ", the manifest says "
                + manifest.sha256());
      }
    } catch (IOException e) {
      throw new BackupException("could not read " + backup.dump() + ": " + e.getMessage(), e);
    }
    progress.step("checksum verified", 1, 1);
    var scratch = "ballast_verify_" + HexFormat.of().formatHex(randomBytes());
    try (var admin = target.open()) {
      var tools = PgTools.find(settings.pgBin(), majorOf(admin), searchPath);
      execute(admin, "create database " + quotedName(scratch));
      try {
        progress.step("restoring into scratch database " + scratch, 0, -1);
        tools.run(
            "pg_restore",
            List.of(
                "--exit-on-error",
                "--no-owner",
                "--no-privileges",
                "--no-password",
                "--dbname=" + scratch,
                backup.dump().toString()),
            target.withDatabase(scratch),
            settings.timeout());
        try (var restored = target.withDatabase(scratch).open()) {
          return compare(restored, manifest, progress);
        }
      } finally {
        execute(admin, "drop database if exists " + quotedName(scratch) + " with (force)");
      }
    } catch (SQLException e) {
      throw new BackupException("restore test failed: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new BackupException("restore test failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BackupException("restore test interrupted", e);
    }
  }

  private static byte[] randomBytes() {
    var bytes = new byte[6];
    RANDOM.nextBytes(bytes);
    return bytes;
  }

  /** Row counts against the manifest, every table readable, no sequence behind its column. */
  private static String compare(Connection restored, BackupManifest manifest, Progress progress)
      throws SQLException {
    var problems = new ArrayList<String>();
    var restoredTables = tables(restored);
    var done = 0;
    for (var e : manifest.tables().entrySet()) {
      if (!restoredTables.containsKey(e.getKey())) {
        problems.add(e.getKey() + " is missing");
        continue;
      }
      var rows = count(restored, restoredTables.get(e.getKey()));
      if (rows != e.getValue()) {
        problems.add(e.getKey() + " has " + rows + " rows, the manifest says " + e.getValue());
      }
      progress.step("tables compared", ++done, manifest.tables().size());
    }
    var sequences = 0;
    try (var s = restored.createStatement();
        var rs =
            s.executeQuery(
                "select sn.nspname, sq.relname, tn.nspname, t.relname, a.attname, ps.last_value"
                    + " from pg_depend d"
                    + " join pg_class sq on sq.oid = d.objid and sq.relkind = 'S'"
                    + " join pg_namespace sn on sn.oid = sq.relnamespace"
                    + " join pg_class t on t.oid = d.refobjid"
                    + " join pg_namespace tn on tn.oid = t.relnamespace"
                    + " join pg_attribute a on a.attrelid = t.oid and a.attnum = d.refobjsubid"
                    + " join pg_sequences ps on ps.schemaname = sn.nspname"
                    + " and ps.sequencename = sq.relname"
                    + " where d.classid = 'pg_class'::regclass and d.refclassid ="
                    + " 'pg_class'::regclass and d.deptype in ('a', 'i') and ps.increment_by > 0"
                    + " and a.atttypid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)")) {
      var owned = new ArrayList<String[]>();
      while (rs.next()) {
        owned.add(
            new String[] {
              rs.getString(1) + "." + rs.getString(2),
              rs.getString(3) + "." + rs.getString(4),
              rs.getString(5),
              rs.getString(6),
              quotedName(rs.getString(3)) + "." + quotedName(rs.getString(4))
            });
      }
      for (var o : owned) {
        sequences++;
        try (var m = restored.createStatement();
            var max = m.executeQuery("select max(" + quotedName(o[2]) + ") from " + o[4])) {
          max.next();
          var highest = max.getObject(1) == null ? null : max.getLong(1);
          var last = o[3] == null ? null : Long.parseLong(o[3]);
          if (highest != null && (last == null || last < highest)) {
            problems.add(
                "sequence "
                    + o[0]
                    + " is behind "
                    + o[1]
                    + "."
                    + o[2]
                    + ": its last value is "
                    + (last == null ? "unset" : last)
                    + ", the column's maximum "
                    + highest);
          }
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new BackupException("restored, but " + String.join("; ", problems));
    }
    return "restored into a scratch database: "
        + manifest.tables().size()
        + " tables with the manifest's row counts, "
        + sequences
        + " sequences not behind their columns";
  }

  // --------------------------------------------------------------------------------- restore

  /**
   * Restores {@code file} into {@code database} (created when missing), after checking its SHA-256.
   * Refuses a database that has tables unless {@code replace}, which drops the dump's objects first
   * ({@code pg_restore --clean --if-exists}).
   *
   * @throws BackupException when the checksum does not match, the database has tables and {@code
   *     replace} is false, or pg_restore fails
   */
  public synchronized void restore(Path file, String database, boolean replace, Progress progress) {
    if (!DATABASE.matcher(database).matches()) {
      throw new IllegalArgumentException(
          "database must be a name of letters, digits, _ $ - (at most 63), but was '"
              + database
              + "'");
    }
    var backup = read(file);
    try {
      var sha = sha256(backup.dump());
      if (!sha.equals(backup.manifest().sha256())) {
        throw new BackupException(
            "Refusing to restore "
                + backup.dump()
                + ": its SHA-256 is "
                + sha
                + ", the manifest says "
                + backup.manifest().sha256());
      }
      try (var admin = target.open()) {
        var tools = PgTools.find(settings.pgBin(), majorOf(admin), searchPath);
        if (!exists(admin, database)) {
          execute(admin, "create database " + quotedName(database));
        } else {
          try (var existing = target.withDatabase(database).open()) {
            var tables = tables(existing).size();
            if (tables > 0 && !replace) {
              throw new BackupException(
                  "Database "
                      + database
                      + " already has "
                      + tables
                      + " tables: restore into an empty database, or pass --replace to drop and"
                      + " replace what the backup holds");
            }
          }
        }
        var args = new ArrayList<String>(List.of("--exit-on-error", "--no-password"));
        if (replace) {
          args.add("--clean");
          args.add("--if-exists");
        }
        args.add("--dbname=" + database);
        args.add(backup.dump().toString());
        progress.step("restoring " + backup.dump().getFileName() + " into " + database, 0, -1);
        tools.run("pg_restore", args, target.withDatabase(database), settings.timeout());
        LOG.info("Backup {} restored into {}", backup.dump(), database);
      }
    } catch (SQLException e) {
      throw new BackupException("Restore into " + database + " failed: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new BackupException("Restore into " + database + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BackupException("Restore interrupted", e);
    }
  }

  // ------------------------------------------------------------------------- list and prune

  /** The complete backups in the directory (those with a manifest), newest first. */
  public List<Backup> list() {
    var dir = directory();
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    var backups = new ArrayList<Backup>();
    try (Stream<Path> files = Files.list(dir)) {
      for (var f : (Iterable<Path>) files::iterator) {
        var name = f.getFileName().toString();
        if (name.endsWith(MANIFEST) && !name.startsWith(".")) {
          try {
            backups.add(read(f));
          } catch (BackupException e) {
            LOG.warn("Skipping {}: {}", f, e.getMessage());
          }
        }
      }
    } catch (IOException e) {
      throw new BackupException("Could not list " + dir + ": " + e.getMessage(), e);
    }
    backups.sort(
        Comparator.comparing((Backup b) -> b.manifest().finishedAt())
            .reversed()
            .thenComparing(b -> b.dump().getFileName().toString(), Comparator.reverseOrder()));
    return backups;
  }

  /**
   * Deletes the backups retention no longer keeps: all but the newest {@link
   * BackupSettings#keepLast()}, those younger than {@link BackupSettings#keepDays()} and the newest
   * verified one; also dumps without a manifest and temporary files older than the timeout (left by
   * a crash). Returns what was (or, with {@code dryRun}, would be) deleted.
   */
  public synchronized List<Path> prune(boolean dryRun) {
    var backups = list();
    var now = clock.instant();
    var cutoff = now.minus(Duration.ofDays(settings.keepDays()));
    var keep = new LinkedHashSet<Path>();
    for (var i = 0; i < backups.size(); i++) {
      var b = backups.get(i);
      if (i < settings.keepLast() || b.manifest().finishedAt().isAfter(cutoff)) {
        keep.add(b.dump());
      }
    }
    backups.stream()
        .filter(b -> b.manifest().verified())
        .findFirst()
        .ifPresent(b -> keep.add(b.dump()));
    var delete = new ArrayList<Path>();
    for (var b : backups) {
      if (!keep.contains(b.dump())) {
        delete.add(b.dump());
        delete.add(b.manifestFile());
      }
    }
    delete.addAll(leftovers(backups, now));
    if (!dryRun) {
      for (var p : delete) {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new BackupException("Could not delete " + p + ": " + e.getMessage(), e);
        }
      }
      if (!delete.isEmpty()) {
        LOG.info("Pruned {} backup files from {}", delete.size(), directory());
      }
    }
    return delete;
  }

  private List<Path> leftovers(List<Backup> backups, Instant now) {
    var dir = directory();
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    var known = new LinkedHashSet<Path>();
    backups.forEach(b -> known.add(b.dump()));
    var stale = now.minus(settings.timeout());
    var result = new ArrayList<Path>();
    try (Stream<Path> files = Files.list(dir)) {
      for (var f : (Iterable<Path>) files::iterator) {
        var name = f.getFileName().toString();
        var orphan = name.endsWith(DUMP) && !name.startsWith(".") && !known.contains(f);
        var partial = name.startsWith(".") && name.endsWith(PARTIAL);
        if ((orphan || partial) && Files.getLastModifiedTime(f).toInstant().isBefore(stale)) {
          result.add(f);
        }
      }
    } catch (IOException e) {
      throw new BackupException("Could not list " + dir + ": " + e.getMessage(), e);
    }
    return result;
  }

  // ----------------------------------------------------------------------- job, upload, check

  /**
   * The scheduled work: a backup, its restore test, the upload (when one is configured) and
   * pruning; returns a one-line summary.
   *
   * @throws BackupException when any step fails (the backup stays on disk when only the upload
   *     failed)
   */
  public String runScheduled(Progress progress) {
    var backup = backup(progress);
    var verified = verify(backup.dump(), progress);
    if (!verified.manifest().verified()) {
      throw new BackupException(
          "Backup "
              + backup.dump().getFileName()
              + " failed verification: "
              + verified.manifest().verification().detail());
    }
    var uploaded = "";
    if (upload.isPresent()) {
      try {
        upload.get().upload(verified.dump(), verified.manifestFile());
        uploaded = ", uploaded to " + upload.get();
      } catch (IOException e) {
        throw new BackupException(
            "Backup "
                + backup.dump().getFileName()
                + " written and verified, but the upload to "
                + upload.get()
                + " failed: "
                + e.getMessage(),
            e);
      }
    }
    var pruned = prune(false);
    return backup.dump().getFileName()
        + ": "
        + backup.manifest().sizeBytes()
        + " bytes, "
        + backup.manifest().tables().size()
        + " tables, verified"
        + uploaded
        + ", "
        + pruned.size()
        + " old files pruned";
  }

  /**
   * Healthy while the newest verified backup is younger than {@link BackupSettings#maxAge()};
   * degraded when it is older, or when there has been none for that long since this instance
   * started.
   */
  public ProbeResult check() {
    var now = clock.instant();
    var newest = list().stream().filter(b -> b.manifest().verified()).findFirst();
    var details = new LinkedHashMap<String, Object>();
    details.put("directory", directory().toString());
    details.put("max_age", settings.maxAge().toString());
    if (newest.isEmpty()) {
      var waited = Duration.between(created, now);
      if (waited.compareTo(settings.maxAge()) > 0) {
        return ProbeResult.degraded("no verified backup in " + settings.maxAge(), details);
      }
      return ProbeResult.healthy("no verified backup yet", details);
    }
    var b = newest.get();
    var age = Duration.between(b.manifest().finishedAt(), now);
    details.put("newest_verified", b.dump().getFileName().toString());
    details.put("age_seconds", age.toSeconds());
    if (age.compareTo(settings.maxAge()) > 0) {
      return ProbeResult.degraded(
          "the newest verified backup is "
              + age.toHours()
              + " h old, more than "
              + settings.maxAge().toHours()
              + " h",
          details);
    }
    return ProbeResult.healthy("newest verified backup " + age.toMinutes() + " min old", details);
  }

  // --------------------------------------------------------------------------------- helpers

  private Path directory() {
    return settings
        .directory()
        .orElseThrow(() -> new BackupException("No backup directory: set BALLAST_BACKUP_DIR"));
  }

  private void remember(List<Backup> backups) {
    if (!backups.isEmpty()) {
      lastSuccess.set(backups.get(0).manifest().finishedAt().getEpochSecond());
      lastSize.set(backups.get(0).manifest().sizeBytes());
    }
    backups.stream()
        .filter(b -> b.manifest().verified())
        .findFirst()
        .ifPresent(b -> lastVerified.set(b.manifest().finishedAt().getEpochSecond()));
  }

  /** The backup {@code file} names: a dump or its manifest. */
  Backup read(Path file) {
    var name = file.getFileName().toString();
    Path manifestFile;
    Path dump;
    if (name.endsWith(MANIFEST)) {
      manifestFile = file;
      dump = file.resolveSibling(name.substring(0, name.length() - MANIFEST.length()) + DUMP);
    } else if (name.endsWith(DUMP)) {
      dump = file;
      manifestFile =
          file.resolveSibling(name.substring(0, name.length() - DUMP.length()) + MANIFEST);
    } else {
      throw new BackupException(
          file + " is neither a " + DUMP + " file nor a " + MANIFEST + " file");
    }
    if (!Files.isRegularFile(manifestFile)) {
      throw new BackupException(
          "No manifest "
              + manifestFile.getFileName()
              + " beside "
              + dump.getFileName()
              + ": it is not a complete backup");
    }
    try (InputStream in = Files.newInputStream(manifestFile)) {
      var manifest = JSON.readValue(in, BackupManifest.class);
      if (manifest.format() != BackupManifest.FORMAT) {
        throw new BackupException(
            manifestFile
                + " has manifest format "
                + manifest.format()
                + ", this version reads "
                + BackupManifest.FORMAT);
      }
      return new Backup(dump, manifestFile, manifest);
    } catch (IOException e) {
      throw new BackupException("Could not read " + manifestFile + ": " + e.getMessage(), e);
    }
  }

  private static void writeJson(Path file, BackupManifest manifest) throws IOException {
    try (var channel =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      var bytes = java.nio.ByteBuffer.wrap(JSON.writeValueAsBytes(manifest));
      while (bytes.hasRemaining()) {
        channel.write(bytes);
      }
      channel.force(true);
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("the backup directory cannot rename atomically: " + e.getMessage(), e);
    }
  }

  static void fsync(Path path) throws IOException {
    try (var channel = FileChannel.open(path, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  static String sha256(Path file) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    try (InputStream in = Files.newInputStream(file)) {
      var buffer = new byte[1 << 16];
      int n;
      while ((n = in.read(buffer)) > 0) {
        digest.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  private static void deleteQuietly(Path p) {
    if (p != null) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        LOG.warn("Could not delete {}: {}", p, e.getMessage());
      }
    }
  }

  private static String serverVersion(Connection c) throws SQLException {
    return single(c, "show server_version");
  }

  private static int majorOf(Connection c) throws SQLException {
    return Integer.parseInt(single(c, "show server_version_num")) / 10_000;
  }

  private static boolean exists(Connection c, String database) throws SQLException {
    try (var s = c.prepareStatement("select 1 from pg_database where datname = ?")) {
      s.setString(1, database);
      try (var rs = s.executeQuery()) {
        return rs.next();
      }
    }
  }

  private static String single(Connection c, String sql) throws SQLException {
    try (var s = c.createStatement();
        var rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static void execute(Connection c, String sql) throws SQLException {
    try (var s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static String quotedName(String name) {
    return "\"" + name.replace("\"", "\"\"") + "\"";
  }

  /**
   * A complete backup: the dump, its manifest file and what the manifest says.
   *
   * @param dump the {@code .dump} file
   * @param manifestFile the {@code .manifest.json} file beside it
   * @param manifest its content
   */
  public record Backup(Path dump, Path manifestFile, BackupManifest manifest) {}

  /** Where these backups stand: the newest, the newest verified, its size, failures so far. */
  public BackupFigures figures() {
    return new BackupFigures(
        KIND, lastSuccess.get(), lastVerified.get(), lastSize.get(), failures.getCount());
  }
}
