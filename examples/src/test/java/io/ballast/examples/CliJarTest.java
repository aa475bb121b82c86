package io.ballast.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ballast.testkit.PostgresExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The packaged command line, {@code ops/target/ballast.jar}, run as an operator runs it ({@code
 * java -jar}) in a process of its own: its standard output is only the result (JSON that parses, no
 * log line), its logging goes to standard error, and its exit code is the command's. The reactor
 * packages the ops module before this module's tests run.
 */
class CliJarTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  private static Path jar() {
    for (var dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      var candidate = dir.resolve("ops/target/ballast.jar");
      if (Files.exists(dir.resolve("bom"))) {
        assertThat(candidate)
            .as("ops/target/ballast.jar: build the ops module first (./mvnw package)")
            .exists();
        return candidate;
      }
    }
    throw new IllegalStateException("the project root was not found");
  }

  record Run(int exit, String out, String err) {}

  private static Run run(String... args) throws Exception {
    var command = new java.util.ArrayList<String>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-jar");
    command.add(jar().toString());
    command.addAll(java.util.List.of(args));
    var builder = new ProcessBuilder(command);
    builder.environment().keySet().removeIf(k -> k.startsWith("BALLAST_") || k.startsWith("DB_"));
    builder.environment().put("DATABASE_URL", PG.databaseUrl());
    var errFile = Files.createTempFile("ballast-cli", ".err");
    builder.redirectError(errFile.toFile());
    var process = builder.start();
    var out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return new Run(process.exitValue(), out, Files.readString(errFile));
  }

  @Test
  void theJar_printsOnlyJsonOnStandardOutput_andExitsWithTheCommandsCode() throws Exception {
    PG.execute(
        "create table jar_churn (id bigint primary key) with (autovacuum_enabled = false)",
        "insert into jar_churn select generate_series(1, 5000)",
        "delete from jar_churn where id <= 4000");
    var report = run("maintain", "report", "--json");
    assertThat(report.exit()).as(report.err()).isEqualTo(1);
    var json = new ObjectMapper().readTree(report.out());
    assertThat(json.get("findings").toString()).contains("public.jar_churn: 80 % dead rows");

    var health = run("health", "--kind", "live", "--json");
    assertThat(health.exit()).as(health.err()).isZero();
    assertThat(new ObjectMapper().readTree(health.out()).get("status").asText()).isEqualTo("UP");
    assertThat(health.err()).doesNotContain("INFO");

    var usage = run("maintain");
    assertThat(usage.exit()).isEqualTo(2);
    assertThat(usage.out()).isEmpty();
    assertThat(usage.err()).contains("Missing a subcommand");
  }
}
