package io.ballast.migrations;

import io.ballast.core.Managed;
import io.ballast.core.MigrationSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.exception.FlywayValidateException;
import org.flywaydb.core.internal.exception.FlywayMigrateException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs every migration set with Flyway at start-up (phase {@code PHASE_MIGRATIONS}), in set order.
 *
 * <p>Flyway is configured for PostgreSQL's {@code CREATE INDEX CONCURRENTLY}: its lock is a
 * session-level advisory lock ({@code flyway.postgresql.transactional.lock=false}). With the
 * default transactional lock, Flyway holds a transaction open on a second connection for the whole
 * run, and a concurrent index build waits for every open transaction to finish, so it waits for
 * Flyway forever.
 */
final class FlywayMigrations implements Managed, Migrations {
  private volatile double lastInvalidIndexCount = Double.NaN;

  private static final Logger LOG = LoggerFactory.getLogger(FlywayMigrations.class);
  private static final String INVALID_INDEXES =
      """
      select n.nspname, t.relname, i.relname, pg_get_indexdef(x.indexrelid)
        from pg_index x
        join pg_class i on i.oid = x.indexrelid
        join pg_class t on t.oid = x.indrelid
        join pg_namespace n on n.oid = i.relnamespace
       where not x.indisvalid
         and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%'
         and not exists (select 1 from pg_stat_progress_create_index p where p.index_relid = x.indexrelid)
       order by 1, 2, 3""";

  /** Ballast's migration lock: "ballast" in ASCII, distinct from Flyway's per-table keys. */
  static final long LOCK_KEY = 0x62616c6c617374L;

  private static final Duration LOCK_POLL = Duration.ofMillis(100);

  private final DataSource dataSource;
  private final DataSource pooled;
  private final boolean direct;
  private final LockTimeoutDataSource flywaySource;
  private final MigrationSettings settings;
  private final List<MigrationSet> sets;
  private final Map<String, Flyway> flyways = new LinkedHashMap<>();

  FlywayMigrations(
      DataSource dataSource, MigrationSettings settings, Set<MigrationSet> contributed) {
    this(dataSource, java.util.Optional.empty(), settings, contributed);
  }

  FlywayMigrations(
      DataSource pooled,
      java.util.Optional<DataSource> direct,
      MigrationSettings settings,
      Set<MigrationSet> contributed) {
    this.pooled = pooled;
    this.direct = direct.isPresent();
    var dataSource = direct.orElse(pooled);
    this.dataSource = dataSource;
    this.flywaySource = new LockTimeoutDataSource(dataSource, settings.statementLockTimeout());
    this.settings = settings;
    var all = new ArrayList<>(contributed);
    all.add(settings.applicationSet());
    all.sort(Comparator.comparingInt(MigrationSet::order).thenComparing(MigrationSet::name));
    var names = new HashSet<String>();
    var tables = new HashSet<String>();
    for (var set : all) {
      if (!names.add(set.name())) {
        throw new IllegalArgumentException(
            "A migration set named " + set.name() + " already exists");
      }
      if (!tables.add(set.historyTable())) {
        throw new IllegalArgumentException(
            "Migration set "
                + set.name()
                + " uses history table "
                + set.historyTable()
                + ", which another set already uses; each set needs its own");
      }
    }
    this.sets = List.copyOf(all);
  }

  @Override
  public String name() {
    return "migrations";
  }

  @Override
  public int phase() {
    return PHASE_MIGRATIONS;
  }

  List<MigrationSet> sets() {
    return sets;
  }

  @Override
  public void start() throws SQLException, InterruptedException {
    try {
      startSets();
    } catch (SQLException | InterruptedException | RuntimeException e) {
      var left = flywaySource.closeLeftovers();
      if (left > 0) {
        LOG.debug("Gave back {} connection(s) Flyway left open when it failed", left);
      }
      throw e;
    }
  }

