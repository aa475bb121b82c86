package io.ballast.ops.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import io.ballast.core.ProbeStatus;
import io.ballast.ops.Progress;
import io.ballast.testkit.Await;
import io.ballast.testkit.MachinePostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * pgBackRest against a real cluster of the machine's PostgreSQL archiving its WAL into a repository
 * in a temporary directory (the machine's {@code pgbackrest}, Debian package {@code pgbackrest}):
 * full and incremental backups, a restore to a point in time between two commits, verification. The
 * tests run in order on one stanza.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PgBackRestTest {
  static final String STANZA = "ballast";
  static final String PASSWORD = "s3cret:pass@word";

  static Path home;
  static Path config;
  static MachinePostgres pg;
  static MetricRegistry metrics = new MetricRegistry();
  static PgBackRest pgBackRest;

  @BeforeAll
  static void setUp() throws Exception {
    home = Files.createTempDirectory("ballast-pgbackrest-test-");
    Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
    for (var d : List.of("repo", "log", "lock", "spool")) {
      Files.createDirectories(home.resolve(d));
    }
    config = home.resolve("pgbackrest.conf");
    // the cluster's port and socket are known once it runs: write the file, then the stanza part
    pg =
        MachinePostgres.builder()
            .config("archive_mode = on")
            .config(
                "archive_command = 'pgbackrest --config="
                    + config
                    + " --stanza="
                    + STANZA
                    + " archive-push %p'")
            .config("archive_timeout = 0")
            .start();
    Files.writeString(
        config,
        String.join(
            "\n",
            "[global]",
            "repo1-path=" + home.resolve("repo"),
            "repo1-retention-full=2",
            "log-path=" + home.resolve("log"),
            "lock-path=" + home.resolve("lock"),
            "spool-path=" + home.resolve("spool"),
            "log-level-file=off",
            "start-fast=y",
            "",
            "[" + STANZA + "]",
            "pg1-path=" + pg.dataDir(),
            "pg1-port=" + pg.port(),
            "pg1-socket-path=" + pg.socketDir(),
            "pg1-user=postgres",
            ""),
        StandardCharsets.UTF_8);
    if (pg.runsAsNobody()) {
      UserPrincipal nobody =
          home.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
      try (Stream<Path> files = Files.walk(home)) {
        for (var f : (Iterable<Path>) files::iterator) {
          Files.setOwner(f, nobody);
        }
      }
    }
    runAsServer("pgbackrest", "--config=" + config, "--stanza=" + STANZA, "stanza-create");
    pg.execute("postgres", "create role app login createdb password '" + PASSWORD + "'");
    pg.execute("postgres", "create database shop owner app");
    pgBackRest =
        new PgBackRest(target(), settings(), metrics, Clock.systemUTC(), System.getenv("PATH"));
  }

  @AfterAll
  static void tearDown() throws IOException {
    if (pg != null) {
      pg.close();
    }
    if (home != null) {
      try (Stream<Path> files = Files.walk(home)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  static PgConnection target() {
    return new PgConnection(pg.host(), pg.port(), "shop", "app", PASSWORD, Map.of());
  }

  static BackupSettings settings() {
    return BackupSettings.builder()
        .stanza(STANZA)
        .pgBackRestConfig(config)
        .commandPrefix(String.join(" ", pg.serverUserPrefix()))
        .build();
  }

  static void runAsServer(String... command) throws IOException, InterruptedException {
    var full = new ArrayList<>(pg.serverUserPrefix());
    full.addAll(List.of(command));
    var p = new ProcessBuilder(full).redirectErrorStream(true).start();
    var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
  }

  void sql(String... statements) throws SQLException {
    try (var c = target().open();
        var s = c.createStatement()) {
      for (var sql : statements) {
        s.execute(sql);
      }
    }
  }

  static Instant serverNow() throws SQLException {
    try (var c = target().open();
        var s = c.createStatement();
        var rs = s.executeQuery("select clock_timestamp()")) {
      rs.next();
      return rs.getTimestamp(1).toInstant();
    }
  }

  static List<String> notes(java.sql.Connection c) throws SQLException {
    var notes = new ArrayList<String>();
    try (var s = c.createStatement();
        var rs = s.executeQuery("select note from events order by id")) {
      while (rs.next()) {
        notes.add(rs.getString(1));
      }
    }
    return notes;
  }

  static Instant between;

  @Test
  @Order(1)
  void aFullThenAnIncrementalBackup_areListedByInfo() throws Exception {
    sql(
        "create table events (id serial primary key, note text)",
        "insert into events (note) values ('before the full backup')");

    var full = pgBackRest.backup(PgBackRest.Type.FULL, Progress.NONE);
    assertThat(full.type()).isEqualTo("full");
    // pgBackRest records whole seconds: a point in time is after a backup once it is a second past
    // its recorded stop
    Await.until(
        "the server's clock is past the full backup's second",
        Duration.ofSeconds(5),
        () -> serverNow().isAfter(full.stop().plusSeconds(1)));

    sql("insert into events (note) values ('first')");
    between = serverNow();
    sql("insert into events (note) values ('second')");

    var incr = pgBackRest.backup(PgBackRest.Type.INCR, Progress.NONE);

    assertThat(incr.type()).isEqualTo("incr");
    assertThat(incr.label()).startsWith(full.label()).endsWith("I");
    var info = pgBackRest.info();
    assertThat(info)
        .extracting(PgBackRest.Backup::label)
        .containsExactly(full.label(), incr.label());
    assertThat(info.get(1).sizeBytes()).isPositive();
    assertThat(gauge("last-success")).isEqualTo(incr.stop().getEpochSecond());
    assertThat(gauge("size")).isEqualTo(incr.sizeBytes());
    assertThat(pgBackRest.check().status()).isEqualTo(ProbeStatus.UP);
  }

  @Test
  @Order(2)
  void aRestoreToAPointInTimeBetweenTwoCommits_hasTheFirstAndNotTheSecond() throws Exception {
    try (var scratch = pgBackRest.restoreAndStart(Optional.of(between), Progress.NONE);
        var c = scratch.connection()) {
      assertThat(notes(c)).containsExactly("before the full backup", "first");
    }
    try (var c = target().open()) {
      assertThat(notes(c))
          .as("the live server is untouched")
          .containsExactly("before the full backup", "first", "second");
    }
  }

  @Test
  @Order(3)
  void verify_checksTheRepositoryAndRestoresTheNewestBackup() {
    var result = pgBackRest.verify(Progress.NONE);

    assertThat(result.ok()).as(result.detail()).isTrue();
    assertThat(result.detail()).contains("repository verified").contains("1 tables read");
    assertThat(gauge("last-verified")).isPositive();
    try (Stream<Path> archive = Files.walk(home.resolve("repo/archive/" + STANZA))) {
      assertThat(archive.map(p -> p.getFileName().toString()))
          .as("the promoted scratch server archived nothing (its new timeline's history file)")
          .noneMatch(n -> n.endsWith(".history"));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    assertThat(pgBackRest.check().status()).isEqualTo(ProbeStatus.UP);
    try (Stream<Path> left = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      assertThat(left.map(p -> p.getFileName().toString()))
          .as("the scratch directory is removed")
          .noneMatch(
              n ->
                  n.startsWith("ballast-pgbackrest-") && !n.startsWith("ballast-pgbackrest-test-"));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  @Order(4)
  void aCorruptedRepository_failsVerify_andTheCheckSaysSo() throws Exception {
    var files = new ArrayList<Path>();
    try (Stream<Path> all = Files.walk(home.resolve("repo/backup/" + STANZA))) {
      all.filter(p -> p.toString().contains("/pg_data/base/") && Files.isRegularFile(p))
          .forEach(files::add);
    }
    assertThat(files).isNotEmpty();
    var victim =
        files.stream().max(java.util.Comparator.comparingLong(PgBackRestTest::size)).orElseThrow();
    var bytes = Files.readAllBytes(victim);
    bytes[bytes.length / 2] ^= (byte) 0xFF;
    Files.write(victim, bytes);

    var result = pgBackRest.verify(Progress.NONE);

    assertThat(result.ok()).isFalse();
    assertThat(result.detail())
        .contains("pgbackrest verify found problems")
        .contains("checksum invalid: 1")
        .contains(victim.getFileName().toString());
    assertThat(pgBackRest.check().status()).isEqualTo(ProbeStatus.DEGRADED);
    assertThat(metrics.meter("ballast.ops.backup.pgbackrest.failures").getCount()).isEqualTo(1);
  }

  @Test
  @Order(5)
  void theCommandLine_takesAndListsPgBackRestBackups() throws Exception {
    var env =
        Map.of(
            "DATABASE_URL",
            "postgresql://app:"
                + java.net.URLEncoder.encode(PASSWORD, StandardCharsets.UTF_8)
                + "@127.0.0.1:"
                + pg.port()
                + "/shop",
            "BALLAST_PGBACKREST_STANZA",
            STANZA,
            "BALLAST_PGBACKREST_CONFIG",
            config.toString(),
            "BALLAST_PGBACKREST_COMMAND_PREFIX",
            String.join(" ", pg.serverUserPrefix()));
    var out = new java.io.ByteArrayOutputStream();
    var err = new java.io.ByteArrayOutputStream();
    var exit =
        io.ballast.ops.cli.BallastCli.run(
            new String[] {"backup", "--engine", "pgbackrest", "--type", "diff"},
            env,
            new java.io.PrintStream(out, true, StandardCharsets.UTF_8),
            new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(exit).as(err.toString(StandardCharsets.UTF_8)).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .containsPattern("\\d{8}-\\d{6}F_\\d{8}-\\d{6}D: diff");

    out.reset();
    exit =
        io.ballast.ops.cli.BallastCli.run(
            new String[] {"backup", "list", "--engine", "pgbackrest"},
            env,
            new java.io.PrintStream(out, true, StandardCharsets.UTF_8),
            new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(exit).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains(" full ")
        .contains(" incr ")
        .contains(" diff ");
  }

  @Test
  @Order(6)
  void anUnknownStanza_isAClearError() {
    var other =
        new PgBackRest(
            target(),
            settings().toBuilder().stanza("nope").build(),
            new MetricRegistry(),
            Clock.systemUTC(),
            System.getenv("PATH"));
    assertThatThrownBy(other::info)
        .isInstanceOf(BackupException.class)
        .hasMessageContaining("nope");
  }

  static long size(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return 0;
    }
  }

  static long gauge(String name) {
    return ((Number)
            ((Gauge<?>) metrics.getGauges().get("ballast.ops.backup.pgbackrest." + name))
                .getValue())
        .longValue();
  }
}
