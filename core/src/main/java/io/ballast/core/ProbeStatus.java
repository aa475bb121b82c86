package io.ballast.core;

/**
 * How a health check or a whole report came out.
 *
 * <ul>
 *   <li>{@link #UP}: working as intended;
 *   <li>{@link #DEGRADED}: still serving, with less (a cache running without Redis, say); counts as
 *       healthy, so readiness stays 200, but the body says so;
 *   <li>{@link #DOWN}: not able to serve; readiness answers 503.
 * </ul>
 */
public enum ProbeStatus {
  /** Working. */
  UP,
  /** Still serving, with less (a cache on L1 only, a breaker half-open): healthy. */
  DEGRADED,
  /** Not working: the probe fails. */
  DOWN;

  /** {@code true} for {@link #UP} and {@link #DEGRADED}. */
  public boolean healthy() {
    return this != DOWN;
  }

  /** The worse of the two. */
  public ProbeStatus and(ProbeStatus other) {
    return other.compareTo(this) > 0 ? other : this;
  }
}
