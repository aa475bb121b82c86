package io.ballast.ops.load;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A load test's settings.
 *
 * @param profile how the rate moves
 * @param rate requests per second scheduled (the starting rate for {@link Profile#STRESS})
 * @param duration how long requests are scheduled; the run ends at most a drain period (10 s) later
 * @param maxInFlight requests executing at once (worker threads); later ones queue, their latency
 *     counting from their scheduled time
 * @param step what {@link Profile#STRESS} adds to the rate at each stage
 * @param stage how long each {@link Profile#STRESS} stage lasts
 * @param spikeFactor how many times the rate {@link Profile#SPIKE} reaches
 * @param thresholds the conditions that decide the exit code
 * @param output the directory the report ({@code load-report.json}, {@code load-report.html}) is
 *     written to
 */
public record LoadOptions(
    Profile profile,
    double rate,
    Duration duration,
    int maxInFlight,
    double step,
    Duration stage,
    double spikeFactor,
    List<Threshold> thresholds,
    Path output) {
  /** The longest run accepted: a load test is bounded in time. */
  public static final Duration MAX_DURATION = Duration.ofHours(24);

  /** Checks every value, naming the one that is wrong and what is allowed. */
  public LoadOptions {
    Objects.requireNonNull(profile, "profile");
    Objects.requireNonNull(duration, "duration");
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(output, "output");
    thresholds = List.copyOf(thresholds);
    if (!(rate > 0) || rate > 100_000) {
      throw new IllegalArgumentException(
          "--rate must be between 0 and 100000 requests per second, but was " + rate);
    }
    if (duration.isNegative() || duration.isZero() || duration.compareTo(MAX_DURATION) > 0) {
      throw new IllegalArgumentException(
          "--duration must be more than 0 and at most 24h, but was " + duration);
    }
    if (maxInFlight < 1 || maxInFlight > 4096) {
      throw new IllegalArgumentException(
          "--max-in-flight must be between 1 and 4096, but was " + maxInFlight);
    }
    if (!(step > 0)) {
      throw new IllegalArgumentException("--step must be more than 0, but was " + step);
    }
    if (stage.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException("--stage must be at least 1s, but was " + stage);
    }
    if (!(spikeFactor >= 1)) {
      throw new IllegalArgumentException(
          "--spike-factor must be at least 1, but was " + spikeFactor);
    }
  }

  /** {@code profile} at {@code rate} for {@code duration}, with the other settings' defaults. */
  public static LoadOptions of(Profile profile, double rate, Duration duration, Path output) {
    return new LoadOptions(
        profile, rate, duration, 64, rate, Duration.ofSeconds(10), 5, Threshold.DEFAULTS, output);
  }

  /** These options with {@code thresholds} instead. */
  public LoadOptions withThresholds(List<Threshold> thresholds) {
    return new LoadOptions(
        profile, rate, duration, maxInFlight, step, stage, spikeFactor, thresholds, output);
  }

  /** These options with {@code maxInFlight} worker threads. */
  public LoadOptions withMaxInFlight(int maxInFlight) {
    return new LoadOptions(
        profile, rate, duration, maxInFlight, step, stage, spikeFactor, thresholds, output);
  }
}
