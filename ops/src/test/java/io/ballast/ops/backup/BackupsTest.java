package io.ballast.ops.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import io.ballast.core.ProbeStatus;
import io.ballast.ops.Progress;
import io.ballast.testkit.Await;
import io.ballast.testkit.LogCapture;
import io.ballast.testkit.MachinePostgres;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Logical backups against a real PostgreSQL of the machine's client tools' major version, with a
 * role that must give its password (SCRAM): dumps, restore tests, restores and retention.
 */
class BackupsTest {
  /** Reserved characters of URLs, pgpass files and shells, to prove how the password travels. */
  static final String PASSWORD = "p@ss:w/rd\\ 'q\"$HOME;";

  static final AtomicInteger DATABASES = new AtomicInteger();
  static MachinePostgres pg;

  @TempDir Path dir;
  String database;
  MetricRegistry metrics;

  @BeforeAll
  static void startServer() throws SQLException {
    pg = MachinePostgres.builder().start();
    pg.execute(
        "postgres",
        "create role backup_owner login createdb password '" + PASSWORD.replace("'", "''") + "'");
  }

  @AfterAll
  static void stopServer() {
    if (pg != null) {
      pg.close();
    }
  }

  @BeforeEach
  void createDatabase() throws SQLException {
    database = "app_" + DATABASES.incrementAndGet();
    pg.execute("postgres", "create database " + database + " owner backup_owner");
    metrics = new MetricRegistry();
  }

  PgConnection target(String db) {
    return new PgConnection(pg.host(), pg.port(), db, "backup_owner", PASSWORD, Map.of());
  }

  BackupSettings.Builder settings() {
    return BackupSettings.builder().directory(dir.resolve("backups"));
  }

  Backups backups(BackupSettings settings, Clock clock) {
    return new Backups(
        target(database), settings, metrics, Optional.empty(), clock, System.getenv("PATH"));
  }

  Backups backups() {
    return backups(settings().build(), Clock.systemUTC());
  }

  /** Runs {@code statements} in the test database as its owner (the role the backups use). */
  void sql(String... statements) throws SQLException {
    try (var c = target(database).open();
        var s = c.createStatement()) {
      for (var sql : statements) {
        s.execute(sql);
      }
    }
  }

