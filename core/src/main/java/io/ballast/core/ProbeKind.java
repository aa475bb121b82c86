package io.ballast.core;

/**
 * What a health check answers. A report of a kind runs the checks of that kind and of every
 * shallower kind: {@code READY} runs LIVE and READY checks, {@code DEEP} runs all.
 */
public enum ProbeKind {
  /**
   * Is the process able to work at all? Never depends on an external system (a restart would not
   * help).
   */
  LIVE,
  /** Can it serve traffic now? May depend on the database, Redis, pending migrations. */
  READY,
  /** Thorough checks for humans and dashboards; may be slow and may write. */
  DEEP;

  boolean includes(ProbeKind other) {
    return other.compareTo(this) <= 0;
  }
}
