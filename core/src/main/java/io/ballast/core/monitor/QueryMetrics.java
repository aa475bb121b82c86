package io.ballast.core.monitor;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.core.metrics.SummaryWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Quantile;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.Locale;

/**
 * The query monitor's exported series, in the Prometheus client's own types: a histogram of every
 * statement's time by server (aggregatable: {@code histogram_quantile} over a {@code rate} window),
 * a summary per tracked fingerprint whose quantiles are the monitor's window, an info series that
 * names each fingerprint, and counters. Core's README lists them.
 */
final class QueryMetrics {
  /** Upper bounds in seconds: 0.5 ms to 30 s, dense where OLTP statements and timeouts lie. */
  static final double[] BUCKETS = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
  };

  private static final int FINGERPRINT_LABEL_LIMIT = 200;

  private QueryMetrics() {}

  static Histogram durations() {
    return Histogram.builder()
        .name("ballast_query_duration_seconds")
        .help("Statement execution time by server (primary or a replica's name)")
        .unit(Unit.SECONDS)
        .labelNames("server")
        .classicOnly()
        .classicUpperBounds(BUCKETS)
        .build();
  }

  static Info patternInfo() {
    return Info.builder()
        .name("ballast_query_pattern_info")
        .help("The SQL fingerprint (literals and bind values removed) behind each pattern label")
        .labelNames("pattern", "fingerprint")
        .build();
  }

  /** The pattern label of a fingerprint: its hash, stable across runs. */
  static String patternId(String fingerprint) {
    return String.format(Locale.ROOT, "%08x", fingerprint.hashCode());
  }

  static String label(String fingerprint) {
    return fingerprint.length() <= FINGERPRINT_LABEL_LIMIT
        ? fingerprint
        : fingerprint.substring(0, FINGERPRINT_LABEL_LIMIT) + "…";
  }

  static void register(QueryMonitor monitor, PrometheusRegistry registry) {
    registry.register(monitor.durations());
    registry.register(monitor.patternInfo());
    var window = monitor.settings().window().toSeconds();
    SummaryWithCallback.builder()
        .name("ballast_query_pattern_duration_seconds")
        .help(
            "Statement time per tracked fingerprint; quantiles over the monitor's last "
                + window
                + " s")
        .unit(Unit.SECONDS)
        .labelNames("pattern")
        .callback(
            callback ->
                monitor
                    .patternTimers()
                    .forEach(
                        (fingerprint, timer) -> {
                          var micros = timer.window();
                          var quantiles =
                              micros.getTotalCount() == 0
                                  ? Quantiles.EMPTY
                                  : Quantiles.of(
                                      quantile(micros, 0.5),
                                      quantile(micros, 0.95),
                                      quantile(micros, 0.99));
                          callback.call(
                              timer.getCount(),
                              timer.sumSeconds(),
                              quantiles,
                              patternId(fingerprint));
                        }))
        .register(registry);
    var counters = monitor.counters();
    counter(
        registry,
        "ballast_query_slow_total",
        "Statements slower than BALLAST_SLOW_QUERY_WARN_MS",
        counters.get(0));
    counter(
        registry,
        "ballast_query_failures_total",
        "Statements that ended with an error",
        counters.get(1));
    counter(
        registry,
        "ballast_query_timeouts_total",
        "Statements cancelled by their query timeout",
        counters.get(2));
    counter(
        registry,
        "ballast_query_n_plus_one_total",
        "N+1 patterns reported (one statement repeated within a transaction or unit of work)",
        counters.get(3));
  }

  private static Quantile quantile(org.HdrHistogram.Histogram micros, double q) {
    return new Quantile(q, micros.getValueAtPercentile(q * 100) / 1e6);
  }

  private static void counter(
      PrometheusRegistry registry, String name, String help, com.codahale.metrics.Counter counter) {
    CounterWithCallback.builder()
        .name(name)
        .help(help)
        .callback(callback -> callback.call((double) counter.getCount()))
        .register(registry);
  }
}
