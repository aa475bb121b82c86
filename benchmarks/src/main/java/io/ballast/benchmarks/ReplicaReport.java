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
 * Runs {@link ReplicaReadBenchmark} and reports routed reads and tracked writes as throughput
 * ratios against the primary from the same run (A-B-A), to stdout and to {@code
 * -Dballast.report=…}.
 */
public final class ReplicaReport {
  private ReplicaReport() {}

  /** Runs the benchmark with the JMH options given and writes the report. */
  public static void main(String[] args)
      throws RunnerException, IOException, CommandLineOptionException {
    var options =
        new OptionsBuilder()
            .parent(new CommandLineOptions(args))
            .include(ReplicaReadBenchmark.class.getSimpleName())
            .build();
    Map<String, double[]> ops = new LinkedHashMap<>();
    for (var r : new Runner(options).run()) {
      ops.put(
          r.getParams().getParam("path"),
          new double[] {r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError()});
    }
    var sb =
        Reports.start(
                "Read replicas: routed reads and read-your-writes tracking vs the primary",
                "2 threads, a primary and a streaming replica from the machine's PostgreSQL on"
                    + " loopback, both on this machine's 2 cores; one-row lookups by key in a 10 000-row"
                    + " table, one-row updates.")
            .append("| path | ops/s | ± (99.9%) |\n|---|---:|---:|\n");
    ops.forEach(
        (path, s) ->
            sb.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f |%n", path, s[0], s[1])));
    sb.append("\n| comparison | throughput ratio | baseline drift |\n|---|---:|---:|\n");
    ratio(
        sb,
        ops,
        "read on the replica (`Replicas.read`) / on the primary",
        "REPLICA",
        "PRIMARY",
        "PRIMARY_AGAIN");
    ratio(
        sb,
        ops,
        "read on the replica with a replayed position / on the primary",
        "REPLICA_WITH_POSITION",
        "PRIMARY",
        "PRIMARY_AGAIN");
    ratio(
        sb,
        ops,
        "write inside a `UnitOfWork` / plain write",
        "WRITE_IN_UNIT",
        "WRITE",
        "WRITE_AGAIN");
    Reports.finish(sb, ReplicaReport.class, args);
  }

  private static void ratio(
      StringBuilder sb,
      Map<String, double[]> ops,
      String label,
      String measured,
      String before,
      String after) {
    if (!ops.containsKey(measured) || !ops.containsKey(before)) {
      return;
    }
    var base =
        ops.containsKey(after) ? (ops.get(before)[0] + ops.get(after)[0]) / 2 : ops.get(before)[0];
    var drift =
        ops.containsKey(after)
            ? String.format(
                Locale.ROOT,
                "%.1f %%",
                100 * Math.abs(ops.get(after)[0] - ops.get(before)[0]) / ops.get(before)[0])
            : "–";
    sb.append(
        String.format(
            Locale.ROOT, "| %s | %.3f | %s |%n", label, ops.get(measured)[0] / base, drift));
  }
}
