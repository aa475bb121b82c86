package io.ballast.benchmarks;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link CacheReadBenchmark} and reports Ballast's cache reads against raw Caffeine, raw
 * Lettuce and PostgreSQL from the same run, to stdout and to the file named by {@code
 * -Dballast.report=…}.
 */
public final class CacheReport {
  private CacheReport() {}

  public static void main(String[] args)
      throws RunnerException, IOException, CommandLineOptionException {
    var options =
        new OptionsBuilder()
            .parent(new CommandLineOptions(args))
            .include(CacheReadBenchmark.class.getSimpleName())
            .build();
    Map<String, double[]> ns = new LinkedHashMap<>();
    for (var r : new Runner(options).run()) {
      ns.put(
          r.getParams().getParam("path"),
          new double[] {r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError()});
    }
    var sb =
        Reports.start(
                "Cache reads: Ballast vs raw Caffeine, raw Lettuce and PostgreSQL",
                "one thread, Redis and PostgreSQL on loopback, 1 024 keys, a three-field JSON value.")
            .append("| path | ns/op | ± (99.9%) |\n|---|---:|---:|\n");
    ns.forEach(
        (path, s) ->
            sb.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f |%n", path, s[0], s[1])));
    sb.append("\n| comparison | latency ratio | target |\n|---|---:|---|\n");
    abA(
        sb,
        ns,
        "L1 hit / raw Caffeine `getIfPresent`",
        "BALLAST_L1",
        "RAW_CAFFEINE",
        "RAW_CAFFEINE_AGAIN",
        "≤ 1.5");
    abA(
        sb,
        ns,
        "L1 hit / raw Caffeine `getIfPresent` with `recordStats()`",
        "BALLAST_L1",
        "RAW_CAFFEINE_STATS",
        "RAW_CAFFEINE_STATS_AGAIN",
        "≤ 1.5");
    abA(
        sb,
        ns,
        "L2 hit / raw Lettuce `GET` of the same bytes",
        "BALLAST_L2",
        "RAW_LETTUCE",
        "RAW_LETTUCE_AGAIN",
        "≤ 1.15");
    if (ns.containsKey("POSTGRES")) {
      var pg = ns.get("POSTGRES")[0];
      for (var path : new String[] {"BALLAST_L1", "BALLAST_L2"}) {
        if (ns.containsKey(path)) {
          sb.append(
              String.format(
                  Locale.ROOT,
                  "| PostgreSQL read / %s (speed-up) | %.1f× | report |%n",
                  path,
                  pg / ns.get(path)[0]));
        }
      }
    }
    Reports.finish(sb, CacheReport.class, args);
  }

  /** Ballast against the mean of the raw runs before and after it. */
  private static void abA(
      StringBuilder sb,
      Map<String, double[]> ns,
      String label,
      String ballast,
      String before,
      String after,
      String target) {
    if (!ns.containsKey(ballast) || !ns.containsKey(before)) {
      return;
    }
    var base =
        ns.containsKey(after) ? (ns.get(before)[0] + ns.get(after)[0]) / 2 : ns.get(before)[0];
    sb.append(
        String.format(
            Locale.ROOT,
            "| %s | %.3f | %s |%n",
            label,
            ns.get(ballast)[0] / base,
            target + " " + targetNote(ns, before, after)));
  }

  private static String targetNote(Map<String, double[]> ns, String before, String after) {
    if (!ns.containsKey(after)) {
      return "";
    }
    return String.format(
        Locale.ROOT,
        "(baseline drift %.1f %%)",
        100 * Math.abs(ns.get(after)[0] - ns.get(before)[0]) / ns.get(before)[0]);
  }
}
