package io.ballast.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ballast.testkit.Await;
import io.ballast.testkit.LoopbackHttp;
import io.ballast.testkit.RedisExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exported series as a contract, on the demo's own {@code /metrics} (every module, a primary
 * and a streaming replica, Redis): {@code promtool check metrics} from the machine's {@code
 * prometheus} package finds nothing to say; the series, their types and labels are exactly the
 * table in core's README (a renamed series fails here until the table says so); every expression of
 * the shipped alert rules and Grafana dashboard parses ({@code promtool check rules}) and names
 * only series that {@code /metrics} exports.
 */
class MetricsContractTest {
  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();

  private static final Pattern SERIES = Pattern.compile("\\bballast_[a-z0-9_]+");
  private static final Pattern TYPE = Pattern.compile("(?m)^# TYPE (\\S+) (\\S+)$");
  private static final Pattern SAMPLE = Pattern.compile("(?m)^(ballast_[a-z0-9_]+)(?:\\{(.*)})? ");
  private static final Pattern LABEL = Pattern.compile("([a-z_]+)=\"");

  static DemoServers servers;
  static Thread demo;
  static String text;
  static String openMetrics;

  @BeforeAll
  static void scrapeTheDemo() throws Exception {
    servers = DemoServers.start();
    var primary = servers.primary();
    var replica = servers.replica();
    int port;
    try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    var out = new ByteArrayOutputStream();
    var env =
        Map.of(
            "DATABASE_URL",
            primary.databaseUrl("demo"),
            "DATABASE_REPLICA_URLS",
            replica.databaseUrl("demo"),
            "DB_REPLICA_MAX_LAG_MS",
            "60000",
            "DB_REPLICA_MAX_LAG_BYTES",
            "1000000000",
            "BALLAST_ADMIN_PORT",
            Integer.toString(port),
            "REDIS_URL",
            REDIS.url(),
            "CACHE_NAMESPACE",
            REDIS.keyPrefix(),
            "BALLAST_BULKHEAD_ENABLED",
            "true");
    demo =
        new Thread(
            () ->
                Demo.run(
                    new String[] {"demo", "--duration", "6s"},
                    env,
                    new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(out, true, StandardCharsets.UTF_8)));
    demo.start();
    // the demo prints its admin address once every step has run, then serves traffic until the
    // duration ends
    Await.until(
        "the demo has run its steps",
        Duration.ofMinutes(2),
        () -> out.toString(StandardCharsets.UTF_8).contains("Admin server: ") || !demo.isAlive());
    assertThat(out.toString(StandardCharsets.UTF_8))
        .as("the demo's output")
        .contains("Admin server: ");
    var admin = new LoopbackHttp(port, null);
    text = admin.get("/metrics").body();
    openMetrics =
        admin
            .getAccepting("/metrics", "application/openmetrics-text; version=1.0.0; charset=utf-8")
            .body();
  }

  @AfterAll
  static void stop() throws Exception {
    if (demo != null) {
      demo.join(60_000);
    }
    if (servers != null) {
      servers.close();
    }
  }

  @Test
  void promtoolCheckMetrics_findsNothingInTheDemosMetrics(@TempDir Path dir) throws Exception {
    var file = Files.writeString(dir.resolve("metrics.txt"), text);
    var result = promtool(dir, file, "check", "metrics");
    assertThat(result.output()).as("promtool check metrics").isEmpty();
    assertThat(result.exit()).isZero();
  }

  @Test
  void exportedSeries_areExactlyCoresReadmeTable() throws IOException {
    var exported = exported(text);
    var documented = documented();
    assertThat(exported)
        .as(
            "the ballast_* series /metrics exports (name: type [labels]); core/README.md's table"
                + " must list the same")
        .isEqualTo(documented);
    // designed, not converted: real HELP texts, the same on every run
    assertThat(text)
        .doesNotContain("Dropwizard")
        .doesNotContain("$$Lambda")
        .doesNotContainPattern("(?m)^ballast_[a-z0-9_]*[A-Z]");
    for (var name : exported.keySet()) {
      assertThat(text).containsPattern("(?m)^# HELP " + name + " \\S.{10,}$");
    }
  }

