package io.ballast.ops.load;

import io.ballast.core.Ballast;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link Scenario} in the open model and writes the report. Requests are scheduled at the
 * profile's rate on one thread and executed by {@link LoadOptions#maxInFlight} workers; each
 * request's latency counts from its scheduled time (so a stall that queues requests shows in the
 * percentiles instead of being hidden: no coordinated omission), recorded in HdrHistograms to 1 µs.
 * Every second a sample joins the client's view (scheduled and completed requests, errors, latency
 * percentiles) with the service's own series read in the same JVM (pool, statements, cache levels,
 * breakers).
 *
 * <pre>{@code
 * var result = LoadTest.run(new LookupScenario(), System.getenv(),
 *     LoadOptions.of(Profile.LOAD, 200, Duration.ofSeconds(60), Path.of("target/load")));
 * System.exit(result.passed() ? 0 : 1);
 * }</pre>
 */
public final class LoadTest {
  private static final Logger LOG = LoggerFactory.getLogger(LoadTest.class);
  private static final Duration DRAIN = Duration.ofSeconds(10);
  private static final long HIGHEST_MICROS = TimeUnit.MINUTES.toMicros(10);

  private final Scenario scenario;
  private final LoadOptions options;
  private final Recorder latencies = new Recorder(HIGHEST_MICROS, 3);
  private final Histogram total = new Histogram(HIGHEST_MICROS, 3);
  private final AtomicLong completed = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private final AtomicLong scheduled = new AtomicLong();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Map<String, AtomicLong> errorClasses =
      new java.util.concurrent.ConcurrentHashMap<>();
  private volatile double currentRate;
  private final AtomicInteger stage = new AtomicInteger();

  private LoadTest(Scenario scenario, LoadOptions options) {
    this.scenario = scenario;
    this.options = options;
  }

  /**
   * Starts {@code scenario} over {@code env}, runs it under {@code options}, stops it, and writes
   * {@code load-report.json} and {@code load-report.html} into the options' output directory.
   */
  public static LoadResult run(Scenario scenario, Map<String, String> env, LoadOptions options)
      throws Exception {
    try (Ballast app = scenario.start(env)) {
      var result = new LoadTest(scenario, options).run(app.get(PrometheusRegistry.class));
      LoadReport.write(result, options.output());
      return result;
    }
  }

