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
 * Runs {@link AuditWriteBenchmark} and reports, per statement shape, the audited table's throughput
 * as a ratio to the unaudited one's (mean of the runs before and after it), to stdout and to {@code
 * -Dballast.report=…}.
 */
public final class AuditReport {
  private AuditReport() {}

  public static void main(String[] args)
      throws RunnerException, IOException, CommandLineOptionException {
    var options =
        new OptionsBuilder()
            .parent(new CommandLineOptions(args))
            .include(AuditWriteBenchmark.class.getSimpleName())
            .build();
    Map<String, double[]> results = new LinkedHashMap<>();
    for (var r : new Runner(options).run()) {
      results.put(
          r.getParams().getParam("op") + "/" + r.getParams().getParam("target"),
          new double[] {r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError()});
    }
    var sb =
        Reports.start(
                "Audited vs unaudited writes",
                "2 threads, pool of 4, through Ballast's DSLContext with the audit module and an acting context in every "
                    + "variant; the hash chain is sealed in the background every second as in production. PostgreSQL on "
                    + "loopback. PLAIN runs before and after AUDITED (A-B-A).")
            .append("| op | table | statements/s | ± (99.9%) |\n|---|---|---:|---:|\n");
    results.forEach(
        (k, s) ->
            sb.append(
                String.format(
                    Locale.ROOT,
                    "| %s | %s | %.0f | %.0f |%n",
                    k.substring(0, k.indexOf('/')),
                    k.substring(k.indexOf('/') + 1),
                    s[0],
                    s[1])));
    sb.append("\n| op | audited / unaudited | target | baseline drift |\n|---|---:|---|---:|\n");
    for (var op : AuditWriteBenchmark.Op.values()) {
      var audited = results.get(op + "/AUDITED");
      var plain = results.get(op + "/PLAIN");
      if (audited == null || plain == null) {
        continue;
      }
      var again = results.get(op + "/PLAIN_AGAIN");
      var base = again == null ? plain[0] : (plain[0] + again[0]) / 2;
      var target = op.name().endsWith("ONE") ? "≥ 0.70" : "≥ 0.50";
      sb.append(
          String.format(
              Locale.ROOT,
              "| %s | %.3f | %s | %s |%n",
              op,
              audited[0] / base,
              target,
              again == null
                  ? "-"
                  : String.format(Locale.ROOT, "%.1f %%", 100 * (again[0] - plain[0]) / plain[0])));
    }
    Reports.finish(sb, AuditReport.class, args);
  }
}
