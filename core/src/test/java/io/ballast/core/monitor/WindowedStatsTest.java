package io.ballast.core.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The statistics engine on recorded durations (no I/O: the monitor's own tests run real queries).
 */
class WindowedStatsTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final WindowedStats stats = new WindowedStats(Duration.ofHours(1), 50, now::get);

  private static double exact(long[] sortedNanos, double percentile) {
    var rank = (int) Math.ceil(percentile / 100 * sortedNanos.length) - 1;
    return sortedNanos[Math.max(0, rank)] / 1e6;
  }

  @Test
  void percentiles_matchExactOnesFromTheSameDurations_within5Percent() {
    var random = new Random(7);
    var durations = new long[50_000];
    for (int i = 0; i < durations.length; i++) {
      // log-normal around 3 ms with a long tail, like real query latencies
      durations[i] = (long) (Math.exp(random.nextGaussian() * 0.8) * 3_000_000);
      stats.record("select ?", durations[i], false, false);
    }
    var sorted = durations.clone();
    Arrays.sort(sorted);
    var overall = stats.snapshot(10).overall();
    assertThat(overall.p50()).isCloseTo(exact(sorted, 50), within(exact(sorted, 50) * 0.05));
    assertThat(overall.p95()).isCloseTo(exact(sorted, 95), within(exact(sorted, 95) * 0.05));
    assertThat(overall.p99()).isCloseTo(exact(sorted, 99), within(exact(sorted, 99) * 0.05));
    assertThat(overall.max()).isEqualTo(sorted[sorted.length - 1] / 1e6);
    assertThat(overall.mean())
        .isCloseTo(Arrays.stream(durations).average().orElseThrow() / 1e6, within(1e-6));
  }

  @Test
  void perPattern_topListsByTimeAndCount() {
    for (int i = 0; i < 100; i++) {
      stats.record("select fast", 1_000_000, false, false);
    }
    for (int i = 0; i < 5; i++) {
      stats.record("select slow", 900_000_000, true, false);
    }
    stats.record("select broken", 2_000_000, false, true);
    var s = stats.snapshot(2);
    assertThat(s.total()).isEqualTo(106);
    assertThat(s.slow()).isEqualTo(5);
    assertThat(s.failed()).isEqualTo(1);
    assertThat(s.topByTime())
        .extracting(QueryStatistics.PatternStatistics::fingerprint)
        .containsExactly("select slow", "select fast");
    assertThat(s.topByCount())
        .extracting(QueryStatistics.PatternStatistics::fingerprint)
        .containsExactly("select fast", "select slow");
    assertThat(s.topByCount().get(0).count()).isEqualTo(100);
  }

  @Test
  void memoryStaysFlat_howeverManyDistinctStatementsRun() {
    for (int i = 0; i < 100_000; i++) {
      stats.record("select * from t" + i, 1_000_000, false, false);
    }
    assertThat(stats.trackedPatterns()).isEqualTo(51); // 50 fingerprints and the untracked bucket
    var s = stats.snapshot(100);
    assertThat(s.total()).isEqualTo(100_000);
    assertThat(s.untracked()).isEqualTo(100_000 - 50);
  }

  @Test
  void executionsOlderThanTheWindow_dropOut() {
    stats.record("select old", 5_000_000, false, false);
    now.addAndGet(Duration.ofMinutes(30).toNanos());
    stats.record("select new", 5_000_000, false, false);
    assertThat(stats.snapshot(10).total()).isEqualTo(2);
    now.addAndGet(Duration.ofMinutes(35).toNanos());
    var s = stats.snapshot(10);
    assertThat(s.total()).isEqualTo(1);
    assertThat(s.topByCount())
        .extracting(QueryStatistics.PatternStatistics::fingerprint)
        .containsExactly("select new");
  }
}
