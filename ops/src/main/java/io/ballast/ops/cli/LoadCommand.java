package io.ballast.ops.cli;

import io.ballast.ops.load.LoadOptions;
import io.ballast.ops.load.LoadResult;
import io.ballast.ops.load.LoadTest;
import io.ballast.ops.load.Profile;
import io.ballast.ops.load.Scenario;
import io.ballast.ops.load.Threshold;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ballast load}: a load test of a {@link Scenario} (the service's own database and cache
 * paths, in this JVM) in the open model, with an HTML and JSON report; exits 1 when a threshold
 * breaks.
 */
@Command(
    name = "load",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a scenario (a class implementing io.ballast.ops.load.Scenario, on the class path) at a"
          + " constant arrival rate (open model: latency counts from each request's scheduled"
          + " start), and writes load-report.html and load-report.json.",
      "Exits 1 when a threshold breaks (defaults: p50<20ms p95<100ms p99<500ms error_rate<0.1%"
          + " hit_ratio>80%)."
    })
final class LoadCommand implements Callable<Integer> {
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

  @ParentCommand BallastCli root;
  @Mixin Output output;

  @Option(
      names = "--scenario",
      required = true,
      paramLabel = "CLASS",
      description = "The scenario's class name, with a public no-argument constructor.")
  String scenario;

  @Option(
      names = "--profile",
      defaultValue = "load",
      description = "load, stress, spike or soak (default: ${DEFAULT-VALUE}).")
  Profile profile;

  @Option(
      names = "--rate",
      defaultValue = "50",
      description = "Requests per second (stress: the first stage's) (default: ${DEFAULT-VALUE}).")
  double rate;

  @Option(
      names = "--duration",
      description = "How long, e.g. 90s, 10m (default: 60s; soak: 30m; at most 24h).")
  String duration;

  @Option(
      names = "--max-in-flight",
      defaultValue = "64",
      description = "Requests executing at once; later ones queue (default: ${DEFAULT-VALUE}).")
  int maxInFlight;

  @Option(names = "--step", description = "stress: the rate added per stage (default: --rate).")
  Double step;

  @Option(
      names = "--stage",
      defaultValue = "10s",
      description = "stress: each stage's length (default: ${DEFAULT-VALUE}).")
  String stage;

  @Option(
      names = "--spike-factor",
      defaultValue = "5",
      description = "spike: how many times the rate (default: ${DEFAULT-VALUE}).")
  double spikeFactor;

  @Option(
      names = "--threshold",
      paramLabel = "EXPR",
      description =
          "A pass/fail condition, repeatable, replacing the defaults: p95<100ms, error_rate<0.1%,"
              + " hit_ratio>80%, rps>=200.")
  List<String> thresholds = new ArrayList<>();

  @Option(
      names = "--out",
      defaultValue = "ballast-load",
      description = "The report's directory (default: ${DEFAULT-VALUE}).")
  Path out;

  @Override
  public Integer call() throws Exception {
    var length =
        duration == null
            ? (profile == Profile.SOAK ? Duration.ofMinutes(30) : Duration.ofSeconds(60))
            : duration("--duration", duration);
    var judged =
        thresholds.isEmpty()
            ? Threshold.DEFAULTS
            : thresholds.stream().map(Threshold::parse).toList();
    var options =
        new LoadOptions(
            profile,
            rate,
            length,
            maxInFlight,
            step == null ? rate : step,
            duration("--stage", stage),
            spikeFactor,
            judged,
            out);
    var result = LoadTest.run(instantiate(scenario), root.env(), options);
    if (output.json) {
      root.json(result.summary());
    } else {
      print(result);
    }
    return result.passed() ? BallastCli.OK : BallastCli.FINDINGS;
  }

  private void print(LoadResult result) {
    var o = root.out();
    var s = result.summary();
    o.printf(
        Locale.ROOT,
        "%s, profile %s: %s requests, %.1f/s completed, %s errors, %s dropped%n",
        result.scenario(),
        result.options().profile().name().toLowerCase(Locale.ROOT),
        s.get("requests"),
        (Double) s.get("achievedRate"),
        s.get("errors"),
        s.get("dropped"));
    o.println("latency (ms, from the scheduled start): " + s.get("latencyMs"));
    if (s.get("cacheHitRatio") != null) {
      o.printf(Locale.ROOT, "cache hit ratio: %.1f %%%n", 100 * (Double) s.get("cacheHitRatio"));
    }
    if (s.containsKey("highestRateHeld")) {
      o.println("highest rate held: " + s.get("highestRateHeld"));
    }
    for (var t : result.thresholds()) {
      o.printf(
          Locale.ROOT,
          "  %-18s %-8s actual %s%n",
          t.get("threshold"),
          Boolean.TRUE.equals(t.get("passed")) ? "held" : "BROKEN",
          t.get("actual"));
    }
    o.println("report: " + out.resolve("load-report.html").toAbsolutePath());
  }

  static Duration duration(String option, String raw) {
    var m = DURATION.matcher(raw.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          option + " must be a whole number with a unit ms, s, m or h (90s, 10m), but was " + raw);
    }
    var n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofSeconds(n);
    };
  }

  static Scenario instantiate(String className) {
    Class<?> type;
    try {
      type = Class.forName(className);
    } catch (ClassNotFoundException e) {
      throw new IllegalArgumentException(
          "--scenario " + className + " is not on the class path", e);
    }
    if (!Scenario.class.isAssignableFrom(type)) {
      throw new IllegalArgumentException(
          "--scenario " + className + " does not implement " + Scenario.class.getName());
    }
    try {
      return (Scenario) type.getConstructor().newInstance();
    } catch (ReflectiveOperationException e) {
      throw new IllegalArgumentException(
          "--scenario " + className + " needs a public no-argument constructor", e);
    }
  }
}
