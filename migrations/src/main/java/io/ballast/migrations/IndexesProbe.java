package io.ballast.migrations;

import io.ballast.core.ProbeCheck;
import io.ballast.core.ProbeKind;
import io.ballast.core.ProbeResult;
import java.util.stream.Collectors;

/** DEEP check {@code indexes}: fails while INVALID indexes exist, naming them. */
final class IndexesProbe implements ProbeCheck {
  private final FlywayMigrations migrations;

  IndexesProbe(FlywayMigrations migrations) {
    this.migrations = migrations;
  }

  @Override
  public String name() {
    return "indexes";
  }

  @Override
  public ProbeKind kind() {
    return ProbeKind.DEEP;
  }

  @Override
  public ProbeResult check() {
    var invalid = migrations.invalidIndexes();
    return invalid.isEmpty()
        ? ProbeResult.healthy("no invalid indexes")
        : ProbeResult.unhealthy(
            "INVALID indexes: "
                + invalid.stream()
                    .map(InvalidIndex::qualifiedName)
                    .collect(Collectors.joining(", "))
                + "; repair with Migrations.repairInvalidIndexes()");
  }
}