  private LoadResult run(PrometheusRegistry registry) throws InterruptedException, IOException {
    var internals = new Internals(registry);
    internals.read(); // the baseline the first second's differences start from
    var workers =
        Executors.newFixedThreadPool(
            options.maxInFlight(),
            r -> {
              var t = new Thread(r, "ballast-load");
              t.setDaemon(true);
              return t;
            });
    var samples = new ArrayList<Sample>();
    var stages = new ArrayList<Map<String, Object>>();
    var started = Instant.now();
    var origin = System.nanoTime();
    var totalSeconds = options.duration().toNanos() / 1e9;
    var scheduler =
        new Thread(() -> schedule(workers, origin, totalSeconds), "ballast-load-schedule");
    scheduler.setDaemon(true);
    scheduler.start();
    Histogram interval = null;
    Histogram stageHistogram = new Histogram(HIGHEST_MICROS, 3);
    long stageErrors = 0;
    long stageCount = 0;
    long lastCompleted = 0;
    long lastErrors = 0;
    long lastScheduled = 0;
    var stressBroken = false;
    Double highestHeldRate = null;
    long second = 0;
    while (true) {
      second++;
      var wake = origin + TimeUnit.SECONDS.toNanos(second);
      while (System.nanoTime() < wake) {
        LockSupport.parkNanos(wake - System.nanoTime());
      }
      interval = latencies.getIntervalHistogram(interval);
      total.add(interval);
      var done = completed.get();
      var failed = errors.get();
      var issued = scheduled.get();
      var reading = internals.read();
      samples.add(
          Sample.of(
              second,
              currentRate,
              issued - lastScheduled,
              done - lastCompleted,
              failed - lastErrors,
              inFlight.get(),
              interval,
              reading));
      if (options.profile() == Profile.STRESS) {
        stageHistogram.add(interval);
        stageErrors += failed - lastErrors;
        stageCount += done - lastCompleted;
        if (second % Math.max(1, options.stage().toSeconds()) == 0) {
          var verdict = stageVerdict(stageHistogram, stageErrors, stageCount);
          var s = new LinkedHashMap<String, Object>();
          s.put("rate", currentRate);
          s.put("requests", stageCount);
          s.put(
              "p95Ms",
              stageHistogram.getTotalCount() == 0
                  ? null
                  : stageHistogram.getValueAtPercentile(95) / 1000.0);
          s.put("errors", stageErrors);
          s.put("held", verdict == null);
          s.put("broke", verdict);
          stages.add(s);
          if (verdict == null) {
            highestHeldRate = currentRate;
            stage.incrementAndGet();
          } else {
            stressBroken = true;
          }
          stageHistogram.reset();
          stageErrors = 0;
          stageCount = 0;
        }
      }
      lastCompleted = done;
      lastErrors = failed;
      lastScheduled = issued;
      var schedulingOver = !scheduler.isAlive() || stressBroken;
      if (stressBroken && scheduler.isAlive()) {
        scheduler.interrupt();
      }
      if (schedulingOver && (inFlight.get() == 0 || second > totalSeconds + DRAIN.toSeconds())) {
        break;
      }
    }
    scheduler.interrupt();
    scheduler.join(5_000);
    workers.shutdownNow();
    workers.awaitTermination(5, TimeUnit.SECONDS);
    var dropped = scheduled.get() - completed.get() - errors.get();
    interval = latencies.getIntervalHistogram(interval);
    total.add(interval);
    var finished = Instant.now();
    return LoadResult.of(
        scenario.getClass().getName(),
        options,
        started,
        finished,
        total,
        completed.get(),
        errors.get(),
        Math.max(0, dropped),
        Map.copyOf(
            errorClasses.entrySet().stream()
                .collect(
                    java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue().get()))),
        samples,
        stages,
        highestHeldRate,
        internals.patterns(10));
  }

  /** Why a stress stage broke (a latency or error threshold), or null when it held. */
  private String stageVerdict(Histogram stageLatency, long stageErrors, long stageCount) {
    for (var t : options.thresholds()) {
      double actual;
      if (t.latency()) {
        if (stageLatency.getTotalCount() == 0) {
          continue;
        }
        actual = LoadResult.latencyMs(stageLatency, t.metric());
      } else if (t.metric().equals("error_rate")) {
        actual =
            stageCount + stageErrors == 0 ? 0 : (double) stageErrors / (stageCount + stageErrors);
      } else {
        continue;
      }
      if (!t.holds(actual)) {
        return t.expression()
            + " (was "
            + String.format(java.util.Locale.ROOT, "%.3f", actual)
            + ")";
      }
    }
    return null;
  }

  /**
   * Issues requests at their scheduled times until the duration ends or the thread is interrupted.
   */
  private void schedule(ExecutorService workers, long origin, double totalSeconds) {
    var next = origin;
    var end = origin + (long) (totalSeconds * 1e9);
    while (next < end && !Thread.currentThread().isInterrupted()) {
      var elapsed = (next - origin) / 1e9;
      var rate = options.profile().rate(options, elapsed, totalSeconds, stage.get());
      currentRate = rate;
      var wait = next - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
        if (Thread.currentThread().isInterrupted()) {
          break;
        }
      }
      var intended = next;
      scheduled.incrementAndGet();
      inFlight.incrementAndGet();
      workers.execute(() -> call(intended));
      next += (long) (1e9 / rate);
    }
  }

  private void call(long intended) {
    try {
      scenario.call(ThreadLocalRandom.current());
      latencies.recordValue(Math.min(HIGHEST_MICROS, (System.nanoTime() - intended) / 1000));
      completed.incrementAndGet();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      latencies.recordValue(Math.min(HIGHEST_MICROS, (System.nanoTime() - intended) / 1000));
      errors.incrementAndGet();
      errorClasses.computeIfAbsent(e.getClass().getName(), k -> new AtomicLong()).incrementAndGet();
      if (errors.get() == 1) {
        LOG.warn("First failed request in the load test: {}", e.getClass().getName());
      }
    } finally {
      inFlight.decrementAndGet();
    }
  }
}
