package io.ballast.ops.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.ops.cli.BallastCli;
import io.ballast.testkit.PostgresExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code ballast load} against a real PostgreSQL, through Ballast's own pool and monitor. */
class LoadTestTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  @TempDir Path dir;

  private Map<String, String> env(String... pairs) {
    var env = new HashMap<String, String>();
    env.put("DATABASE_URL", PG.databaseUrl());
    for (int i = 0; i < pairs.length; i += 2) {
      env.put(pairs[i], pairs[i + 1]);
    }
    return env;
  }

  @Test
  void load_recordsClientLatencyNextToWhatHappenedInside() throws Exception {
    var options = LoadOptions.of(Profile.LOAD, 40, Duration.ofSeconds(3), dir);
    var result = LoadTest.run(new LookupScenario(), env(), options);

    var s = result.summary();
    assertThat((Long) s.get("requests")).isBetween(115L, 125L);
    assertThat(s.get("completed")).isEqualTo(s.get("requests"));
    assertThat(s.get("errors")).isEqualTo(0L);
    @SuppressWarnings("unchecked")
    var latency = (Map<String, Double>) s.get("latencyMs");
    assertThat(latency.get("p50")).isPositive().isLessThanOrEqualTo(latency.get("p99"));
    assertThat(result.timeline()).hasSizeGreaterThanOrEqualTo(3);
    // the service's side, second by second, from the same JVM
    assertThat(result.timeline()).anySatisfy(t -> assertThat(t.statements()).isPositive());
    assertThat(result.timeline()).anySatisfy(t -> assertThat(t.pools()).containsKey("primary"));
    assertThat(result.patterns())
        .anySatisfy(p -> assertThat(p.get("fingerprint")).isEqualTo("select ? as n"));
    // the default set: the latency and error thresholds hold on loopback; no cache, no hit ratio
    assertThat(result.thresholds())
        .anySatisfy(
            t ->
                assertThat(t)
                    .containsEntry("threshold", "hit_ratio>80%")
                    .containsEntry("note", "not applicable: no cache reads"));
    assertThat(result.passed()).as(result.thresholds().toString()).isTrue();
    var json = Files.readString(dir.resolve("load-report.json"));
    assertThat(json).contains("\"timeline\"").contains("select ? as n");
    var html = Files.readString(dir.resolve("load-report.html"));
    assertThat(html).contains("uPlot").doesNotContain("/*DATA*/").doesNotContain("<script src");
  }

  @Test
  void aStallOnTheServer_showsInTheClientsLatency_openModel() throws Exception {
    // one worker: a closed-model tool would wait for the stalled request and record one slow call;
    // here the requests scheduled meanwhile queue, and their latency counts from their schedule
    var options =
        LoadOptions.of(Profile.LOAD, 50, Duration.ofSeconds(3), dir)
            .withMaxInFlight(1)
            .withThresholds(List.of(Threshold.parse("p90<100ms")));
    var result = LoadTest.run(new LookupScenario(), env("SCENARIO_STALL_AT", "25"), options);

    @SuppressWarnings("unchecked")
    var latency = (Map<String, Double>) result.summary().get("latencyMs");
    assertThat(latency.get("max")).isGreaterThanOrEqualTo(790.0);
    assertThat(latency.get("p90")).as("requests queued behind the stall").isGreaterThan(200.0);
    // the statement itself stayed fast on the server: only the open model sees the queue
    assertThat(result.patterns())
        .anySatisfy(
            p -> {
              assertThat(p.get("fingerprint")).isEqualTo("select ? as n");
              assertThat((Double) p.get("p95")).isLessThan(100.0);
            });
    assertThat(result.passed()).isFalse();
  }

  @Test
  void stress_stepsUpTheRateUntilTheSloBreaks() throws Exception {
    // one connection, each request holding it 20 ms: about 50 requests a second at most
    var options =
        new LoadOptions(
            Profile.STRESS,
            10,
            Duration.ofSeconds(30),
            64,
            15,
            Duration.ofSeconds(2),
            5,
            List.of(Threshold.parse("p95<150ms")),
            dir);
    var started = System.nanoTime();
    var result =
        LoadTest.run(
            new LookupScenario(),
            env("SCENARIO_SLEEP_MS", "20", "DB_CONNECTION_LIMIT", "1"),
            options);

    var held = (Double) result.summary().get("highestRateHeld");
    assertThat(held).isBetween(25.0, 55.0);
    assertThat(result.stages()).last().satisfies(s -> assertThat(s).containsEntry("held", false));
    assertThat(Duration.ofNanos(System.nanoTime() - started))
        .as("stops at the breaking stage, not at the duration")
        .isLessThan(Duration.ofSeconds(28));
  }

  @Test
  void spike_multipliesTheRateInTheMiddleFifth() throws Exception {
    var options =
        new LoadOptions(
            Profile.SPIKE,
            10,
            Duration.ofSeconds(5),
            64,
            10,
            Duration.ofSeconds(10),
            4,
            List.of(Threshold.parse("error_rate<1%")),
            dir);
    var result = LoadTest.run(new LookupScenario(), env(), options);

    var timeline = result.timeline();
    assertThat(timeline.get(0).scheduled()).isBetween(9L, 11L);
    assertThat(timeline.get(2).scheduled()).as("second 2-3 of 5: the spike").isBetween(36L, 42L);
    assertThat(timeline.get(4).scheduled()).isBetween(9L, 11L);
    assertThat(result.passed()).isTrue();
  }

  @Test
  void thresholds_parseAsInK6_andRejectWhatTheyCannotRead() {
    assertThat(Threshold.parse("p95<100ms").limit()).isEqualTo(100.0);
    assertThat(Threshold.parse("p99<=0.5s").limit()).isEqualTo(500.0);
    assertThat(Threshold.parse("error_rate<0.1%").limit()).isEqualTo(0.001);
    assertThat(Threshold.parse("hit_ratio>0.8").holds(0.81)).isTrue();
    assertThat(Threshold.parse("rps>=200").holds(199)).isFalse();
    assertThatThrownBy(() -> Threshold.parse("p95<100"))
        .hasMessageContaining("needs a unit us, ms or s");
    assertThatThrownBy(() -> Threshold.parse("latency<1s"))
        .hasMessageContaining("unknown threshold metric latency");
    assertThatThrownBy(() -> Threshold.parse("p95 about 100ms"))
        .hasMessageContaining("must read <metric><op><value>[unit]");
  }

  @Test
  void cli_exitsOneWhenAThresholdBreaks_andTwoOnBadInput() {
    var scenario = LookupScenario.class.getName();
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    var broken =
        BallastCli.run(
            new String[] {
              "load",
              "--scenario",
              scenario,
              "--rate",
              "20",
              "--duration",
              "2s",
              "--threshold",
              "p95<1us",
              "--out",
              dir.toString()
            },
            env(),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(broken).as(err.toString(StandardCharsets.UTF_8)).isEqualTo(1);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("p95<1us")
        .contains("BROKEN")
        .contains("load-report.html");

    assertThat(cli("load", "--scenario", scenario, "--threshold", "p95<100")).isEqualTo(2);
    assertThat(cli("load", "--scenario", "com.example.Missing")).isEqualTo(2);
    assertThat(cli("load", "--scenario", scenario, "--duration", "soon")).isEqualTo(2);
    assertThat(cli("load", "--scenario", scenario, "--rate", "0", "--duration", "1s")).isEqualTo(2);
  }

  private int cli(String... args) {
    var err = new ByteArrayOutputStream();
    var code =
        BallastCli.run(
            args,
            env(),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(err.toString(StandardCharsets.UTF_8)).isNotBlank();
    return code;
  }
}
