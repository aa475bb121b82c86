package io.ballast.core;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Every {@link ProbeCheck} the application's modules contributed, keyed by name. Refuses two checks
 * with one name. Checks of a report run in parallel, each with a time limit ({@link
 * CoreSettings#healthCheckTimeout()}), so a hung database makes its check fail rather than hang the
 * probe. Thread-safe.
 */
@Singleton
public final class HealthRegistry {
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final Map<String, ProbeCheck> checks = new TreeMap<>();
  private final Duration timeout;
  private final ExecutorService executor =
      Executors.newCachedThreadPool(
          r -> {
            var t = new Thread(r, "ballast-health-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
          });

  @Inject
  HealthRegistry(Set<ProbeCheck> contributed, CoreSettings settings) {
    this(contributed, settings.healthCheckTimeout());
  }

  HealthRegistry(Set<ProbeCheck> contributed) {
    this(contributed, Duration.ofSeconds(2));
  }

  HealthRegistry(Set<ProbeCheck> contributed, Duration timeout) {
    this.timeout = timeout;
    for (var check : contributed) {
      if (checks.putIfAbsent(check.name(), check) != null) {
        throw new IllegalArgumentException(
            "A health check named " + check.name() + " already exists");
      }
    }
  }

  /** The names of all checks, sorted. */
  public Set<String> names() {
    return checks.keySet();
  }

  /** Runs the checks of {@code kind} and the shallower kinds (see {@link ProbeKind}). */
  public HealthReport run(ProbeKind kind) {
    return run(kind, name -> true);
  }

  /** Runs the checks of {@code kind} and the shallower kinds whose names {@code names} accepts. */
  public HealthReport run(ProbeKind kind, Predicate<String> names) {
    var selected =
        checks.values().stream()
            .filter(c -> kind.includes(c.kind()) && names.test(c.name()))
            .toList();
    var futures = new ArrayList<Future<HealthReport.Check>>();
    for (var check : selected) {
      futures.add(executor.submit(() -> runOne(check)));
    }
    var deadline = System.nanoTime() + timeout.toNanos();
    var outcomes = new ArrayList<HealthReport.Check>();
    var status = ProbeStatus.UP;
    for (int i = 0; i < selected.size(); i++) {
      var check = selected.get(i);
      HealthReport.Check outcome;
      try {
        outcome =
            futures.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        futures.get(i).cancel(true);
        outcome =
            new HealthReport.Check(
                check.name(),
                check.kind(),
                ProbeStatus.DOWN,
                "timed out after " + timeout.toMillis() + " ms",
                Map.of(),
                timeout);
      } catch (ExecutionException e) {
        outcome =
            new HealthReport.Check(
                check.name(),
                check.kind(),
                ProbeStatus.DOWN,
                String.valueOf(e.getCause()),
                Map.of(),
                Duration.ZERO);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        outcome =
            new HealthReport.Check(
                check.name(),
                check.kind(),
                ProbeStatus.DOWN,
                "interrupted",
                Map.of(),
                Duration.ZERO);
      }
      status = status.and(outcome.status());
      outcomes.add(outcome);
    }
    return new HealthReport(kind, status, outcomes);
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
      result =
          ProbeResult.unhealthy(
              e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }
    return new HealthReport.Check(
        check.name(),
        check.kind(),
        result.status(),
        result.message(),
        result.details(),
        Duration.ofNanos(System.nanoTime() - start));
  }
}
