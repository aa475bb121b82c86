package io.ballast.ops.cli;

import io.ballast.core.HealthRegistry;
import io.ballast.core.ProbeKind;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ballast health}: the health checks of core and the pool, as the admin server runs them;
 * with {@code --kind deep}, also those of the ops module (jobs, backups, pgBackRest).
 */
@Command(
    name = "health",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the health checks of a kind against the database (deep ones write a row and roll it"
          + " back).",
      "Exits 1 when a check is down."
    })
final class HealthCommand implements Callable<Integer> {
  @ParentCommand BallastCli root;
  @Mixin Output output;

  @Option(
      names = "--kind",
      defaultValue = "READY",
      description = "live, ready or deep (default: ${DEFAULT-VALUE}).",
      converter = KindConverter.class)
  ProbeKind kind;

  @Override
  public Integer call() {
    // deep checks include the ops module's: jobs, backups, pgBackRest
    try (var app = kind == ProbeKind.DEEP ? root.startOps() : root.start()) {
      var report = app.get(HealthRegistry.class).run(kind);
      if (output.json) {
        root.json(report);
      } else {
        root.out().println(kind.name().toLowerCase(Locale.ROOT) + ": " + report.status());
        for (var check : report.checks()) {
          root.out()
              .printf(
                  Locale.ROOT,
                  "  %-16s %-9s %5d ms  %s%n",
                  check.name(),
                  check.status(),
                  check.duration().toMillis(),
                  check.message());
        }
      }
      return report.healthy() ? BallastCli.OK : BallastCli.FINDINGS;
    }
  }

  /** live, ready or deep, in any case. */
  static final class KindConverter implements picocli.CommandLine.ITypeConverter<ProbeKind> {
    @Override
    public ProbeKind convert(String value) {
      try {
        return ProbeKind.valueOf(value.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.TypeConversionException(
            "must be live, ready or deep, but was '" + value + "'");
      }
    }
  }
}