  /**
   * Refuses to migrate through a transaction-pooling PgBouncer: the migration locks (Ballast's and
   * Flyway's) are session-level advisory locks, and there the unlock may reach another server
   * session than the lock, leaving it held for whoever gets that session next.
   */
  private void requireSessions() throws SQLException {
    if (direct
        || settings.mode() == MigrationMode.OFF
        || !pooled.isWrapperFor(io.ballast.core.TransactionPooling.class)
        || !pooled.unwrap(io.ballast.core.TransactionPooling.class).transactionPooling()) {
      return;
    }
    throw new MigrationException(
        "Migrations cannot run through PgBouncer in transaction mode (the pool runs in PgBouncer mode):"
            + " the migration locks are session-level advisory locks, which transaction pooling would leave"
            + " on a server session another client gets next. Set DATABASE_DIRECT_URL to the database"
            + " itself (not through PgBouncer) and migrations run there, or set BALLAST_MIGRATIONS_MODE=off"
            + " and run 'ballast migrate' against the database directly.");
  }

  private void startSets() throws SQLException, InterruptedException {
    requireSessions();
    for (var set : sets) {
      flyways.put(set.name(), flyway(set));
    }
    var waitUntil = System.nanoTime() + settings.lockTimeout().toNanos();
    switch (settings.mode()) {
      case MIGRATE ->
          withMigrationLock(
              waitUntil,
              c -> {
                for (var set : sets) {
                  migrate(set, c, waitUntil);
                }
              });
      case VALIDATE -> withMigrationLock(waitUntil, c -> sets.forEach(this::validate));
      case OFF -> LOG.info("Migrations are off: {} set(s) not checked at start", sets.size());
      default -> throw new AssertionError(settings.mode());
    }
    if (settings.mode() != MigrationMode.OFF) {
      var invalid = invalidIndexes();
      if (!invalid.isEmpty()) {
        LOG.warn(
            "INVALID indexes (a failed CREATE INDEX CONCURRENTLY leaves them; queries never use them and"
                + " IF NOT EXISTS will not replace them): {}. Fix the cause, then call Migrations.repairInvalidIndexes()"
                + " to drop and rebuild them concurrently.",
            invalid.stream().map(InvalidIndex::qualifiedName).collect(Collectors.joining(", ")));
      }
    }
  }

  @Override
  public void stop(Duration grace) {
    flyways.clear();
  }

  /**
   * Runs {@code work} while holding Ballast's migration lock, a session-level advisory lock on a
   * connection of its own, so that instances starting together run their sets one after another.
   * (Flyway locks each history table, but decides whether to baseline a new one before taking that
   * lock, so two instances could both try to baseline it.)
   *
   * <p>The lock is polled with {@code pg_try_advisory_lock} rather than awaited with {@code
   * pg_advisory_lock}: a session waiting inside {@code pg_advisory_lock} is an open transaction,
   * and a {@code CREATE INDEX CONCURRENTLY} run by the lock's holder would wait for it to finish: a
   * deadlock.
   */
  /** Work done under the migration lock, given the connection that holds it (idle meanwhile). */
  private interface LockedWork {
    void run(java.sql.Connection lockConnection) throws SQLException, InterruptedException;
  }

  private void withMigrationLock(long deadline, LockedWork work)
      throws SQLException, InterruptedException {
    try (var c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      var waited = false;
      while (!tryLock(c)) {
        if (System.nanoTime() > deadline) {
          throw new MigrationException(
              "Waited "
                  + settings.lockTimeout().toSeconds()
                  + " s for the migration lock"
                  + " (advisory lock "
                  + LOCK_KEY
                  + ") that another instance holds; is its migration stuck? Look for it"
                  + " in pg_locks and pg_stat_activity.");
        }
        if (!waited) {
          LOG.info("Another instance is migrating; waiting for the migration lock");
          waited = true;
        }
        Thread.sleep(LOCK_POLL.toMillis());
      }
      try {
        work.run(c);
      } finally {
        try (var s = c.prepareStatement("select pg_advisory_unlock(?)")) {
          s.setLong(1, LOCK_KEY);
          s.execute();
        }
      }
    }
  }

  /**
   * A {@code filesystem:} location that is not a directory fails here, naming it, before Flyway
   * opens a connection (its own check for a missing location leaves one checked out of the pool).
   */
  private static void requireFilesystemLocations(MigrationSet set) {
    for (var location : set.locations()) {
      if (location.startsWith("filesystem:")) {
        var dir = java.nio.file.Path.of(location.substring("filesystem:".length()));
        if (!java.nio.file.Files.isDirectory(dir)) {
          throw new MigrationException(
              "Migration set '"
                  + set.name()
                  + "': location "
                  + location
                  + " is not a directory"
                  + (set.name().equals("app") ? " (BALLAST_MIGRATIONS_LOCATIONS)" : ""));
        }
      }
    }
  }

