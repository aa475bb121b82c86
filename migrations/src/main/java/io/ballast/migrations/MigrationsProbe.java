package io.ballast.migrations;

import io.ballast.core.ProbeCheck;
import io.ballast.core.ProbeKind;
import io.ballast.core.ProbeResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.stream.Collectors;

/**
 * READY check {@code migrations}: not ready while any set has pending or failed migrations; says
 * which.
 */
final class MigrationsProbe implements ProbeCheck {
  private final FlywayMigrations migrations;

  MigrationsProbe(FlywayMigrations migrations) {
    this.migrations = migrations;
  }

  @Override
  public String name() {
    return "migrations";
  }

  @Override
  public ProbeKind kind() {
    return ProbeKind.READY;
  }

  @Override
  public ProbeResult check() {
    var problems = new ArrayList<String>();
    var details = new LinkedHashMap<String, Object>();
    for (var status : migrations.status()) {
      details.put(
          status.set(),
          status.applied().size()
              + " applied, "
              + status.pending().size()
              + " pending, "
              + status.failed().size()
              + " failed");
      if (!status.failed().isEmpty()) {
        problems.add(
            status.set()
                + " failed: "
                + status.failed().stream()
                    .map(MigrationStatus.Entry::label)
                    .collect(Collectors.joining(", ")));
      }
      if (!status.pending().isEmpty()) {
        problems.add(
            status.set()
                + " pending: "
                + status.pending().stream()
                    .map(MigrationStatus.Entry::label)
                    .collect(Collectors.joining(", ")));
      }
    }
    return problems.isEmpty()
        ? ProbeResult.healthy("up to date", details)
        : ProbeResult.unhealthy(String.join("; ", problems), details);
  }
}
