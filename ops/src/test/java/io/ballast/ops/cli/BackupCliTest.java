package io.ballast.ops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ballast.testkit.MachinePostgres;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ballast backup …} end to end on a real PostgreSQL of the machine's client tools' major,
 * reached with a password full of reserved characters.
 */
class BackupCliTest {
  static final String PASSWORD = "c0mpl3x/p@ss:word?&#%";
  static final ObjectMapper JSON = new ObjectMapper();
  static MachinePostgres pg;

  @TempDir static Path dir;

  record Result(int exit, String out, String err) {
    JsonNode json() throws IOException {
      return JSON.readTree(out);
    }
  }

  @BeforeAll
  static void start() throws Exception {
    pg = MachinePostgres.builder().start();
    pg.execute(
        "postgres",
        "create role shop login createdb password '" + PASSWORD + "'",
        "create database shop owner shop");
    try (var c = pg.connect("shop");
        var s = c.createStatement()) {
      s.execute("set role shop");
      s.execute("create table orders (id serial primary key, total numeric)");
      s.execute("insert into orders (total) select g from generate_series(1, 250) g");
    }
  }

  @AfterAll
  static void stop() {
    if (pg != null) {
      pg.close();
    }
  }

  static String url(String database) {
    return "postgresql://shop:"
        + URLEncoder.encode(PASSWORD, StandardCharsets.UTF_8)
        + "@127.0.0.1:"
        + pg.port()
        + "/"
        + database;
  }

  static Result run(Map<String, String> extra, String... args) {
    var env = new HashMap<String, String>();
    env.put("DATABASE_URL", url("shop"));
    env.put("BALLAST_BACKUP_DIR", dir.resolve("backups").toString());
    env.putAll(extra);
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    var exit =
        BallastCli.run(
            args,
            env,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(
        exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static Result run(String... args) {
    return run(Map.of(), args);
  }

  @Test
  void backupVerifyListRestore_endToEnd() throws Exception {
    var made = run("backup", "--verify", "--json");
    assertThat(made.exit()).as(made.err()).isZero();
    var manifest = made.json().path("manifest");
    assertThat(made.json().path("dump").asText()).startsWith(dir.toString());
    assertThat(manifest.path("tables").path("public.orders").asLong()).isEqualTo(250);
    assertThat(manifest.path("verification").path("ok").asBoolean()).isTrue();
    assertThat(made.out() + made.err()).doesNotContain("p@ss").doesNotContain("c0mpl3x");

    var list = run("backup", "list");
    assertThat(list.exit()).isZero();
    assertThat(list.out()).contains("shop-").contains("yes, ");

    var latest = run("backup", "verify", "--latest");
    assertThat(latest.exit()).as(latest.err()).isZero();
    assertThat(latest.out()).contains("verified: restored into a scratch database");

    var dump = Path.of(made.json().path("dump").asText());
    var restored = run("backup", "restore", dump.toString(), "--to", "shop_copy");
    assertThat(restored.exit()).as(restored.err()).isZero();
    try (var c = pg.connect("shop_copy");
        var s = c.createStatement();
        var rs = s.executeQuery("select count(*), sum(total) from orders")) {
      rs.next();
      assertThat(rs.getLong(1)).isEqualTo(250);
      assertThat(rs.getLong(2)).isEqualTo(250 * 251 / 2);
    }
    var again = run("backup", "restore", dump.toString(), "--to", "shop_copy");
    assertThat(again.exit()).isEqualTo(BallastCli.FINDINGS);
    assertThat(again.err()).containsPattern("already has \\d+ tables").contains("--replace");
  }

  @Test
  void aTamperedDump_exitsOneNamingTheChecksum() throws Exception {
    var made = run("backup", "--json");
    assertThat(made.exit()).as(made.err()).isZero();
    var dump = Path.of(made.json().path("dump").asText());
    try (var file = new RandomAccessFile(dump.toFile(), "rw")) {
      file.seek(file.length() - 10);
      file.write(0x5A ^ file.read());
    }

    var verify = run("backup", "verify", dump.toString());

    assertThat(verify.exit()).isEqualTo(BallastCli.FINDINGS);
    assertThat(verify.out()).contains("NOT VERIFIED: checksum mismatch");
  }

  @Test
  void theBackupJob_runsThroughTheJobRunner_andIsInTheHistory() {
    var run = run("jobs", "run", "backup");
    assertThat(run.exit()).as(run.err() + run.out()).isZero();
    assertThat(run.out()).contains("backup: succeeded").contains("verified");

    var list = run("jobs", "list");
    assertThat(list.out()).containsPattern("backup +0 2 \\* \\* \\* +succeeded");
    var health = run("health", "--kind", "deep");
    assertThat(health.out()).containsPattern("backups +UP .*newest verified backup");
  }

  @Test
  void wrongUse_isAUsageErrorNamingWhatIsAllowed() {
    var keep = run(Map.of("BALLAST_BACKUP_KEEP_LAST", "0"), "backup");
    assertThat(keep.exit()).isEqualTo(BallastCli.USAGE);
    assertThat(keep.err()).contains("BALLAST_BACKUP_KEEP_LAST").contains("0");

    var cron = run(Map.of("BALLAST_BACKUP_SCHEDULE", "every night"), "backup");
    assertThat(cron.exit()).isEqualTo(BallastCli.USAGE);
    assertThat(cron.err()).contains("BALLAST_BACKUP_SCHEDULE").contains("cron");

    var type = run("backup", "--type", "full");
    assertThat(type.exit()).isEqualTo(BallastCli.USAGE);
    assertThat(type.err()).contains("--type is for --engine pgbackrest only");

    var restore = run("backup", "restore", "--to", "x");
    assertThat(restore.exit()).isEqualTo(BallastCli.USAGE);
    assertThat(restore.err()).contains("needs FILE and --to DATABASE");

    var noDir = run(Map.of("BALLAST_BACKUP_DIR", ""), "backup");
    assertThat(noDir.exit()).isEqualTo(BallastCli.FINDINGS);
    assertThat(noDir.err()).contains("set BALLAST_BACKUP_DIR");

    var noStanza = run("backup", "--engine", "pgbackrest");
    assertThat(noStanza.err()).contains("set BALLAST_PGBACKREST_STANZA");
  }

  @Test
  void help_listsTheBackupCommands() {
    var help = run("backup", "--help");
    assertThat(help.exit()).isZero();
    assertThat(help.out())
        .contains("verify")
        .contains("restore")
        .contains("prune")
        .contains("point-in-time recovery needs");
    assertThat(Files.exists(dir)).isTrue();
  }
}