  @Test
  void openMetrics_carriesTheSameSeriesWithUnits() {
    assertThat(openMetrics)
        .contains("# UNIT ballast_pool_acquire_seconds seconds")
        .contains("# TYPE ballast_cache_requests counter")
        .contains("ballast_replica_lag_seconds{server=\"replica-1\"}")
        .endsWith("# EOF\n");
  }

  @Test
  void theDemosMetrics_sayWhatItDid() {
    assertThat(text)
        .containsPattern("ballast_query_duration_seconds_count\\{server=\"replica-1\"} [1-9]")
        .containsPattern("ballast_replica_reads_total\\{server=\"replica-1\"} [1-9]")
        .containsPattern(
            "ballast_cache_read_seconds_count\\{level=\"l1\",region=\"customers\"} [1-9]")
        .containsPattern(
            "ballast_cache_read_seconds_count\\{level=\"l2\",region=\"customers\"} [1-9]")
        .containsPattern(
            "ballast_cache_read_seconds_count\\{level=\"load\",region=\"customers\"} [1-9]")
        .containsPattern(
            "ballast_cache_requests_total\\{level=\"l1\",region=\"customers\",result=\"hit\"} [1-9]")
        .containsPattern("ballast_pool_acquire_seconds_count\\{pool=\"primary\"} [1-9]")
        .containsPattern("ballast_breaker_calls_total\\{breaker=\"db\",outcome=\"success\"} [1-9]")
        .containsPattern("ballast_breaker_state\\{breaker=\"db\",state=\"closed\"} 1")
        .containsPattern("ballast_audit_chain_verifications_total\\{result=\"intact\"} [1-9]")
        .contains("ballast_migrations_invalid_indexes 0");
  }

  @Test
  void alertRules_parse_andNameOnlyExportedSeries(@TempDir Path dir) throws Exception {
    var rules = project("ops/monitoring/ballast-alerts.yml");
    var check = promtool(dir, null, "check", "rules", rules.toString());
    assertThat(check.exit()).as(check.output()).isZero();
    var tests =
        promtool(
            dir,
            null,
            "test",
            "rules",
            project("ops/monitoring/ballast-alerts.test.yml").toString());
    assertThat(tests.exit()).as(tests.output()).isZero();
    var content = Files.readString(rules);
    assertThat(unknownSeries(content))
        .as("series the alert rules name that /metrics lacks")
        .isEmpty();
    // every rule has a case that fires in the unit tests
    var alerts = names(content, "(?m)^\\s+- alert: (\\w+)$");
    var tested =
        names(
            Files.readString(project("ops/monitoring/ballast-alerts.test.yml")),
            "(?m)^\\s+alertname: (\\w+)\\n\\s+exp_alerts:\\n\\s+- exp_labels:");
    assertThat(alerts).hasSizeGreaterThan(10).isEqualTo(tested);
    // and a runbook paragraph
    var runbook = Files.readString(project("docs/monitoring.md"));
    for (var alert : alerts) {
      assertThat(runbook).as("docs/monitoring.md's runbook").contains("### " + alert);
    }
  }

  @Test
  void dashboard_queriesParse_andNameOnlyExportedSeries(@TempDir Path dir) throws Exception {
    var dashboard =
        new ObjectMapper().readTree(project("ops/monitoring/ballast-dashboard.json").toFile());
    var expressions = new ArrayList<String>();
    collect(dashboard.get("panels"), expressions);
    assertThat(expressions).hasSizeGreaterThan(20);
    var rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
    for (int i = 0; i < expressions.size(); i++) {
      var expr = expressions.get(i).replace("$__rate_interval", "5m").replace("$instance", ".*");
      rules
          .append("      - record: dashboard:expression_")
          .append(i)
          .append("\n        expr: '")
          .append(expr.replace("'", "''"))
          .append("'\n");
    }
    var file = Files.writeString(dir.resolve("dashboard-rules.yml"), rules);
    var check = promtool(dir, null, "check", "rules", file.toString());
    assertThat(check.exit()).as(rules + check.output()).isZero();
    var all = String.join("\n", expressions);
    for (var variable : dashboard.get("templating").get("list")) {
      if (variable.has("query") && variable.get("query").isTextual()) {
        all += "\n" + variable.get("query").asText();
      }
    }
    assertThat(unknownSeries(all)).as("series the dashboard names that /metrics lacks").isEmpty();
    // the panels the issue asks for are there
    assertThat(all)
        .contains("ballast_query_pattern_duration_seconds")
        .contains("ballast_pool_connections")
        .contains("ballast_cache_read_seconds_bucket")
        .contains("ballast_breaker_state")
        .contains("ballast_replica_lag_seconds")
        .contains("ballast_job_runs_total");
  }

