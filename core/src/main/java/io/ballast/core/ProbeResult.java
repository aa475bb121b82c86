package io.ballast.core;

import java.util.Map;
import java.util.Objects;

/**
 * The outcome of one {@link ProbeCheck}.
 *
 * @param healthy whether the check passed
 * @param message a short reason, always set on failure ("connection refused to 127.0.0.1:5432")
 * @param details extra figures for the report, e.g. pool counts; never secrets
 */
public record ProbeResult(boolean healthy, String message, Map<String, Object> details) {
  public ProbeResult {
    Objects.requireNonNull(message, "message");
    details = Map.copyOf(details);
  }

  public static ProbeResult healthy(String message) {
    return new ProbeResult(true, message, Map.of());
  }

  public static ProbeResult healthy(String message, Map<String, Object> details) {
    return new ProbeResult(true, message, details);
  }

  public static ProbeResult unhealthy(String message) {
    return new ProbeResult(false, message, Map.of());
  }

  public static ProbeResult unhealthy(String message, Map<String, Object> details) {
    return new ProbeResult(false, message, details);
  }
}