  long single(String db, String query) throws SQLException {
    try (var c = target(db).open();
        var s = c.createStatement();
        var rs = s.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  String text(String db, String query) throws SQLException {
    try (var c = target(db).open();
        var s = c.createStatement();
        var rs = s.executeQuery(query)) {
      rs.next();
      return rs.getString(1);
    }
  }

  void richSchema() throws SQLException {
    sql(
        "create schema billing",
        "create table public.customers (id bigserial primary key, name text not null, profile"
            + " jsonb)",
        "create table billing.invoices (id bigint generated always as identity primary key,"
            + " customer_id bigint references public.customers, amount numeric(12,2), doc oid)",
        "create table \"Odd.Name\" (\"Weird col\" int)",
        "insert into customers (name, profile) select 'c' || g, jsonb_build_object('n', g,"
            + " 'tags', jsonb_build_array('a', g)) from generate_series(1, 500) g",
        "insert into billing.invoices (customer_id, amount, doc) select 1 + g % 500, g * 1.5,"
            + " case when g = 1 then lo_from_bytea(0, 'large object body'::bytea) end from"
            + " generate_series(1, 1200) g",
        "insert into \"Odd.Name\" values (1), (2)");
    // an index built concurrently (outside a transaction)
    sql("create index concurrently invoices_amount on billing.invoices (amount)");
  }

  @Test
  void aDumpOfSeveralSchemasJsonbLargeObjectsAndSequences_restoresAndVerifies() throws Exception {
    richSchema();
    var backups = backups();

    var backup = backups.backup(Progress.NONE);

    assertThat(backup.dump().getFileName().toString()).matches(database + "-\\d{8}T\\d{9}Z\\.dump");
    assertThat(backup.manifestFile()).exists();
    var manifest = backup.manifest();
    assertThat(manifest.tables())
        .containsEntry("public.customers", 500L)
        .containsEntry("billing.invoices", 1200L)
        .containsEntry("public.Odd.Name", 2L);
    assertThat(manifest.sizeBytes()).isEqualTo(Files.size(backup.dump()));
    assertThat(manifest.sha256()).isEqualTo(Backups.sha256(backup.dump()));
    assertThat(manifest.serverVersion()).startsWith(Integer.toString(pg.major()));
    assertThat(manifest.verified()).isFalse();
    assertThat(gauge("last-success")).isEqualTo(manifest.finishedAt().getEpochSecond());
    assertThat(gauge("size")).isEqualTo(manifest.sizeBytes());

    var verified = backups.verify(backup.dump(), Progress.NONE);

    assertThat(verified.manifest().verified())
        .as("%s", verified.manifest().verification())
        .isTrue();
    assertThat(verified.manifest().verification().detail())
        .contains("3 tables with the manifest's row counts")
        .contains("2 sequences not behind");
    assertThat(backups.list().get(0).manifest().verified()).as("recorded in the manifest").isTrue();
    assertThat(gauge("last-verified")).isEqualTo(manifest.finishedAt().getEpochSecond());
    assertThat(
            single(
                "postgres",
                "select count(*) from pg_database where datname like 'ballast_verify_%'"))
        .as("the scratch database is dropped")
        .isZero();

    var copy = database + "_copy";
    backups.restore(backup.dump(), copy, false, Progress.NONE);
    assertThat(single(copy, "select count(*) from billing.invoices")).isEqualTo(1200);
    assertThat(text(copy, "select profile::text from customers where id = 7"))
        .isEqualTo("{\"n\": 7, \"tags\": [\"a\", 7]}");
    assertThat(
            text(
                copy,
                "select convert_from(lo_get(doc), 'UTF8') from billing.invoices where doc is not"
                    + " null"))
        .isEqualTo("large object body");
    assertThat(
            text(
                copy,
                "select indisvalid::text from pg_index where indexrelid ="
                    + " 'billing.invoices_amount'::regclass"))
        .isEqualTo("true");
    try (var c = target(copy).open();
        var s = c.createStatement()) {
      s.execute("insert into customers (name) values ('after restore')");
    }
    assertThat(single(copy, "select max(id) from customers"))
        .as("the sequence carried on")
        .isEqualTo(501);
  }

  @Test
  void aTamperedDump_failsVerifyOnItsChecksum_andIsNotRestored() throws Exception {
    sql("create table t (id int)", "insert into t select generate_series(1, 100)");
    var backups = backups();
    var backup = backups.backup(Progress.NONE);
    try (var file = new RandomAccessFile(backup.dump().toFile(), "rw")) {
      file.seek(file.length() / 2);
      var b = file.read();
      file.seek(file.length() / 2);
      file.write(b ^ 0xFF);
    }

    var result = backups.verify(backup.dump(), Progress.NONE);

    assertThat(result.manifest().verified()).isFalse();
    assertThat(result.manifest().verification().detail()).startsWith("checksum mismatch");
    assertThat(backups.list().get(0).manifest().verification().ok()).isFalse();
    assertThat(metrics.meter("ballast.ops.backup.logical.failures").getCount()).isEqualTo(1);
    assertThatThrownBy(() -> backups.restore(backup.dump(), database + "_x", false, Progress.NONE))
        .isInstanceOf(BackupException.class)
        .hasMessageContaining("SHA-256");
  }

  @Test
  void aSequenceBehindItsColumn_failsVerify() throws Exception {
    sql(
        "create table t (id serial primary key)",
        "insert into t select from generate_series(1, 10)",
        "select setval('t_id_seq', 3)");

    var backups = backups();
    var result = backups.verify(backups.backup(Progress.NONE).dump(), Progress.NONE);

    assertThat(result.manifest().verified()).isFalse();
    assertThat(result.manifest().verification().detail())
        .contains(
            "sequence public.t_id_seq is behind public.t.id: its last value is 3, the column's"
                + " maximum 10");
  }

  @Test
  void aKilledDump_leavesNoFileThatLooksComplete_andThePasswordIsNeverOnItsCommandLine()
      throws Exception {
    sql("create table held (id int)", "insert into held values (1)");
    var backups = backups();
    try (var logs = new LogCapture();
        var locker = target(database).open()) {
      locker.setAutoCommit(false);
      try (var s = locker.createStatement()) {
        s.execute("lock table held in access exclusive mode");
      }
      // pg_dump waits for the lock: it is running, and stays, until the test kills it
      var running = CompletableFuture.supplyAsync(() -> backups.backup(Progress.NONE));
      var child = new ProcessHandle[1];
      var environ = new String[1];
      // found, and past its exec: the environment read back is the one Ballast gave it
      Await.until(
          "pg_dump has started",
          Duration.ofSeconds(30),
          () -> {
            child[0] = pgDumpChild().orElse(null);
            if (child[0] == null) {
              return false;
            }
            environ[0] =
                Files.readString(
                    Path.of("/proc/" + child[0].pid() + "/environ"), StandardCharsets.UTF_8);
            return environ[0].contains("PGHOST=");
          });
      var pid = child[0].pid();
      var cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline"), StandardCharsets.UTF_8);
      assertThat(cmdline).contains("pg_dump").doesNotContain(PASSWORD).doesNotContain("p@ss");
      assertThat(environ[0]).contains("PGPASSFILE=").doesNotContain("p@ss");
      var passFile =
          Stream.of(environ[0].split("\0", -1))
              .filter(e -> e.startsWith("PGPASSFILE="))
              .map(e -> Path.of(e.substring("PGPASSFILE=".length())))
              .findFirst()
              .orElseThrow();
      assertThat(Files.getPosixFilePermissions(passFile))
          .extracting(Object::toString)
          .containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE");
      try (Stream<Path> during = Files.list(dir.resolve("backups"))) {
        assertThat(during.map(p -> p.getFileName().toString()))
            .allMatch(n -> n.startsWith(".") && n.endsWith(".partial"));
      }

      child[0].destroyForcibly(); // SIGKILL
      locker.rollback();

      assertThatThrownBy(running::get)
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(BackupException.class)
          .hasMessageContaining("killed (signal 9)");
      try (Stream<Path> left = Files.list(dir.resolve("backups"))) {
        assertThat(left).as("nothing left: no dump, no manifest, no temporary file").isEmpty();
      }
      assertThat(passFile).as("the password file is deleted").doesNotExist();
      assertThat(backups.list()).isEmpty();
      assertThat(String.join("\n", logs.lines())).doesNotContain("p@ss");
    }
  }

  static Optional<ProcessHandle> pgDumpChild() {
    return ProcessHandle.current()
        .descendants()
        .filter(p -> p.info().command().map(c -> c.endsWith("/pg_dump")).orElse(false))
        .findFirst();
  }

  @Test
  void aWrongPassword_failsWithoutShowingIt() {
    var wrong =
        new PgConnection(pg.host(), pg.port(), database, "backup_owner", "Wr0ng:S3cret", Map.of());
    var backups =
        new Backups(wrong, settings().build(), metrics, Optional.empty(), Clock.systemUTC(), null);
    try (var logs = new LogCapture()) {
      assertThatThrownBy(() -> backups.backup(Progress.NONE))
          .isInstanceOf(BackupException.class)
          .hasMessageContaining("password authentication failed")
          .hasMessageNotContaining("Wr0ng");
      assertThat(String.join("\n", logs.lines())).doesNotContain("Wr0ng");
    }
    assertThat(metrics.meter("ballast.ops.backup.logical.failures").getCount()).isEqualTo(1);
  }

  @Test
  void behindPgBouncer_aDumpNeedsTheDirectUrl() {
    var bounced =
        io.ballast.pool.PoolSettings.builder()
            .url("postgresql://app:secret@127.0.0.1:6432/shop")
            .pgbouncer(true)
            .build();
    assertThatThrownBy(() -> Backups.target(bounced, settings().build()))
        .isInstanceOf(BackupException.class)
        .hasMessageContaining("PgBouncer")
        .hasMessageContaining("BALLAST_BACKUP_DATABASE_URL")
        .hasMessageNotContaining("secret");
    var direct =
        Backups.target(
            bounced, settings().databaseUrl("postgresql://app:secret@127.0.0.1:5432/shop").build());
    assertThat(direct.port()).isEqualTo(5432);
    assertThat(direct.toString()).doesNotContain("secret");
    assertThat(
            settings()
                .databaseUrl("postgresql://app:secret@127.0.0.1:5432/shop")
                .build()
                .toString())
        .doesNotContain("secret");
  }

  @Test
  void toolsOfAnotherMajorVersion_areAClearError() throws Exception {
    var empty = Files.createDirectories(dir.resolve("no-tools"));
    var backups = backups(settings().pgBin(empty).build(), Clock.systemUTC());
    assertThatThrownBy(() -> backups.backup(Progress.NONE))
        .isInstanceOf(BackupException.class)
        .hasMessageContaining("pg_dump and pg_restore of PostgreSQL " + pg.major())
        .hasMessageContaining("BALLAST_BACKUP_PG_BIN=" + empty)
        .hasMessageContaining("postgresql-client-" + pg.major());
    // the machine's tools are found for their own major only: a server claiming another major
    assertThatThrownBy(() -> PgTools.find(Optional.empty(), pg.major() + 1, System.getenv("PATH")))
        .isInstanceOf(BackupException.class)
        .hasMessageContaining("of PostgreSQL " + (pg.major() + 1))
        .hasMessageContaining("found only")
        .hasMessageContaining("postgresql-client-" + (pg.major() + 1));
    assertThat(PgTools.find(Optional.empty(), pg.major(), System.getenv("PATH")).major())
        .isEqualTo(pg.major());
  }

  @Test
  void restore_refusesADatabaseWithTables_unlessToldToReplace() throws Exception {
    sql("create table t (id int)", "insert into t select generate_series(1, 5)");
    var backups = backups();
    var backup = backups.backup(Progress.NONE);
    var other = database + "_busy";
    pg.execute("postgres", "create database " + other + " owner backup_owner");
    try (var c = target(other).open();
        var s = c.createStatement()) {
      s.execute("create table t (id int)");
      s.execute("insert into t values (42)");
    }

    assertThatThrownBy(() -> backups.restore(backup.dump(), other, false, Progress.NONE))
        .isInstanceOf(BackupException.class)
        .hasMessageContaining("already has 1 tables")
        .hasMessageContaining("--replace");
    assertThat(single(other, "select count(*) from t")).as("nothing lost").isEqualTo(1);

    backups.restore(backup.dump(), other, true, Progress.NONE);
    assertThat(single(other, "select count(*) from t")).isEqualTo(5);
    assertThatThrownBy(() -> backups.restore(backup.dump(), "bad name;", false, Progress.NONE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("database must be");
  }

  @Test
  void retention_overAMonthOfDailyBackups_keepsTheNewestTheRecentAndTheNewestVerified()
      throws Exception {
    sql("create table t (id int)");
    var clock = new MovableClock(Instant.parse("2026-11-01T02:00:00Z"));
    var backups = backups(settings().keepLast(3).keepDays(7).build(), clock);
    var made = new ArrayList<Backups.Backup>();
    for (var day = 0; day < 30; day++) {
      var b = backups.backup(Progress.NONE);
      if (day == 4) {
        backups.verify(b.dump(), Progress.NONE); // the only verified one, 25 days old at the end
      }
      made.add(b);
      clock.advance(Duration.ofDays(1));
    }
    // a crash's leftovers: an old temporary file and a dump without a manifest
    var partial = Files.writeString(dir.resolve("backups/.x.dump.partial"), "half");
    var orphan = Files.writeString(dir.resolve("backups/orphan.dump"), "no manifest");
    Files.setLastModifiedTime(
        partial, java.nio.file.attribute.FileTime.from(clock.instant().minus(Duration.ofDays(1))));
    Files.setLastModifiedTime(
        orphan, java.nio.file.attribute.FileTime.from(clock.instant().minus(Duration.ofDays(1))));
    // now: 2026-12-01T02:00; the last backup is from 2026-11-30T02:00 (1 day old)

    var dryRun = backups.prune(true);
    assertThat(backups.list()).hasSize(30);

    var deleted = backups.prune(false);

    assertThat(deleted).isEqualTo(dryRun);
    var kept = backups.list().stream().map(b -> b.dump()).toList();
    var expected = new ArrayList<Path>();
    // younger than 7 days: days 24..29 (the newest 3 are among them; day 23 is exactly 7 days
    // old), plus the verified day 4
    for (var day = 29; day >= 24; day--) {
      expected.add(made.get(day).dump());
    }
    expected.add(made.get(4).dump());
    assertThat(kept).containsExactlyElementsOf(expected);
    assertThat(partial).doesNotExist();
    assertThat(orphan).doesNotExist();
    for (var day = 0; day < 24; day++) {
      if (day != 4) {
        assertThat(made.get(day).dump()).doesNotExist();
        assertThat(made.get(day).manifestFile()).doesNotExist();
      }
    }
  }

  @Test
  void check_isDegradedWhenTheNewestVerifiedBackupIsTooOld() throws Exception {
    sql("create table t (id int)");
    var clock = new MovableClock(Instant.parse("2026-11-01T02:00:00Z"));
    var backups = backups(settings().maxAge(Duration.ofHours(26)).build(), clock);
    assertThat(backups.check().status()).isEqualTo(ProbeStatus.UP);
    backups.backup(Progress.NONE); // never verified: does not count
    clock.advance(Duration.ofHours(27));
    assertThat(backups.check().status()).isEqualTo(ProbeStatus.DEGRADED);
    assertThat(backups.check().message()).contains("no verified backup");

    var b = backups.backup(Progress.NONE);
    backups.verify(b.dump(), Progress.NONE);
    assertThat(backups.check().status()).isEqualTo(ProbeStatus.UP);
    clock.advance(Duration.ofHours(25));
    assertThat(backups.check().status()).isEqualTo(ProbeStatus.UP);
    clock.advance(Duration.ofHours(2));
    assertThat(backups.check().status()).isEqualTo(ProbeStatus.DEGRADED);
    assertThat(backups.check().message()).contains("27 h old, more than 26 h");
  }

  @Test
  void theScheduledRun_backsUpVerifiesUploadsAndPrunes() throws Exception {
    sql("create table t (id int)", "insert into t values (1)");
    var upload = dir.resolve("far-away");
    var backups =
        backups(
            settings().uploadDirectory(upload).keepLast(1).keepDays(0).build(), Clock.systemUTC());
    var first = backups.backup(Progress.NONE);

    var summary = backups.runScheduled(Progress.NONE);

    assertThat(summary)
        .contains("verified")
        .contains("uploaded to " + upload)
        .contains("2 old files pruned");
    var newest = backups.list();
    assertThat(newest).hasSize(1);
    assertThat(newest.get(0).manifest().verified()).isTrue();
    assertThat(first.dump()).doesNotExist();
    assertThat(upload.resolve(newest.get(0).dump().getFileName()))
        .hasSameBinaryContentAs(newest.get(0).dump());
    assertThat(upload.resolve(newest.get(0).manifestFile().getFileName())).exists();
    try (Stream<Path> files = Files.list(upload)) {
      assertThat(files).hasSize(2);
    }
  }

  long gauge(String name) {
    return ((Number)
            ((Gauge<?>) metrics.getGauges().get("ballast.ops.backup.logical." + name)).getValue())
        .longValue();
  }

  /** A clock the test moves. */
  static final class MovableClock extends Clock {
    private volatile Instant now;

    MovableClock(Instant now) {
      this.now = now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
