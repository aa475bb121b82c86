package io.ballast.core;

import java.util.Map;
import java.util.Objects;

/**
 * The outcome of one {@link ProbeCheck}.
 *
 * @param status up, degraded (still serving, with less) or down
 * @param message a short reason, always set on failure ("connection refused to 127.0.0.1:5432")
 * @param details extra figures for the report, e.g. pool counts; never secrets
 */
public record ProbeResult(ProbeStatus status, String message, Map<String, Object> details) {
  /** Checks that {@code status} and {@code message} are set; copies {@code details}. */
  public ProbeResult {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(message, "message");
    details = Map.copyOf(details);
  }

  /** Whether the check passed: {@link ProbeStatus#UP} or {@link ProbeStatus#DEGRADED}. */
  public boolean healthy() {
    return status.healthy();
  }

  /** A passing result. */
  public static ProbeResult healthy(String message) {
    return new ProbeResult(ProbeStatus.UP, message, Map.of());
  }

  /** A passing result with figures. */
  public static ProbeResult healthy(String message, Map<String, Object> details) {
    return new ProbeResult(ProbeStatus.UP, message, details);
  }

  /** Still serving, with less: counts as healthy, reported as {@code DEGRADED}. */
  public static ProbeResult degraded(String message, Map<String, Object> details) {
    return new ProbeResult(ProbeStatus.DEGRADED, message, details);
  }

  /** A failing result; {@code message} says why. */
  public static ProbeResult unhealthy(String message) {
    return new ProbeResult(ProbeStatus.DOWN, message, Map.of());
  }

  /** A failing result with figures; {@code message} says why. */
  public static ProbeResult unhealthy(String message, Map<String, Object> details) {
    return new ProbeResult(ProbeStatus.DOWN, message, details);
  }
}
