package io.ballast.ops.cli;

import io.ballast.ops.MaintenanceAction;
import io.ballast.ops.Progress;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/** The {@code --json} option every command that prints results has, and the table printing. */
final class Output {
  @Option(names = "--json", description = "Print the result as JSON (for scripts).")
  boolean json;

  /** Progress lines on standard error: "tables vacuumed 3 of 40". */
  static Progress progress(PrintStream err) {
    return (what, done, total) ->
        err.println(what + " " + done + (total >= 0 ? " of " + total : " so far"));
  }

  /** Actions as a table; returns the exit code (1 when one was not done, dry runs aside). */
  static int actions(BallastCli root, Output output, List<MaintenanceAction> actions) {
    if (output.json) {
      root.json(actions);
    } else if (actions.isEmpty()) {
      root.out().println("nothing to do");
    } else {
      var out = root.out();
      out.printf(
          Locale.ROOT,
          "%-12s %-40s %10s %8s  %s%n",
          "ACTION",
          "OBJECT",
          "ROWS",
          "MS",
          "OUTCOME (REASON)");
      for (var a : actions) {
        out.printf(
            Locale.ROOT,
            "%-12s %-40s %10d %8d  %s (%s)%n",
            a.action(),
            a.object(),
            a.rows(),
            a.millis(),
            a.outcome(),
            a.reason());
      }
    }
    return actions.stream().allMatch(a -> a.done() || a.outcome().equals("dry run"))
        ? BallastCli.OK
        : BallastCli.FINDINGS;
  }
}
