package io.ballast.core;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The outcome of running the checks of a {@link ProbeKind}: healthy only when every check passed.
 *
 * @param kind    the kind of report
 * @param healthy whether every check passed
 * @param checks  each check's outcome, in name order
 */
public record HealthReport(ProbeKind kind, boolean healthy, List<Check> checks) {
  public HealthReport {
    checks = List.copyOf(checks);
  }

  /** The outcome of the check called {@code name}, if it ran. */
  public Optional<Check> check(String name) {
    return checks.stream().filter(c -> c.name().equals(name)).findFirst();
  }

  /**
   * One check's outcome.
   *
   * @param name     the check's name
   * @param kind     the check's kind
   * @param healthy  whether it passed
   * @param message  its reason
   * @param details  its figures
   * @param duration how long it took
   */
  public record Check(String name, ProbeKind kind, boolean healthy, String message, Map<String, Object> details,
      Duration duration) {
    public Check {
      details = Map.copyOf(details);
    }
  }
}
