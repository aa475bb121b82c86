package io.ballast.resilience;

import io.ballast.core.ProbeResult;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.util.LinkedHashMap;
import java.util.Map;

/** Readiness from the breakers' states. */
final class BreakerChecks {
  private BreakerChecks() {}

  /**
   * {@code db.breaker}: down while open (the service cannot serve), degraded while trying again.
   */
  static ProbeResult database(DatabaseGuard guard) {
    var breaker = guard.breaker();
    var details = details(breaker);
    if (guard.retryAt() != null) {
      details.put("retryAt", guard.retryAt().toString());
    }
    if (guard.lastFailure() != null) {
      details.put("lastFailure", guard.lastFailure());
    }
    if (guard.bulkhead() != null) {
      var m = guard.bulkhead().getMetrics();
      details.put("bulkheadAvailable", m.getAvailableConcurrentCalls());
      details.put("bulkheadMax", m.getMaxAllowedConcurrentCalls());
    }
    return switch (breaker.getState()) {
      case CLOSED, DISABLED, METRICS_ONLY ->
          ProbeResult.healthy("database breaker CLOSED", details);
      case HALF_OPEN ->
          ProbeResult.degraded("database breaker HALF_OPEN: trial calls decide", details);
      default ->
          ProbeResult.unhealthy(
              "database breaker "
                  + breaker.getState()
                  + ": calls fail at once"
                  + (guard.retryAt() == null ? "" : " until " + guard.retryAt()),
              details);
    };
  }

  private static Map<String, Object> details(CircuitBreaker breaker) {
    var m = breaker.getMetrics();
    var details = new LinkedHashMap<String, Object>();
    details.put("state", breaker.getState().name());
    details.put("bufferedCalls", m.getNumberOfBufferedCalls());
    details.put("failedCalls", m.getNumberOfFailedCalls());
    details.put("notPermittedCalls", m.getNumberOfNotPermittedCalls());
    return details;
  }
}
