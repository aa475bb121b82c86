package io.ballast.ops.load;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * What a load test measured, and whether its thresholds held.
 *
 * @param scenario the scenario's class
 * @param options the options it ran with
 * @param started when it started
 * @param finished when it finished
 * @param summary totals: requests, errors, dropped, achieved rate, latency percentiles (ms), cache
 *     hit ratio, for {@link Profile#SOAK} the first and last tenth's p95, for {@link
 *     Profile#STRESS} the highest rate that held
 * @param thresholds each threshold with the value it was judged on and whether it held
 * @param passed whether every threshold held (the exit code: 0 if so, 1 if not)
 * @param timeline one {@link Sample} per second
 * @param stages for {@link Profile#STRESS}, each stage's rate and verdict
 * @param patterns the busiest statement patterns: fingerprint, count, p50 / p95 / p99 (ms)
 */
public record LoadResult(
    String scenario,
    LoadOptions options,
    Instant started,
    Instant finished,
    Map<String, Object> summary,
    List<Map<String, Object>> thresholds,
    boolean passed,
    List<Sample> timeline,
    List<Map<String, Object>> stages,
    List<Map<String, Object>> patterns) {

  static double latencyMs(Histogram h, String metric) {
    return switch (metric) {
      case "max" -> h.getMaxValue() / 1000.0;
      case "mean" -> h.getMean() / 1000.0;
      case "p999" -> h.getValueAtPercentile(99.9) / 1000.0;
      default -> h.getValueAtPercentile(Double.parseDouble(metric.substring(1))) / 1000.0;
    };
  }

  static LoadResult of(
      String scenario,
      LoadOptions options,
      Instant started,
      Instant finished,
      Histogram latency,
      long completed,
      long errors,
      long dropped,
      Map<String, Long> errorClasses,
      List<Sample> timeline,
      List<Map<String, Object>> stages,
      Double highestHeldRate,
      List<Map<String, Object>> patterns) {
    var seconds = Math.max(1e-3, (finished.toEpochMilli() - started.toEpochMilli()) / 1000.0);
    var requests = completed + errors + dropped;
    var errorRate = requests == 0 ? 0 : (double) (errors + dropped) / requests;
    long cacheReads = 0;
    double cacheHits = 0;
    for (var s : timeline) {
      if (s.cacheHitRatioAll() != null) {
        // per-second ratio back to counts: reads are what L1 saw that second
        var reads = readsOf(s);
        cacheReads += reads;
        cacheHits += s.cacheHitRatioAll() * reads;
      }
    }
    var summary = new LinkedHashMap<String, Object>();
    summary.put("requests", requests);
    summary.put("completed", completed);
    summary.put("errors", errors);
    summary.put("dropped", dropped);
    summary.put("errorRate", errorRate);
    summary.put("errorClasses", errorClasses);
    summary.put("achievedRate", completed / seconds);
    var latencies = new LinkedHashMap<String, Object>();
    if (latency.getTotalCount() > 0) {
      for (var p : List.of("p50", "p90", "p95", "p99", "p999", "max", "mean")) {
        latencies.put(p, latencyMs(latency, p));
      }
    }
    summary.put("latencyMs", latencies);
    summary.put("cacheReads", cacheReads);
    summary.put("cacheHitRatio", cacheReads == 0 ? null : cacheHits / cacheReads);
    if (options.profile() == Profile.SOAK && timeline.size() >= 10) {
      var tenth = timeline.size() / 10;
      summary.put("p95FirstTenthMs", meanP95(timeline.subList(0, tenth)));
      summary.put(
          "p95LastTenthMs", meanP95(timeline.subList(timeline.size() - tenth, timeline.size())));
    }
    if (options.profile() == Profile.STRESS) {
      summary.put("highestRateHeld", highestHeldRate);
    }
    var judged = new ArrayList<Map<String, Object>>();
    var passed = true;
    for (var t : options.thresholds()) {
      Double actual;
      if (t.latency()) {
        actual = latency.getTotalCount() == 0 ? null : latencyMs(latency, t.metric());
      } else {
        actual =
            switch (t.metric()) {
              case "error_rate" -> errorRate;
              case "rps" -> completed / seconds;
              default -> cacheReads == 0 ? null : cacheHits / cacheReads;
            };
      }
      var row = new LinkedHashMap<String, Object>();
      row.put("threshold", t.expression());
      row.put("actual", actual);
      boolean held;
      if (actual == null) {
        // a default hit-ratio threshold does not apply to a scenario without a cache
        var defaultCache = t.metric().equals("hit_ratio") && Threshold.DEFAULTS.contains(t);
        held = defaultCache;
        row.put("note", defaultCache ? "not applicable: no cache reads" : "no data");
      } else {
        held = t.holds(actual);
      }
      row.put("passed", held);
      passed &= held;
      judged.add(row);
    }
    return new LoadResult(
        scenario, options, started, finished, summary, judged, passed, timeline, stages, patterns);
  }

  private static long readsOf(Sample s) {
    return s.cacheReads();
  }

  private static Double meanP95(List<Sample> samples) {
    double sum = 0;
    int n = 0;
    for (var s : samples) {
      if (s.p95Ms() != null) {
        sum += s.p95Ms();
        n++;
      }
    }
    return n == 0 ? null : sum / n;
  }
}
