package io.ballast.core.monitor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.HdrHistogram.AtomicHistogram;
import org.HdrHistogram.Histogram;

/**
 * Execution statistics over a sliding window, in flat memory: the window is split into {@value
 * #INTERVALS} intervals, each holding an HdrHistogram (2 significant digits: percentiles accurate
 * to 1 %) for each of at most {@code maxPatterns} fingerprints, and one for the executions of any
 * further fingerprints (counted as untracked). The overall figures are the merge of all of them,
 * computed when read, so an execution is recorded once. Expired intervals are reused. Recording is
 * lock-free.
 */
final class WindowedStats {
  static final int INTERVALS = 12;
  private static final long HIGHEST_MICROS = Duration.ofHours(1).toNanos() / 1000;
  private static final String OTHER = "";

  private final long intervalNanos;
  private final int maxPatterns;
  private final LongSupplier clock;
  private final long startedAt;
  private final AtomicReferenceArray<Interval> ring = new AtomicReferenceArray<>(INTERVALS);

  WindowedStats(Duration window, int maxPatterns, LongSupplier nanoClock) {
    this.intervalNanos = window.toNanos() / INTERVALS;
    this.maxPatterns = maxPatterns;
    this.clock = nanoClock;
    this.startedAt = nanoClock.getAsLong();
  }

  /**
   * Records one execution in its fingerprint's bucket; the overall figures are derived when read.
   */
  void record(String fingerprint, long nanos, boolean slow, boolean failed) {
    var interval = current();
    var bucket = interval.patterns.get(fingerprint);
    if (bucket == null) {
      if (interval.patterns.size() >= maxPatterns) {
        bucket = interval.patterns.computeIfAbsent(OTHER, k -> new Bucket());
      } else {
        bucket = interval.patterns.computeIfAbsent(fingerprint, k -> new Bucket());
      }
    }
    bucket.record(nanos, slow, failed);
  }

  private Interval current() {
    var now = clock.getAsLong();
    var index = Math.floorDiv(now - startedAt, intervalNanos);
    var slot = Math.floorMod(index, INTERVALS);
    var interval = ring.get(slot);
    if (interval == null || interval.index != index) {
      var fresh = new Interval(index);
      if (ring.compareAndSet(slot, interval, fresh)) {
        return fresh;
      }
      return ring.get(slot);
    }
    return interval;
  }

  QueryStatistics snapshot(int top) {
    var now = clock.getAsLong();
    var currentIndex = Math.floorDiv(now - startedAt, intervalNanos);
    var overall = new Merged();
    var patterns = new HashMap<String, Merged>();
    for (int i = 0; i < INTERVALS; i++) {
      var interval = ring.get(i);
      if (interval == null || interval.index <= currentIndex - INTERVALS) {
        continue;
      }
      interval.patterns.forEach(
          (fingerprint, bucket) -> {
            overall.add(bucket);
            patterns.computeIfAbsent(fingerprint, k -> new Merged()).add(bucket);
          });
    }
    var untracked = patterns.containsKey(OTHER) ? patterns.remove(OTHER).count : 0;
    var list = new ArrayList<QueryStatistics.PatternStatistics>();
    patterns.forEach(
        (fingerprint, m) ->
            list.add(
                new QueryStatistics.PatternStatistics(
                    fingerprint, m.count, m.totalNanos / 1e6, m.slow, m.failed, m.latency())));
    var byTime =
        list.stream()
            .sorted(
                Comparator.comparingDouble(QueryStatistics.PatternStatistics::totalMillis)
                    .reversed())
            .limit(top)
            .toList();
    var byCount =
        list.stream()
            .sorted(Comparator.comparingLong(QueryStatistics.PatternStatistics::count).reversed())
            .limit(top)
            .toList();
    var windowNanos = intervalNanos * INTERVALS;
    var covered = Math.max(1, Math.min(windowNanos, now - startedAt));
    return new QueryStatistics(
        Duration.ofNanos(windowNanos),
        overall.count,
        overall.slow,
        overall.failed,
        overall.count / (covered / 1e9),
        overall.latency(),
        byTime,
        byCount,
        untracked);
  }

  /**
   * The window's durations, in microseconds, of {@code fingerprint} or, for {@code null}, of
   * everything.
   */
  Histogram window(String fingerprint) {
    var now = clock.getAsLong();
    var currentIndex = Math.floorDiv(now - startedAt, intervalNanos);
    var merged = new Histogram(1, HIGHEST_MICROS, 2);
    for (int i = 0; i < INTERVALS; i++) {
      var interval = ring.get(i);
      if (interval == null || interval.index <= currentIndex - INTERVALS) {
        continue;
      }
      if (fingerprint == null) {
        interval.patterns.values().forEach(bucket -> merged.add(bucket.micros));
      } else {
        var bucket = interval.patterns.get(fingerprint);
        if (bucket != null) {
          merged.add(bucket.micros);
        }
      }
    }
    return merged;
  }

  /** Fingerprints tracked in the current interval, for tests of the memory bound. */
  int trackedPatterns() {
    return current().patterns.size();
  }

  private static final class Interval {
    final long index;
    final ConcurrentHashMap<String, Bucket> patterns = new ConcurrentHashMap<>();

    Interval(long index) {
      this.index = index;
    }
  }

  private static final class Bucket {
    final AtomicHistogram micros = new AtomicHistogram(1, HIGHEST_MICROS, 2);
    final LongAdder count = new LongAdder();
    final LongAdder totalNanos = new LongAdder();
    final LongAdder slow = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAccumulator maxNanos = new LongAccumulator(Math::max, 0);

    void record(long nanos, boolean isSlow, boolean isFailed) {
      micros.recordValue(Math.min(HIGHEST_MICROS, Math.max(1, nanos / 1000)));
      count.increment();
      totalNanos.add(nanos);
      maxNanos.accumulate(nanos);
      if (isSlow) {
        slow.increment();
      }
      if (isFailed) {
        failed.increment();
      }
    }
  }

  private static final class Merged {
    final Histogram micros = new Histogram(1, HIGHEST_MICROS, 2);
    long count;
    long totalNanos;
    long slow;
    long failed;
    long maxNanos;

    void add(Bucket b) {
      micros.add(b.micros);
      count += b.count.sum();
      totalNanos += b.totalNanos.sum();
      slow += b.slow.sum();
      failed += b.failed.sum();
      maxNanos = Math.max(maxNanos, b.maxNanos.get());
    }

    QueryStatistics.Latency latency() {
      if (count == 0) {
        return new QueryStatistics.Latency(0, 0, 0, 0, 0);
      }
      return new QueryStatistics.Latency(
          micros.getValueAtPercentile(50) / 1000.0,
          micros.getValueAtPercentile(95) / 1000.0,
          micros.getValueAtPercentile(99) / 1000.0,
          totalNanos / 1e6 / count,
          maxNanos / 1e6);
    }
  }
}
