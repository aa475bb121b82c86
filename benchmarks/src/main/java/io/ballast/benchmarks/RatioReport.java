package io.ballast.benchmarks;

import java.io.IOException;
import java.util.EnumMap;
import java.util.Locale;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link PrimaryKeyLookupBenchmark} for every variant in one run and prints, and writes to the
 * file named by {@code -Dballast.report=…} (if set), each variant's throughput as a ratio to raw
 * JDBC and Ballast's as a ratio to plain jOOQ.
 *
 * <pre>
 * java -Dballast.report=benchmarks/results/pk-lookup.md -cp benchmarks/target/benchmarks.jar \
 *     io.ballast.benchmarks.RatioReport [JMH options, e.g. -wi 3 -i 5 -f 1]
 * </pre>
 */
public final class RatioReport {
  private RatioReport() {}

  public static void main(String[] args)
      throws RunnerException,
          IOException,
          org.openjdk.jmh.runner.options.CommandLineOptionException {
    var cli = new CommandLineOptions(args);
    var options =
        new OptionsBuilder()
            .parent(cli)
            .include(PrimaryKeyLookupBenchmark.class.getSimpleName())
            .build();
    var scores =
        new EnumMap<PrimaryKeyLookupBenchmark.Impl, double[]>(PrimaryKeyLookupBenchmark.Impl.class);
    for (RunResult r : new Runner(options).run()) {
      var impl = PrimaryKeyLookupBenchmark.Impl.valueOf(r.getParams().getParam("impl"));
      var primary = r.getPrimaryResult();
      scores.put(impl, new double[] {primary.getScore(), primary.getScoreError()});
    }
    var sb =
        Reports.start(
                "Primary-key lookups: Ballast vs plain jOOQ vs raw JDBC",
                "4 threads, HikariCP pool of 8, 100 000-row table, PostgreSQL on loopback. Ballast runs with its query"
                    + " monitor and query timeouts on. PLAIN_JOOQ runs again after BALLAST, and BALLAST again after"
                    + " BALLAST_RESILIENCE (A-B-A), so that drift over the run cancels out of the ratios.")
            .append("| variant | ops/s | ± (99.9%) | ratio to raw JDBC |\n|---|---:|---:|---:|\n");
    var raw = score(scores, PrimaryKeyLookupBenchmark.Impl.RAW_JDBC);
    scores.forEach(
        (impl, s) ->
            sb.append(
                String.format(
                    Locale.ROOT,
                    "| %s | %.0f | %.0f | %s |%n",
                    impl,
                    s[0],
                    s[1],
                    Double.isNaN(raw) ? "-" : String.format(Locale.ROOT, "%.3f", s[0] / raw))));
    abA(
        sb,
        scores,
        "Ballast / plain jOOQ",
        PrimaryKeyLookupBenchmark.Impl.BALLAST,
        PrimaryKeyLookupBenchmark.Impl.PLAIN_JOOQ,
        PrimaryKeyLookupBenchmark.Impl.PLAIN_JOOQ_AGAIN,
        "Ballast's own layers");
    abA(
        sb,
        scores,
        "Ballast with resilience / Ballast",
        PrimaryKeyLookupBenchmark.Impl.BALLAST_RESILIENCE,
        PrimaryKeyLookupBenchmark.Impl.BALLAST,
        PrimaryKeyLookupBenchmark.Impl.BALLAST_AGAIN,
        "the breaker and classification (target ≤ 3 %)");
    Reports.finish(sb, RatioReport.class, args);
  }

  private static double score(
      EnumMap<PrimaryKeyLookupBenchmark.Impl, double[]> scores,
      PrimaryKeyLookupBenchmark.Impl impl) {
    return scores.containsKey(impl) ? scores.get(impl)[0] : Double.NaN;
  }

  /** {@code subject} against the mean of the baseline runs before and after it, when they ran. */
  private static void abA(
      StringBuilder sb,
      EnumMap<PrimaryKeyLookupBenchmark.Impl, double[]> scores,
      String label,
      PrimaryKeyLookupBenchmark.Impl subject,
      PrimaryKeyLookupBenchmark.Impl before,
      PrimaryKeyLookupBenchmark.Impl after,
      String cost) {
    if (!scores.containsKey(subject) || !scores.containsKey(before)) {
      return;
    }
    var b = score(scores, before);
    var a = scores.containsKey(after) ? score(scores, after) : b;
    var base = (a + b) / 2;
    var x = score(scores, subject);
    sb.append(
        String.format(
            Locale.ROOT,
            "%n%s (mean of the runs before and after): %.3f (%s cost %.1f %%)."
                + " Drift between the two baseline runs: %.1f %%.%n",
            label,
            x / base,
            cost,
            100 * (1 - x / base),
            100 * (a - b) / b));
  }
}
