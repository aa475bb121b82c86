package io.ballast.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.testkit.PostgresExtension;
import io.ballast.testkit.RedisExtension;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The top README's example, taken from the file as it stands: its migration and its Java, compiled
 * with the JDK's compiler against the modules and run in a JVM of its own, with the settings from
 * the environment as an application would have them, against a real PostgreSQL (as a non-superuser
 * role, so RLS binds) and Redis. Regression: the example had no imports and its table's SQL was
 * nowhere near it.
 */
class ReadmeExampleTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();

  private static Path readme() {
    return readme("README.md");
  }

  /** {@code relative} (e.g. {@code ops/README.md}) from the project's root. */
  static Path readme(String relative) {
    for (var dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      var candidate = dir.resolve(relative);
      if (Files.exists(candidate) && Files.exists(dir.resolve("bom"))) {
        return candidate;
      }
    }
    throw new IllegalStateException(
        "the project's " + relative + " was not found above " + Path.of("").toAbsolutePath());
  }

  private static String block(String markdown, String language, String mustContain) {
    var m = Pattern.compile("```" + language + "\\n(.*?)```", Pattern.DOTALL).matcher(markdown);
    while (m.find()) {
      if (m.group(1).contains(mustContain)) {
        return m.group(1);
      }
    }
    throw new AssertionError(
        "no ```" + language + " block containing " + mustContain + " in the README");
  }

  /** Compiles {@code source} into {@code classes} against the test's class path, as written. */
  private static void compile(Path source, Path classes) {
    var errors = new java.io.ByteArrayOutputStream();
    var status =
        ToolProvider.getSystemJavaCompiler()
            .run(
                null,
                null,
                errors,
                "-d",
                classes.toString(),
                "-classpath",
                System.getProperty("java.class.path"),
                source.toString());
    assertThat(status).as("javac: " + errors.toString(StandardCharsets.UTF_8)).isZero();
  }

  @Test
  void readmeExample_compilesAsWritten_andRuns() throws Exception {
    var markdown = Files.readString(readme());
    var java = block(markdown, "java", "public final class OrdersService");
    var sql = block(markdown, "sql", "create table orders");

    var work = Files.createTempDirectory("ballast-readme-");
    var sources = Files.createDirectories(work.resolve("src"));
    var classes = Files.createDirectories(work.resolve("classes"));
    var migrations = Files.createDirectories(work.resolve("migration"));
    Files.writeString(sources.resolve("OrdersService.java"), java);
    Files.writeString(migrations.resolve("V1__orders.sql"), sql);

    compile(sources.resolve("OrdersService.java"), classes);

    var role = PG.createRole("orders_app");
    PG.execute("grant create on database " + PG.databaseName() + " to " + role.name());
    var command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                classes + File.pathSeparator + System.getProperty("java.class.path"),
                "OrdersService"));
    var builder = new ProcessBuilder(command).redirectErrorStream(true);
    var env = builder.environment();
    env.keySet()
        .removeIf(
            k ->
                k.startsWith("BALLAST_")
                    || k.startsWith("DB_")
                    || k.startsWith("REDIS_")
                    || k.startsWith("CACHE_")
                    || k.equals("DATABASE_URL")
                    || k.equals("APP_ENV"));
    env.put("DATABASE_URL", role.databaseUrl());
    env.put("REDIS_URL", REDIS.url());
    env.put("BALLAST_ADMIN_PORT", "0");
    env.put("BALLAST_MIGRATIONS_LOCATIONS", "filesystem:" + migrations);
    var process = builder.start();
    var output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(output).isZero();
    var lines =
        output
            .lines()
            .filter(
                l ->
                    !l.contains(" INFO ")
                        && !l.contains(" WARN ")
                        && !l.contains(" DEBUG ")
                        && !l.isBlank())
            .toList();
    assertThat(lines).as(output).containsSubsequence("0", "true", "1");
    assertThat(lines).as(output).anyMatch(l -> l.matches("\\d+ statements"));
    assertThat(output).doesNotContain("ERROR");
  }

  /**
   * The ops module's README example, compiled as written and run in a JVM of its own against a real
   * PostgreSQL: it starts the job runner with its seed jobs and one of its own and prints the
   * maintenance findings (a table with dead rows is one).
   */
  @Test
  void opsReadmeExample_compilesAsWritten_andRuns() throws Exception {
    var java =
        block(Files.readString(readme("ops/README.md")), "java", "public final class OpsExample");
    var work = Files.createTempDirectory("ballast-ops-readme-");
    var sources = Files.createDirectories(work.resolve("src"));
    var classes = Files.createDirectories(work.resolve("classes"));
    Files.writeString(sources.resolve("OpsExample.java"), java);
    compile(sources.resolve("OpsExample.java"), classes);

    PG.execute(
        "create table ops_churn (id bigint primary key) with (autovacuum_enabled = false)",
        "insert into ops_churn select generate_series(1, 5000)",
        "delete from ops_churn where id <= 4000");
    var builder =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                classes + File.pathSeparator + System.getProperty("java.class.path"),
                "OpsExample")
            .redirectErrorStream(true);
    var env = builder.environment();
    env.keySet()
        .removeIf(k -> k.startsWith("BALLAST_") || k.startsWith("DB_") || k.equals("APP_ENV"));
    env.put("DATABASE_URL", PG.databaseUrl());
    var process = builder.start();
    var output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(output).isZero();
    assertThat(output).contains("public.ops_churn: 80 % dead rows (4,000 dead): vacuum");
    assertThat(output).contains("reports.nightly").doesNotContain("ERROR");
  }

  /**
   * The ops README's load-test scenario, compiled as written and run by {@code LoadTest} for two
   * seconds against a real PostgreSQL.
   */
  @Test
  void opsReadmeLoadScenario_compilesAsWritten_andRunsUnderLoad() throws Exception {
    var source =
        block(
            Files.readString(readme("ops/README.md")),
            "java",
            "public final class LookupScenario implements Scenario");
    var work = Files.createTempDirectory("ballast-load-readme-");
    var sources = Files.createDirectories(work.resolve("src"));
    var classes = Files.createDirectories(work.resolve("classes"));
    Files.writeString(sources.resolve("LookupScenario.java"), source);
    compile(sources.resolve("LookupScenario.java"), classes);
    try (var loader =
        new java.net.URLClassLoader(
            new java.net.URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
      var scenario =
          (io.ballast.ops.load.Scenario)
              loader.loadClass("LookupScenario").getConstructor().newInstance();
      var result =
          io.ballast.ops.load.LoadTest.run(
              scenario,
              java.util.Map.of("DATABASE_URL", PG.databaseUrl()),
              io.ballast.ops.load.LoadOptions.of(
                  io.ballast.ops.load.Profile.LOAD,
                  20,
                  java.time.Duration.ofSeconds(2),
                  work.resolve("report")));
      assertThat(result.summary().get("completed")).isEqualTo(40L);
      assertThat(result.passed()).as(result.thresholds().toString()).isTrue();
      assertThat(work.resolve("report/load-report.html")).exists();
    }
  }

  /**
   * The pool README's replica example, compiled as written and run on one server (no {@code
   * DATABASE_REPLICA_URLS}): the same code then reads from the primary, and the unit of work still
   * gives a position to carry.
   */
  @Test
  void poolReadmeReplicaExample_compilesAsWritten_andRunsOnOneServer() throws Exception {
    var java =
        block(
            Files.readString(readme("pool/README.md")), "java", "public final class ReplicaReads");
    var work = Files.createTempDirectory("ballast-pool-readme-");
    var sources = Files.createDirectories(work.resolve("src"));
    var classes = Files.createDirectories(work.resolve("classes"));
    Files.writeString(sources.resolve("ReplicaReads.java"), java);
    compile(sources.resolve("ReplicaReads.java"), classes);

    PG.execute("create table purchases (customer_id bigint not null, total numeric not null)");
    var builder =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                classes + File.pathSeparator + System.getProperty("java.class.path"),
                "ReplicaReads")
            .redirectErrorStream(true);
    var env = builder.environment();
    env.keySet()
        .removeIf(k -> k.startsWith("BALLAST_") || k.startsWith("DB_") || k.equals("APP_ENV"));
    env.remove("DATABASE_REPLICA_URLS");
    env.put("DATABASE_URL", PG.databaseUrl());
    var process = builder.start();
    var output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(output).isZero();
    assertThat(output).containsPattern("(?m)^[0-9A-F]+/[0-9A-F]+ 1$");
  }
}
