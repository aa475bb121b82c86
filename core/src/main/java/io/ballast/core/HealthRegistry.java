package io.ballast.core;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Every {@link ProbeCheck} the application's modules contributed, keyed by name. Refuses two checks with
 * one name. Thread-safe; checks run on the calling thread.
 */
@Singleton
public final class HealthRegistry {
  private final Map<String, ProbeCheck> checks = new TreeMap<>();

  @Inject
  HealthRegistry(Set<ProbeCheck> contributed) {
    for (var check : contributed) {
      if (checks.putIfAbsent(check.name(), check) != null) {
        throw new IllegalArgumentException("A health check named " + check.name() + " already exists");
      }
    }
  }

  /** The names of all checks, sorted. */
  public Set<String> names() {
    return checks.keySet();
  }

  /** Runs the checks of {@code kind} and the shallower kinds (see {@link ProbeKind}). */
  public HealthReport run(ProbeKind kind) {
    var outcomes = new ArrayList<HealthReport.Check>();
    var healthy = true;
    for (var check : checks.values()) {
      if (!kind.includes(check.kind())) {
        continue;
      }
      var outcome = runOne(check);
      healthy &= outcome.healthy();
      outcomes.add(outcome);
    }
    return new HealthReport(kind, healthy, outcomes);
  }

  private static HealthReport.Check runOne(ProbeCheck check) {
    var start = System.nanoTime();
    ProbeResult result;
    try {
      result = check.check();
      if (result == null) {
        result = ProbeResult.unhealthy("check returned no result");
      }
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      result = ProbeResult.unhealthy(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }
    return new HealthReport.Check(check.name(), check.kind(), result.healthy(), result.message(), result.details(),
        Duration.ofNanos(System.nanoTime() - start));
  }
}
