package io.ballast.core.monitor;

import java.time.Duration;
import java.util.List;

/**
 * Query statistics over the sliding window, overall and per fingerprint. Durations are in
 * milliseconds.
 *
 * @param window the window the figures cover
 * @param total executions in the window
 * @param slow executions over the slow-query WARN threshold
 * @param failed executions that threw
 * @param perSecond executions per second over the window (or since start, if shorter)
 * @param overall percentiles, mean and max of all executions
 * @param topByTime the patterns that took the most time in all, at most {@code top}
 * @param topByCount the patterns run most often, at most {@code top}
 * @param untracked executions of patterns beyond the tracked number, counted but not itemised
 */
public record QueryStatistics(
    Duration window,
    long total,
    long slow,
    long failed,
    double perSecond,
    Latency overall,
    List<PatternStatistics> topByTime,
    List<PatternStatistics> topByCount,
    long untracked) {

  /**
   * Latency figures in milliseconds (accurate to 1 %).
   *
   * @param p50 median
   * @param p95 95th percentile
   * @param p99 99th percentile
   * @param mean mean
   * @param max maximum
   */
  public record Latency(double p50, double p95, double p99, double mean, double max) {}

  /**
   * One fingerprint's figures.
   *
   * @param fingerprint the statement's shape (never literals)
   * @param count executions
   * @param totalMillis time spent in all
   * @param slow slow executions
   * @param failed failed executions
   * @param latency its latency figures
   */
  public record PatternStatistics(
      String fingerprint,
      long count,
      double totalMillis,
      long slow,
      long failed,
      Latency latency) {}
}
