package io.ballast.ops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ballast.testkit.PostgresExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line end to end through its {@code run} (what {@code main} does), on a real
 * PostgreSQL.
 */
class BallastCliTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  static final ObjectMapper JSON = new ObjectMapper();

  /** One run's exit code and output. */
  record Result(int exit, String out, String err) {
    JsonNode json() throws IOException {
      return JSON.readTree(out);
    }
  }

  static Result run(Map<String, String> extraEnv, String... args) {
    var env = new HashMap<String, String>();
    env.put("DATABASE_URL", PG.databaseUrl());
    env.putAll(extraEnv);
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

  @BeforeAll
  static void tables() throws Exception {
    PG.execute(
        "create table churn (id bigint primary key) with (autovacuum_enabled = false)",
        "insert into churn select generate_series(1, 10000)",
        "delete from churn where id <= 5000");
    PG.execute("select pg_stat_force_next_flush()");
  }

  @Test
  void help_listsTheCommands_andAMissingCommandIsAUsageError() {
    var help = run("--help");
    assertThat(help.exit()).isEqualTo(BallastCli.OK);
    assertThat(help.out()).contains("migrate", "health", "maintain", "jobs", "Exit codes: 0 ok");
    assertThat(run("maintain", "vacuum", "--help").out())
        .contains("--dry-run", "--full=SCHEMA.TABLE", "Never VACUUM FULL");

    var none = run("maintain");
    assertThat(none.exit()).isEqualTo(BallastCli.USAGE);
    assertThat(none.err()).contains("Missing a subcommand").contains("Usage: ballast maintain");
    assertThat(run().exit()).isEqualTo(BallastCli.USAGE);
    assertThat(run("maintain", "nope").exit()).isEqualTo(BallastCli.USAGE);
  }

  @Test
  void report_asJsonAndAsATable_exits1WithFindings() throws IOException {
    var json = run("maintain", "report", "--json");
    assertThat(json.exit()).as(json.err()).isEqualTo(BallastCli.FINDINGS);
    var report = json.json();
    assertThat(report.at("/database/name").asText()).isEqualTo(PG.databaseName());
    assertThat(report.get("findings").toString()).contains("public.churn: 50 % dead rows");
    assertThat(report.get("tables").findValuesAsText("name")).contains("churn");

    var table = run("maintain", "report");
    assertThat(table.exit()).isEqualTo(BallastCli.FINDINGS);
    assertThat(table.out())
        .contains("TABLE", "public.churn", "findings:", "  - public.churn: 50 % dead rows");
  }

  @Test
  void vacuum_dryRunThenForReal_withProgressOnStandardError() throws Exception {
    PG.execute(
        "create table later (id bigint primary key) with (autovacuum_enabled = false)",
        "insert into later select generate_series(1, 4000)",
        "delete from later where id <= 3000");
    PG.execute("select pg_stat_force_next_flush()");
    var dry = run("maintain", "vacuum", "--dry-run", "--json");
    assertThat(dry.exit()).as(dry.err()).isEqualTo(BallastCli.OK);
    assertThat(dry.json().findValuesAsText("outcome")).contains("dry run");
    assertThat(dry.json().findValuesAsText("object")).contains("public.later");

    var real = run("maintain", "vacuum");
    assertThat(real.exit()).as(real.err()).isEqualTo(BallastCli.OK);
    assertThat(real.out()).contains("public.later").contains("done (75 % dead rows");
    assertThat(real.err()).containsPattern("tables vacuumed \\d+ of \\d+");
  }

  @Test
  void aWrongSetting_isAUsageError_namingTheVariableValueAndRule_withoutAStackTrace() {
    var wrong = run(Map.of("BALLAST_VACUUM_DEAD_PERCENT", "500"), "maintain", "vacuum");
    assertThat(wrong.exit()).isEqualTo(BallastCli.USAGE);
    assertThat(wrong.err())
        .contains("vacuum_dead_percent")
        .contains("500")
        .contains("BALLAST_VACUUM_DEAD_PERCENT")
        .doesNotContain("\tat ")
        .doesNotContain("Exception");
    var noPolicy = run("maintain", "archive");
    assertThat(noPolicy.exit()).isEqualTo(BallastCli.USAGE);
    assertThat(noPolicy.err()).contains("no retention policy: set BALLAST_RETENTION");
  }

  @Test
  void anUnreachableDatabase_exits1_namingItWithoutThePassword() throws IOException {
    int closed;
    try (var socket = new ServerSocket(0)) {
      closed = socket.getLocalPort();
    }
    var result =
        run(
            Map.of(
                "DATABASE_URL",
                "postgresql://app:s3cr%40t%2Fpw@127.0.0.1:" + closed + "/shop?connect_timeout=1"),
            "health");
    assertThat(result.exit()).isEqualTo(BallastCli.FINDINGS);
    assertThat(result.err())
        .contains("127.0.0.1:" + closed)
        .doesNotContain("s3cr")
        .doesNotContain("\tat ");
  }

  @Test
  void health_deepAsJson() throws IOException {
    var result = run("health", "--kind", "deep", "--json");
    assertThat(result.exit()).as(result.err()).isEqualTo(BallastCli.OK);
    assertThat(result.json().get("status").asText()).isEqualTo("UP");
    assertThat(result.json().get("checks").findValuesAsText("name"))
        .contains("db", "db.write", "pool");
    assertThat(run("health", "--kind", "sideways").exit()).isEqualTo(BallastCli.USAGE);
  }

  @Test
  void jobs_listAndRun() throws Exception {
    var list = run("jobs", "list", "--json");
    assertThat(list.exit()).as(list.err()).isEqualTo(BallastCli.OK);
    assertThat(list.json().findValuesAsText("job"))
        .containsExactlyInAnyOrder(
            "maintenance.vacuum", "retention.archive", "maintenance.reindex", "retention.purge");

    var ran = run("jobs", "run", "maintenance.reindex");
    assertThat(ran.exit()).as(ran.err()).isEqualTo(BallastCli.OK);
    assertThat(ran.out()).startsWith("maintenance.reindex: succeeded: ");
    assertThat(run("jobs", "list").out())
        .containsPattern("maintenance\\.reindex\\s+0 4 1 \\* \\*\\s+succeeded at ");

    PG.execute(
        "insert into ballast_job_runs (job, scheduled_for, instance, outcome, summary, finished_at)"
            + " values ('app.nightly', now(), 'svc@host', 'succeeded', 'sent 3 reports', now())");
    assertThat(run("jobs", "list").out())
        .containsPattern(
            "app\\.nightly\\s+\\(in the service\\)\\s+succeeded at .* on svc@host: sent 3 reports");

    var unknown = run("jobs", "run", "nope");
    assertThat(unknown.exit()).isEqualTo(BallastCli.USAGE);
    assertThat(unknown.err()).contains("no job named nope");
  }

  @Test
  void migrate_statusThenApplyThenStatus(@TempDir Path dir) throws IOException {
    Files.writeString(
        dir.resolve("V1__cli_items.sql"), "create table cli_items (id bigint primary key);");
    var env =
        Map.of(
            "BALLAST_MIGRATIONS_LOCATIONS",
            "filesystem:" + dir,
            "BALLAST_MIGRATIONS_TABLE",
            "cli_history");
    var before = run(env, "migrate", "status");
    assertThat(before.exit()).as(before.err()).isEqualTo(BallastCli.FINDINGS);
    assertThat(before.out()).contains("pending: V1 (V1__cli_items.sql)");
    var validate = run(env, "migrate", "validate");
    assertThat(validate.exit()).isEqualTo(BallastCli.FINDINGS);
    assertThat(validate.err()).contains("V1").doesNotContain("\tat ");

    var apply = run(env, "migrate", "--json");
    assertThat(apply.exit()).as(apply.err()).isEqualTo(BallastCli.OK);
    assertThat(apply.json().findValuesAsText("script")).contains("V1__cli_items.sql");
    assertThat(run(env, "migrate", "status").exit()).isEqualTo(BallastCli.OK);
    assertThat(run(env, "migrate", "validate").exit()).isEqualTo(BallastCli.OK);
    assertThat(run(env, "migrate", "repair-indexes").out()).contains("no invalid index");

    var unset = run("migrate", "status");
    assertThat(unset.exit()).isEqualTo(BallastCli.USAGE);
    assertThat(unset.err()).contains("set BALLAST_MIGRATIONS_LOCATIONS");
    var missing =
        run(Map.of("BALLAST_MIGRATIONS_LOCATIONS", "filesystem:" + dir.resolve("nope")), "migrate");
    assertThat(missing.exit()).isEqualTo(BallastCli.FINDINGS);
    assertThat(missing.err())
        .contains("location filesystem:" + dir.resolve("nope") + " is not a directory");
  }
}
