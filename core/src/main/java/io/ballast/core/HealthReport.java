package io.ballast.core;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The outcome of running the checks of a {@link ProbeKind}: its status is the worst of its checks',
 * so it is healthy only when no check is down, and degraded when one is degraded.
 *
 * @param kind the kind of report
 * @param status the worst status among the checks ({@link ProbeStatus#UP} when there are none)
 * @param checks each check's outcome, in name order
 */
public record HealthReport(ProbeKind kind, ProbeStatus status, List<Check> checks) {
  /** Copies {@code checks}. */
  public HealthReport {
    checks = List.copyOf(checks);
  }

  /** Whether no check is down. */
  public boolean healthy() {
    return status.healthy();
  }

  /** The outcome of the check called {@code name}, if it ran. */
  public Optional<Check> check(String name) {
    return checks.stream().filter(c -> c.name().equals(name)).findFirst();
  }

  /**
   * One check's outcome.
   *
   * @param name the check's name
   * @param kind the check's kind
   * @param status up, degraded or down
   * @param message its reason
   * @param details its figures
   * @param duration how long it took
   */
  public record Check(
      String name,
      ProbeKind kind,
      ProbeStatus status,
      String message,
      Map<String, Object> details,
      Duration duration) {
    /** Copies {@code details}. */
    public Check {
      details = Map.copyOf(details);
    }

    /** Whether it passed (up or degraded). */
    public boolean healthy() {
      return status.healthy();
    }
  }
}
