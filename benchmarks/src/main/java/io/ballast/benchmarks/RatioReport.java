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
 * Runs {@link PrimaryKeyLookupBenchmark} for every variant in one run and prints, and writes to the file
 * named by {@code -Dballast.report=…} (if set), each variant's throughput as a ratio to raw JDBC and
 * Ballast's as a ratio to plain jOOQ.
 *
 * <pre>
 * java -Dballast.report=benchmarks/results/pk-lookup.md -cp benchmarks/target/benchmarks.jar \
 *     io.ballast.benchmarks.RatioReport [JMH options, e.g. -wi 3 -i 5 -f 1]
 * </pre>
 */
public final class RatioReport {
  private RatioReport() {}

  public static void main(String[] args) throws RunnerException, IOException, org.openjdk.jmh.runner.options.CommandLineOptionException {
    var cli = new CommandLineOptions(args);
    var options = new OptionsBuilder().parent(cli).include(PrimaryKeyLookupBenchmark.class.getSimpleName()).build();
    var scores = new EnumMap<PrimaryKeyLookupBenchmark.Impl, double[]>(PrimaryKeyLookupBenchmark.Impl.class);
    for (RunResult r : new Runner(options).run()) {
      var impl = PrimaryKeyLookupBenchmark.Impl.valueOf(r.getParams().getParam("impl"));
      var primary = r.getPrimaryResult();
      scores.put(impl, new double[] {primary.getScore(), primary.getScoreError()});
    }
    var raw = scores.get(PrimaryKeyLookupBenchmark.Impl.RAW_JDBC)[0];
    var jooqBefore = scores.get(PrimaryKeyLookupBenchmark.Impl.PLAIN_JOOQ)[0];
    var jooqAfter = scores.containsKey(PrimaryKeyLookupBenchmark.Impl.PLAIN_JOOQ_AGAIN)
        ? scores.get(PrimaryKeyLookupBenchmark.Impl.PLAIN_JOOQ_AGAIN)[0] : jooqBefore;
    var jooq = (jooqBefore + jooqAfter) / 2;
    var sb = Reports.start("Primary-key lookups: Ballast vs plain jOOQ vs raw JDBC",
        "4 threads, HikariCP pool of 8, 100 000-row table, PostgreSQL on loopback. Ballast runs with its query"
            + " monitor and query timeouts on. PLAIN_JOOQ runs again after BALLAST (A-B-A) so that drift over the"
            + " run cancels out of the Ballast / plain jOOQ ratio.")
        .append("| variant | ops/s | ± (99.9%) | ratio to raw JDBC |\n|---|---:|---:|---:|\n");
    scores.forEach((impl, s) -> sb.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.3f |%n", impl, s[0], s[1],
        s[0] / raw)));
    var ballast = scores.get(PrimaryKeyLookupBenchmark.Impl.BALLAST)[0];
    sb.append(String.format(Locale.ROOT, "%nBallast / plain jOOQ (mean of the runs before and after): %.3f"
        + " (Ballast's own layers cost %.1f %%). Drift between the two plain jOOQ runs: %.1f %%.%n",
        ballast / jooq, 100 * (1 - ballast / jooq), 100 * (jooqAfter - jooqBefore) / jooqBefore));
    Reports.finish(sb, RatioReport.class, args);
  }
}