  private static boolean tryLock(java.sql.Connection c) throws SQLException {
    try (var s = c.prepareStatement("select pg_try_advisory_lock(?)")) {
      s.setLong(1, LOCK_KEY);
      try (var rs = s.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  private Flyway flyway(MigrationSet set) {
    requireFilesystemLocations(set);
    return Flyway.configure(getClass().getClassLoader())
        .dataSource(flywaySource)
        .locations(set.locations().toArray(String[]::new))
        .table(set.historyTable())
        .failOnMissingLocations(true)
        .validateMigrationNaming(true)
        .cleanDisabled(!settings.allowClean())
        // several sets share a schema: a set whose history table is new starts from an empty
        // baseline (0)
        .baselineOnMigrate(true)
        .baselineVersion("0")
        .configuration(Map.of("flyway.postgresql.transactional.lock", "false"))
        .load();
  }

  private Flyway requireStarted(String set) {
    var flyway = flyways.get(set);
    if (flyway == null) {
      throw new IllegalStateException(
          "Migrations are not started: start the Ballast lifecycle first");
    }
    return flyway;
  }

  /**
   * Migrates the set; a migration whose statement waited longer than the statement lock timeout for
   * a lock (a table the application holds in a long transaction) is rolled back, logged with the
   * lock's holder, cleaned up (a failed history row, an INVALID index a concurrent build left) and
   * tried again after a back-off, until the start-up's lock budget runs out.
   */
  private void migrate(MigrationSet set, java.sql.Connection lockConnection, long waitUntil)
      throws SQLException, InterruptedException {
    var started = System.nanoTime();
    var backoff = LOCK_RETRY_FIRST;
    var invalidBefore =
        invalidIndexes(lockConnection).stream()
            .map(InvalidIndex::qualifiedName)
            .collect(Collectors.toSet());
    for (int attempt = 0; ; attempt++) {
      var watch = LockWatch.start(lockConnection);
      try {
        if (attempt > 0) {
          cleanUpAfterLockTimeout(set, lockConnection, invalidBefore);
        }
        migrate(set);
        return;
      } catch (MigrationException | SQLException e) {
        watch.close();
        if (!LockWatch.timedOut(e)) {
          throw e instanceof SQLException sql
              ? new MigrationException(
                  "Migration set '"
                      + set.name()
                      + "' could not clean up after a lock timeout: "
                      + sql.getMessage(),
                  sql)
              : (MigrationException) e;
        }
        var holders = watch.lastSeen();
        var waited = Duration.ofNanos(System.nanoTime() - started);
        if (System.nanoTime() + backoff.toNanos() > waitUntil) {
          throw new MigrationException(
              "Migration set '"
                  + set.name()
                  + "' could not take the locks it needs: "
                  + failedMigration(e)
                  + " waited "
                  + waited.toSeconds()
                  + " s in all for "
                  + holders
                  + ", and start-up "
                  + "waits at most "
                  + settings.lockTimeout().toSeconds()
                  + " s ("
                  + MigrationSettings.LOCK_TIMEOUT_VARIABLE
                  + "). End that transaction (or cancel it: select pg_cancel_backend(<pid>)) and start again.",
              e);
        }
        LOG.warn(
            "Migration set '{}': {} is waiting for {}; {} s so far, at most {} s; trying again in {} ms",
            set.name(),
            failedMigration(e),
            holders,
            waited.toSeconds(),
            settings.lockTimeout().toSeconds(),
            backoff.toMillis());
        Thread.sleep(backoff.toMillis());
        backoff =
            backoff.multipliedBy(2).compareTo(LOCK_RETRY_MAX) > 0
                ? LOCK_RETRY_MAX
                : backoff.multipliedBy(2);
      } finally {
        watch.close();
      }
    }
  }

  private static final Duration LOCK_RETRY_FIRST = Duration.ofMillis(250);
  private static final Duration LOCK_RETRY_MAX = Duration.ofSeconds(5);

  private static String failedMigration(Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof FlywayMigrateException m && m.getMigration() != null) {
        return label(m.getMigration());
      }
    }
    return "a migration";
  }

  /**
   * Before another attempt after a lock timeout: a migration run outside a transaction (a
   * concurrent index build) may have left a failed row in the history table and an INVALID index;
   * both would spoil the next attempt (Flyway refuses a failed history, and IF NOT EXISTS would
   * keep the invalid index). The drop waits for locks too, under the same statement lock timeout.
   */
  private void cleanUpAfterLockTimeout(
      MigrationSet set, java.sql.Connection c, Set<String> invalidBefore) throws SQLException {
    var leftovers =
        invalidIndexes(c).stream().filter(i -> !invalidBefore.contains(i.qualifiedName())).toList();
    try (var s = c.createStatement()) {
      var history = quote(flyways.get(set.name()).getConfiguration().getTable());
      try (var rs =
          s.executeQuery("select to_regclass('" + history.replace("'", "''") + "') is not null")) {
        rs.next();
        if (rs.getBoolean(1)) {
          s.execute("delete from " + history + " where not success");
        }
      }
      if (leftovers.isEmpty()) {
        return;
      }
      s.execute("set lock_timeout = '" + settings.statementLockTimeout().toMillis() + "ms'");
      try {
        for (var index : leftovers) {
          s.execute(
              "DROP INDEX CONCURRENTLY IF EXISTS "
                  + quote(index.schema())
                  + "."
                  + quote(index.name()));
          LOG.info(
              "Migration set '{}': dropped the INVALID index {} an attempt left behind",
              set.name(),
              index.qualifiedName());
        }
      } finally {
        s.execute("reset lock_timeout");
      }
    }
  }

  private void migrate(MigrationSet set) {
    var flyway = flyways.get(set.name());
    try {
      var result = flyway.migrate();
      if (result.migrationsExecuted > 0) {
        LOG.info(
            "Migration set '{}': applied {} migration(s), now at version {}",
            set.name(),
            result.migrationsExecuted,
            result.targetSchemaVersion);
      } else {
        LOG.info("Migration set '{}': up to date", set.name());
      }
    } catch (FlywayMigrateException e) {
      var m = e.getMigration();
      var which = m == null ? "" : " " + label(m);
      throw new MigrationException(
          "Migration set '" + set.name() + "' failed at" + which + ": " + e.getMessage(), e);
    } catch (FlywayValidateException e) {
      throw new MigrationException(validationMessage(set, flyway, e.getMessage()), e);
    } catch (FlywayException e) {
      throw new MigrationException(
          "Migration set '" + set.name() + "' failed: " + e.getMessage(), e);
    }
  }

  private void validate(MigrationSet set) {
    var flyway = flyways.get(set.name());
    try {
      var pending = flyway.info().pending();
      if (pending.length > 0) {
        throw new MigrationException(
            "Migration set '"
                + set.name()
                + "' is behind the code: pending "
                + java.util.Arrays.stream(pending)
                    .map(FlywayMigrations::label)
                    .collect(Collectors.joining(", "))
                + ". Apply them (mode migrate, or the deploy's migration step) before starting in mode validate.");
      }
      var result = flyway.validateWithResult();
      if (!result.validationSuccessful) {
        throw new MigrationException(validationMessage(set, flyway, result.getAllErrorMessages()));
      }
      LOG.info("Migration set '{}': validated, up to date", set.name());
    } catch (FlywayException e) {
      throw new MigrationException(
          "Migration set '" + set.name() + "' could not be validated: " + e.getMessage(), e);
    }
  }

  /**
   * Lists each invalid migration with its version and file, from Flyway's structured validation
   * result.
   */
  private static String validationMessage(MigrationSet set, Flyway flyway, String fallback) {
    var details = new ArrayList<String>();
    try {
      for (var invalid : flyway.validateWithResult().invalidMigrations) {
        var version =
            invalid.version == null || invalid.version.isEmpty() ? "R" : "V" + invalid.version;
        details.add(version + " (" + invalid.filepath + "): " + invalid.errorDetails.errorMessage);
      }
    } catch (FlywayException ignored) {
      // fall back to Flyway's own message
    }
    return "Migration set '"
        + set.name()
        + "' is not valid: "
        + (details.isEmpty() ? fallback : String.join("; ", details));
  }

  private static String label(MigrationInfo m) {
    return (m.getVersion() == null ? "R" : "V" + m.getVersion()) + " (" + m.getScript() + ")";
  }

  @Override
  public List<MigrationStatus> status() {
    try {
      return statusOfEverySet();
    } catch (RuntimeException e) {
      flywaySource.closeLeftovers(); // the readiness probe calls this again and again
      throw e;
    }
  }

  private List<MigrationStatus> statusOfEverySet() {
    var result = new ArrayList<MigrationStatus>();
    for (var set : sets) {
      var info = requireStarted(set.name()).info();
      var applied = new ArrayList<MigrationStatus.Entry>();
      var pending = new ArrayList<MigrationStatus.Entry>();
      var failed = new ArrayList<MigrationStatus.Entry>();
      for (var m : info.all()) {
        if (m.getType() != null && m.getType().isBaseline()) {
          continue;
        }
        var entry =
            new MigrationStatus.Entry(
                m.getVersion() == null ? null : m.getVersion().getVersion(),
                m.getDescription(),
                m.getScript(),
                m.getState().getDisplayName(),
                m.getInstalledOn() == null ? null : m.getInstalledOn().toInstant());
        if (m.getState().isFailed()) {
          failed.add(entry);
        } else if (m.getState().isApplied()) {
          applied.add(entry);
        } else if (m.getState().isResolved()) {
          pending.add(entry);
        }
      }
      result.add(new MigrationStatus(set.name(), set.historyTable(), applied, pending, failed));
    }
    return result;
  }

  @Override
  public List<InvalidIndex> invalidIndexes() {
    try (var c = dataSource.getConnection()) {
      return invalidIndexes(c);
    } catch (SQLException e) {
      throw new MigrationException("Could not list invalid indexes: " + e.getMessage(), e);
    }
  }

  /**
   * How many INVALID indexes the last listing found (at start, by the DEEP check {@code indexes},
   * by a repair), or NaN before the first: exported as {@code ballast_migrations_invalid_indexes}.
   */
  double lastInvalidIndexCount() {
    return lastInvalidIndexCount;
  }

  private List<InvalidIndex> invalidIndexes(java.sql.Connection c) throws SQLException {
    var result = new ArrayList<InvalidIndex>();
    try (var s = c.createStatement();
        var rs = s.executeQuery(INVALID_INDEXES)) {
      while (rs.next()) {
        result.add(
            new InvalidIndex(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
      }
    }
    lastInvalidIndexCount = result.size();
    return result;
  }

  @Override
  public List<InvalidIndex> repairInvalidIndexes() {
    var repaired = new ArrayList<InvalidIndex>();
    for (var index : invalidIndexes()) {
      var create = concurrently(index.definition());
      try (var c = dataSource.getConnection();
          var s = c.createStatement()) {
        c.setAutoCommit(true); // CONCURRENTLY cannot run inside a transaction
        s.execute(
            "DROP INDEX CONCURRENTLY IF EXISTS "
                + quote(index.schema())
                + "."
                + quote(index.name()));
        s.execute(create);
        LOG.info("Rebuilt index {} concurrently", index.qualifiedName());
        repaired.add(index);
      } catch (SQLException e) {
        throw new MigrationException(
            "Could not rebuild index "
                + index.qualifiedName()
                + " ("
                + create
                + "): "
                + e.getMessage()
                + ". It is INVALID again; fix the cause (for a unique index, the duplicate rows) and"
                + " repair again.",
            e);
      }
    }
    return repaired;
  }

  /**
   * {@code CREATE [UNIQUE] INDEX name ON …} becomes {@code CREATE [UNIQUE] INDEX CONCURRENTLY name
   * ON …}.
   */
  static String concurrently(String definition) {
    return definition.replaceFirst("^CREATE (UNIQUE )?INDEX ", "CREATE $1INDEX CONCURRENTLY ");
  }

  private static String quote(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }

  @Override
  public void repairHistory() {
    for (var set : sets) {
      var result = requireStarted(set.name()).repair();
      LOG.info(
          "Migration set '{}': history repaired (removed {} failed, realigned {})",
          set.name(),
          result.migrationsRemoved.size(),
          result.migrationsAligned.size());
    }
  }

  @Override
  public void clean() {
    if (!settings.allowClean()) {
      throw new IllegalStateException(
          "clean is disabled: it drops every object in the schema. Allow it with"
              + " BALLAST_MIGRATIONS_ALLOW_CLEAN=true or MigrationSettings.builder(…).allowClean(true), outside"
              + " production only");
    }
    for (var set : sets) {
      requireStarted(set.name()).clean();
    }
  }
}
