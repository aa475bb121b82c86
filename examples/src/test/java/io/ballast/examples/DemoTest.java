package io.ballast.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.testkit.PostgresExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class DemoTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(Map<String, String> env, String... args) {
    return Demo.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void demo_onDatabaseUrl_createsTheSchemaRunsQueriesAndStopsAfterTheDuration() throws SQLException {
    var code = run(Map.of("DATABASE_URL", PG.databaseUrl()), "demo", "--duration", "300ms");
    var text = out.toString(StandardCharsets.UTF_8);
    assertThat(code).as(text + err).isZero();
    assertThat(text)
        .contains("Created schema: customers (1000 rows), orders (20000 rows)")
        .contains("Lookup by key: customer 42 is 'customer 42'")
        .contains("Top customers by spend:")
        .contains("Readiness: READY [db=up]")
        .contains("Stopped cleanly.")
        .doesNotContain("DATABASE_URL is not set");
    try (var c = PG.connect(); var s = c.createStatement();
         var rs = s.executeQuery("select count(*) from orders where customer_id = 42 and total = 19.99")) {
      rs.next();
      assertThat(rs.getLong(1)).isPositive();
    }

    out.reset();
    assertThat(run(Map.of("DATABASE_URL", PG.databaseUrl()), "demo", "--duration", "0")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("Schema present: customers (1000 rows)");
  }

  @Test
  void demo_withoutDatabaseUrl_usesTheEmbeddedServer() {
    var code = run(Map.of(), "demo", "--duration", "0s");
    var text = out.toString(StandardCharsets.UTF_8);
    assertThat(code).as(text + err).isZero();
    assertThat(text).contains("DATABASE_URL is not set: starting an embedded PostgreSQL 16")
        .contains("/ballast_demo").contains("Stopped cleanly.");
  }

  @Test
  void badArguments_printUsageAndExitTwo() {
    assertThat(run(Map.of(), "serve")).isEqualTo(2);
    assertThat(run(Map.of(), "demo", "--duration", "soon")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains(Demo.USAGE)
        .contains("--duration must be a whole number with an optional unit ms, s, m or h, but was soon");
  }

  @Test
  void badSetting_isReportedWithoutAStackTrace() {
    assertThat(run(Map.of("DATABASE_URL", "postgresql://u:secret@h/d?connection_limit=-5"), "demo")).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("Bad setting: connection_limit must be between 1 and"
        + " 1000, but was -5 (from DATABASE_URL)" + System.lineSeparator());
  }

  @Test
  void parseDuration_acceptsUnits() {
    assertThat(Demo.parseDuration("1500ms")).isEqualTo(Duration.ofMillis(1500));
    assertThat(Demo.parseDuration("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(Demo.parseDuration("7")).isEqualTo(Duration.ofSeconds(7));
    assertThat(Demo.parseDuration("-1s")).isNull();
  }
}
