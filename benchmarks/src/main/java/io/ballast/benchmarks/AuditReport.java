package io.ballast.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
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
      throws RunnerException, IOException, CommandLineOptionException, java.sql.SQLException {
    var options =
        new OptionsBuilder()
            .parent(new CommandLineOptions(args))
            .include(AuditWriteBenchmark.class.getSimpleName())
            .include(AuditLookupBenchmark.class.getSimpleName())
            .build();
    Files.deleteIfExists(AuditWriteBenchmark.BACKLOG);
    Map<String, double[]> results = new LinkedHashMap<>();
    Map<String, double[]> lookups = new LinkedHashMap<>();
    for (var r : new Runner(options).run()) {
      if (r.getParams().getBenchmark().endsWith("firstPage")) {
        lookups.put(
            r.getParams().getParam("key"),
            new double[] {r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError()});
        continue;
      }
      results.put(
          r.getParams().getParam("op") + "/" + r.getParams().getParam("target"),
          new double[] {r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError()});
    }
    var sb =
        Reports.start(
                "Audited vs unaudited writes",
                "2 threads, pool of 4, through Ballast's DSLContext with the audit module and an acting context in every "
                    + "variant; the hash chain is sealed in the background every second as in production. PostgreSQL on "
                    + "loopback. PLAIN runs before and after AUDITED and ROW_TRIGGER (A-B-A); ROW_TRIGGER is the same table "
                    + "audited the way supa_audit does it (a row-level trigger, one audit row per changed row).")
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
    sb.append(
        "\n| op | audited / unaudited | target | row trigger / unaudited | audited / row trigger |"
            + " baseline drift |\n|---|---:|---|---:|---:|---:|\n");
    for (var op : AuditWriteBenchmark.Op.values()) {
      var audited = results.get(op + "/AUDITED");
      var plain = results.get(op + "/PLAIN");
      if (audited == null || plain == null) {
        continue;
      }
      var again = results.get(op + "/PLAIN_AGAIN");
      var base = again == null ? plain[0] : (plain[0] + again[0]) / 2;
      var target = op.name().endsWith("ONE") ? "≥ 0.80" : "≥ 0.50";
      var row = results.get(op + "/ROW_TRIGGER");
      sb.append(
          String.format(
              Locale.ROOT,
              "| %s | %.3f | %s | %s | %s | %s |%n",
              op,
              audited[0] / base,
              target,
              row == null ? "-" : String.format(Locale.ROOT, "%.3f", row[0] / base),
              row == null ? "-" : String.format(Locale.ROOT, "%.1f×", audited[0] / row[0]),
              again == null
                  ? "-"
                  : String.format(Locale.ROOT, "%.1f %%", 100 * (again[0] - plain[0]) / plain[0])));
    }
    if (!lookups.isEmpty()) {
      sb.append(
              String.format(
                  Locale.ROOT,
                  "%nRecord lookup: the first page (20 entries) of one record's trail among %,d audited"
                      + " rows written in 1 000-row statements (AuditLookupBenchmark, 1 thread):%n%n",
                  AuditLookupBenchmark.ROWS))
          .append("| record | ms per page | ± (99.9%) | target |\n|---|---:|---:|---|\n");
      lookups.forEach(
          (k, v) ->
              sb.append(
                  String.format(
                      Locale.ROOT,
                      "| %s | %.2f | %.2f | %s |%n",
                      k.equals("HOT")
                          ? "changed by 201 bulk statements"
                          : "written by one bulk statement",
                      v[0],
                      v[1],
                      k.equals("HOT") ? "-" : "< 5 ms")));
      BenchDatabase.dropNamed(AuditLookupBenchmark.DATABASE_PREFIX);
    }
    if (Files.exists(AuditWriteBenchmark.BACKLOG)) {
      sb.append(
          "\nSealing backlog at the end of each audited trial (rows written in the trial's last"
              + " moments and not yet sealed, of all rows audited in the trial):\n\n"
              + "| op | unsealed rows | audited rows |\n|---|---:|---:|\n");
      for (var line : Files.readAllLines(AuditWriteBenchmark.BACKLOG)) {
        var f = line.split(" ", -1);
        sb.append("| ")
            .append(f[0])
            .append(" | ")
            .append(f[1])
            .append(" | ")
            .append(f[2])
            .append(" |\n");
      }
    }
    Reports.finish(sb, AuditReport.class, args);
  }
}
