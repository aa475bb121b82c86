package io.ballast.benchmarks;

import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link DataAccessBenchmark} and reports each Ballast helper against its naive counterpart
 * from the same run, to stdout and to the file named by {@code -Dballast.report=…}.
 */
public final class DataAccessReport {
  private DataAccessReport() {}

  public static void main(String[] args)
      throws RunnerException, IOException, CommandLineOptionException {
    var options =
        new OptionsBuilder()
            .parent(new CommandLineOptions(args))
            .include(DataAccessBenchmark.class.getSimpleName())
            .build();
    var ms = new TreeMap<String, double[]>();
    for (var r : new Runner(options).run()) {
      var label = r.getParams().getBenchmark();
      ms.put(
          label.substring(label.lastIndexOf('.') + 1),
          new double[] {r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError()});
    }
    var sb =
        Reports.start(
                "Data-access patterns: Ballast's helpers vs the naive way",
                "one thread, PostgreSQL on loopback, a 1 000 100-row table.")
            .append("| benchmark | ms/op | ± (99.9%) |\n|---|---:|---:|\n");
    ms.forEach(
        (name, s) ->
            sb.append(String.format(Locale.ROOT, "| %s | %.3f | %.3f |%n", name, s[0], s[1])));
    sb.append("\n| comparison | ratio | target |\n|---|---:|---|\n");
    ratio(
        sb,
        ms,
        "keyset page at depth 1 000 000 / first page",
        "pageKeysetDeep",
        "pageFirst",
        "≤ 2");
    ratio(
        sb,
        ms,
        "OFFSET page at depth 1 000 000 / keyset page there",
        "pageOffsetDeep",
        "pageKeysetDeep",
        "");
    ratio(
        sb,
        ms,
        "row-by-row find-then-write / batch upsert (1 000 rows)",
        "upsertRowByRow",
        "upsertBatch",
        "≥ 20");
    ratio(sb, ms, "one query per id / batch loader (100 ids)", "loadPerId", "loadBatch", "");
    Reports.finish(sb, DataAccessReport.class, args);
  }

  private static void ratio(
      StringBuilder sb, Map<String, double[]> ms, String label, String a, String b, String target) {
    if (ms.containsKey(a) && ms.containsKey(b)) {
      sb.append(
          String.format(
              Locale.ROOT, "| %s | %.2f | %s |%n", label, ms.get(a)[0] / ms.get(b)[0], target));
    }
  }
}
