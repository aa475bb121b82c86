package io.ballast.ops.load;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What happened inside the service during each second of a load test, read from the same series
 * {@code /metrics} exports (the JVM's {@code PrometheusRegistry}): pool utilisation, waiters and
 * acquisition time, statements and their server-side p95, cache hit ratios by region and level,
 * open breakers. Counters and histograms are read as differences from the previous reading, so each
 * sample covers its own second.
 */
final class Internals {
  private final PrometheusRegistry registry;
  private Map<String, Double> lastCounters = Map.of();
  private Map<String, long[]> lastBuckets = Map.of();

  Internals(PrometheusRegistry registry) {
    this.registry = registry;
  }

  /**
   * One second's figures.
   *
   * @param pools per pool: utilisation 0–1, threads waiting, acquisition p95 in ms (NaN: none)
   * @param cacheHitRatio per {@code region/level}: hits over reads this second (absent: no reads)
   * @param cacheReads cache reads (L1) this second
   * @param cacheHits of those, hits at either level
   * @param openBreakers breakers open or half-open
   * @param statements statements this second
   * @param statementP95Ms server-side statement time p95 this second (NaN: none)
   */
  record Reading(
      Map<String, double[]> pools,
      Map<String, Double> cacheHitRatio,
      long cacheReads,
      long cacheHits,
      List<String> openBreakers,
      long statements,
      double statementP95Ms) {}

  Reading read() {
    var counters = new HashMap<String, Double>();
    var buckets = new HashMap<String, long[]>();
    var newBounds = new HashMap<String, double[]>();
    var pools = new TreeMap<String, double[]>();
    var cache = new TreeMap<String, Double>();
    var open = new ArrayList<String>();
    for (MetricSnapshot s : registry.scrape(name -> name.startsWith("ballast_"))) {
      var name = s.getMetadata().getPrometheusName();
      if (s instanceof CounterSnapshot c) {
        for (var d : c.getDataPoints()) {
          counters.put(key(name, d.getLabels()), d.getValue());
        }
      } else if (s instanceof HistogramSnapshot h) {
        for (var d : h.getDataPoints()) {
          var b = d.getClassicBuckets();
          var counts = new long[b.size()];
          var upper = new double[b.size()];
          for (int i = 0; i < b.size(); i++) {
            counts[i] = b.getCount(i);
            upper[i] = b.getUpperBound(i);
          }
          buckets.put(key(name, d.getLabels()), counts);
          newBounds.put(key(name, d.getLabels()), upper);
        }
      } else if (s instanceof GaugeSnapshot g) {
        for (var d : g.getDataPoints()) {
          var labels = d.getLabels();
          switch (name) {
            case "ballast_pool_utilisation_ratio" ->
                pool(pools, labels.get("pool"))[0] = d.getValue();
            case "ballast_pool_pending_threads" ->
                pool(pools, labels.get("pool"))[1] = d.getValue();
            case "ballast_breaker_state" -> {
              var state = labels.get("state");
              if (d.getValue() == 1 && (state.equals("open") || state.equals("half_open"))) {
                open.add(labels.get("breaker") + " " + state);
              }
            }
            default -> {}
          }
        }
      }
    }
    // acquisition p95 per pool, over this second
    for (var entry : buckets.entrySet()) {
      if (entry.getKey().startsWith("ballast_pool_acquire_seconds{")) {
        var pool = entry.getKey().replaceAll(".*pool=([^,}]*).*", "$1");
        pool(pools, pool)[2] =
            quantile(delta(entry.getKey(), entry.getValue()), newBounds.get(entry.getKey()), 0.95)
                * 1000;
      }
    }
    // statements and their p95, over this second, every server
    long statements = 0;
    long[] all = null;
    double[] allBounds = null;
    for (var entry : buckets.entrySet()) {
      if (entry.getKey().startsWith("ballast_query_duration_seconds{")) {
        var d = delta(entry.getKey(), entry.getValue());
        if (all == null) {
          all = d;
          allBounds = newBounds.get(entry.getKey());
        } else {
          for (int i = 0; i < all.length && i < d.length; i++) {
            all[i] += d[i];
          }
        }
      }
    }
    if (all != null) {
      for (var n : all) {
        statements += n;
      }
    }
    var statementP95 = all == null ? Double.NaN : quantile(all, allBounds, 0.95) * 1000;
    // cache hit ratios per region and level, over this second
    var hits = new HashMap<String, Double>();
    var reads = new HashMap<String, Double>();
    long l1Reads = 0;
    long anyHits = 0;
    for (var entry : counters.entrySet()) {
      if (!entry.getKey().startsWith("ballast_cache_requests{")) {
        continue;
      }
      var k = entry.getKey();
      var regionLevel =
          k.replaceAll(".*region=([^,}]*).*", "$1")
              + "/"
              + k.replaceAll(".*level=([^,}]*).*", "$1");
      var d = entry.getValue() - lastCounters.getOrDefault(k, 0.0);
      reads.merge(regionLevel, d, Double::sum);
      if (k.contains("result=hit")) {
        hits.merge(regionLevel, d, Double::sum);
        anyHits += (long) d;
      }
      if (k.contains("level=l1")) {
        l1Reads += (long) d;
      }
    }
    reads.forEach(
        (rl, n) -> {
          if (n > 0) {
            cache.put(rl, hits.getOrDefault(rl, 0.0) / n);
          }
        });
    lastCounters = counters;
    lastBuckets = buckets;
    return new Reading(pools, cache, l1Reads, anyHits, open, statements, statementP95);
  }

  /**
   * The busiest statement patterns, by count: fingerprint, count, and p50 / p95 / p99 in ms over
   * the query monitor's window.
   */
  List<Map<String, Object>> patterns(int limit) {
    var fingerprints = new HashMap<String, String>();
    var rows = new ArrayList<Map<String, Object>>();
    for (MetricSnapshot s : registry.scrape(n -> n.startsWith("ballast_query_pattern"))) {
      if (s.getMetadata().getPrometheusName().equals("ballast_query_pattern")) {
        s.getDataPoints()
            .forEach(
                d ->
                    fingerprints.put(
                        d.getLabels().get("pattern"), d.getLabels().get("fingerprint")));
      }
    }
    for (MetricSnapshot s : registry.scrape(n -> n.startsWith("ballast_query_pattern"))) {
      if (s instanceof SummarySnapshot summary) {
        for (var d : summary.getDataPoints()) {
          var row = new java.util.LinkedHashMap<String, Object>();
          var pattern = d.getLabels().get("pattern");
          row.put("pattern", pattern);
          row.put("fingerprint", fingerprints.getOrDefault(pattern, "?"));
          row.put("count", d.getCount());
          for (var q : d.getQuantiles()) {
            row.put("p" + Math.round(q.getQuantile() * 100), q.getValue() * 1000);
          }
          rows.add(row);
        }
      }
    }
    rows.sort((a, b) -> Long.compare((Long) b.get("count"), (Long) a.get("count")));
    return rows.subList(0, Math.min(limit, rows.size()));
  }

  private long[] delta(String key, long[] now) {
    var before = lastBuckets.get(key);
    var d = now.clone();
    if (before != null && before.length == d.length) {
      for (int i = 0; i < d.length; i++) {
        d[i] -= before[i];
      }
    }
    return d;
  }

  /** The {@code q} quantile of per-bucket counts, interpolated within its bucket as PromQL does. */
  static double quantile(long[] counts, double[] upper, double q) {
    long total = 0;
    for (var c : counts) {
      total += c;
    }
    if (total == 0) {
      return Double.NaN;
    }
    var rank = q * total;
    long seen = 0;
    for (int i = 0; i < counts.length; i++) {
      if (seen + counts[i] >= rank) {
        var lower = i == 0 ? 0 : upper[i - 1];
        var hi = Double.isInfinite(upper[i]) ? lower : upper[i];
        return counts[i] == 0 ? hi : lower + (hi - lower) * (rank - seen) / counts[i];
      }
      seen += counts[i];
    }
    return upper[upper.length - 1];
  }

  private static double[] pool(Map<String, double[]> pools, String name) {
    return pools.computeIfAbsent(name, k -> new double[] {Double.NaN, Double.NaN, Double.NaN});
  }

  private static String key(String name, Labels labels) {
    var b = new StringBuilder(name).append('{');
    for (int i = 0; i < labels.size(); i++) {
      if (i > 0) {
        b.append(',');
      }
      b.append(labels.getName(i)).append('=').append(labels.getValue(i));
    }
    return b.append('}').toString();
  }
}
