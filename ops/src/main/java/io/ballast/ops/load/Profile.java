package io.ballast.ops.load;

/**
 * How the arrival rate moves during a run. Every profile is an open model: requests are issued at
 * their scheduled times whatever earlier ones are doing (like k6's {@code constant-arrival-rate} or
 * wrk2), and each one's latency counts from its scheduled time, so a stall shows as the queue it
 * builds instead of being hidden (coordinated omission).
 */
public enum Profile {
  /** The rate, held for the duration. */
  LOAD,
  /**
   * The rate, then the rate plus the step at every stage, until a stage breaks a latency or error
   * threshold (or the duration ends); the report gives the highest rate that held.
   */
  STRESS,
  /** The rate, then the spike factor times it for the middle fifth of the duration, then back. */
  SPIKE,
  /**
   * The rate, held for a long duration (30 minutes unless given); the report compares the first and
   * the last tenth to show drift (a leak, a growing table, a cache filling).
   */
  SOAK;

  /** The scheduled rate at {@code elapsed} seconds into a run of {@code total} seconds. */
  double rate(LoadOptions options, double elapsed, double total, int stage) {
    return switch (this) {
      case LOAD, SOAK -> options.rate();
      case SPIKE ->
          elapsed >= total * 0.4 && elapsed < total * 0.6
              ? options.rate() * options.spikeFactor()
              : options.rate();
      case STRESS -> options.rate() + stage * options.step();
    };
  }
}
