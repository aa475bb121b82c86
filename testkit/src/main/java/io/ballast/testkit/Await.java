package io.ballast.testkit;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;

/**
 * Waiting for something asynchronous in a test: polls a condition until it holds or a timeout
 * passes, then fails naming what it waited for. The shape of Awaitility's {@code
 * await().atMost(…).until(…)}, without the dependency.
 *
 * <pre>{@code
 * Await.until("the other instance dropped its copy", Duration.ofSeconds(10), () -> region.get("k") == null);
 * }</pre>
 */
public final class Await {
  private static final long POLL_NANOS = Duration.ofMillis(10).toNanos();

  private Await() {}

  /**
   * Returns once {@code condition} is true; throws {@link AssertionError} naming {@code what} after
   * {@code timeout}. An exception from the condition counts as "not yet" until the timeout, then is
   * the cause.
   */
  public static void until(String what, Duration timeout, Callable<Boolean> condition) {
    var deadline = System.nanoTime() + timeout.toNanos();
    Exception last = null;
    while (true) {
      try {
        if (Boolean.TRUE.equals(condition.call())) {
          return;
        }
        last = null;
      } catch (Exception e) {
        last = e;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(
            "timed out after " + timeout.toMillis() + " ms waiting for: " + what, last);
      }
      LockSupport.parkNanos(POLL_NANOS);
      if (Thread.interrupted()) {
        throw new AssertionError("interrupted while waiting for: " + what);
      }
    }
  }
}
