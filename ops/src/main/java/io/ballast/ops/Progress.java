package io.ballast.ops;

/**
 * Told how long work advances (tables vacuumed of N, rows archived so far), so a command line can
 * show it and a job can log it. Called from the thread doing the work.
 */
@FunctionalInterface
public interface Progress {
  /** No one listens. */
  Progress NONE = (what, done, total) -> {};

  /**
   * {@code done} of {@code total} (−1 when unknown) units of {@code what} are finished, e.g. ("rows
   * archived from events", 3000, −1).
   */
  void step(String what, long done, long total);
}