  private static void collect(JsonNode panels, List<String> expressions) {
    for (var panel : panels) {
      if (panel.has("targets")) {
        panel.get("targets").forEach(t -> expressions.add(t.get("expr").asText()));
      }
      if (panel.has("panels")) {
        collect(panel.get("panels"), expressions);
      }
    }
  }

  /** The series named in {@code promql} that {@code /metrics} does not export. */
  private static Set<String> unknownSeries(String promql) {
    var samples = new TreeSet<String>();
    var m = SAMPLE.matcher(text);
    while (m.find()) {
      samples.add(m.group(1));
    }
    var unknown = new TreeSet<String>();
    var names = SERIES.matcher(promql);
    while (names.find()) {
      if (!samples.contains(names.group())) {
        unknown.add(names.group());
      }
    }
    return unknown;
  }

  private static Set<String> names(String content, String regex) {
    var found = new TreeSet<String>();
    var m = Pattern.compile(regex).matcher(content);
    while (m.find()) {
      found.add(m.group(1));
    }
    return found;
  }

  /** {@code name: type [labels]} of every ballast_* family in a text exposition. */
  static Map<String, String> exported(String exposition) {
    var types = new TreeMap<String, String>();
    var m = TYPE.matcher(exposition);
    while (m.find()) {
      if (m.group(1).startsWith("ballast_")) {
        types.put(m.group(1), m.group(2));
      }
    }
    var labels = new TreeMap<String, Set<String>>();
    var s = SAMPLE.matcher(exposition);
    while (s.find()) {
      var family = family(s.group(1), types);
      var set = labels.computeIfAbsent(family, k -> new TreeSet<>());
      if (s.group(2) != null) {
        var l = LABEL.matcher(s.group(2));
        while (l.find()) {
          if (!l.group(1).equals("le") && !l.group(1).equals("quantile")) {
            set.add(l.group(1));
          }
        }
      }
    }
    var result = new TreeMap<String, String>();
    types.forEach(
        (name, type) ->
            result.put(name, type + " " + labels.getOrDefault(name, Set.of()).toString()));
    return result;
  }

  private static String family(String sample, Map<String, String> types) {
    if (types.containsKey(sample)) {
      return sample;
    }
    for (var suffix : List.of("_bucket", "_count", "_sum")) {
      if (sample.endsWith(suffix)
          && types.containsKey(sample.substring(0, sample.length() - suffix.length()))) {
        return sample.substring(0, sample.length() - suffix.length());
      }
    }
    return sample;
  }

  /** The table of core/README.md: {@code | `name` | type | `label`, `label` | meaning |}. */
  static Map<String, String> documented() throws IOException {
    var row = Pattern.compile("(?m)^\\| `(ballast_[a-z0-9_]+)` \\| (\\w+) \\| ([^|]*) \\|");
    var result = new TreeMap<String, String>();
    var m = row.matcher(Files.readString(project("core/README.md")));
    while (m.find()) {
      var labels = new TreeSet<String>();
      var l = Pattern.compile("`([a-z_]+)`").matcher(m.group(3));
      while (l.find()) {
        labels.add(l.group(1));
      }
      result.put(m.group(1), m.group(2) + " " + labels);
    }
    return result;
  }

  record Result(int exit, String output) {}

  /** Runs the machine's promtool (Debian package {@code prometheus}), stdin from {@code input}. */
  private static Result promtool(Path dir, Path input, String... args) throws Exception {
    var command = new ArrayList<String>();
    command.add("promtool");
    command.addAll(List.of(args));
    var builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    if (input != null) {
      builder.redirectInput(input.toFile());
    }
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new IllegalStateException(
          "promtool is not installed: it comes with Debian's prometheus package (apt-get install"
              + " prometheus; scripts/test.sh installs it when run as root)",
          e);
    }
    var output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("promtool finished").isTrue();
    return new Result(process.exitValue(), output.strip());
  }

  /** {@code relative} from the project's root. */
  static Path project(String relative) {
    return ReadmeExampleTest.readme(relative);
  }
}
