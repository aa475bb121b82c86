package io.ballast.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

class CoreChecksTest {

  @Test
  void liveness_reportsDeadlockedThreadsByName_andRecovers() throws Exception {
    var check = CoreChecks.deadlocks();
    assertThat(check.check().healthy()).isTrue();

    var a = new ReentrantLock();
    var b = new ReentrantLock();
    var bothHeld = new CountDownLatch(2);
    var first = new Thread(() -> lockBoth(a, b, bothHeld), "deadlock-first");
    var second = new Thread(() -> lockBoth(b, a, bothHeld), "deadlock-second");
    first.start();
    second.start();
    try {
      var seen = new java.util.concurrent.atomic.AtomicReference<ProbeResult>();
      io.ballast.testkit.Await.until(
          "the deadlock is reported",
          java.time.Duration.ofSeconds(10),
          () -> {
            seen.set(check.check());
            return !seen.get().healthy();
          });
      var result = seen.get();
      assertThat(result.message())
          .startsWith("2 deadlocked thread(s): ")
          .contains("deadlock-first")
          .contains("deadlock-second");
    } finally {
      first.interrupt();
      second.interrupt();
      first.join(5_000);
      second.join(5_000);
    }
    assertThat(check.check().healthy()).isTrue();
  }

  private static void lockBoth(ReentrantLock one, ReentrantLock two, CountDownLatch bothHeld) {
    try {
      one.lockInterruptibly();
      try {
        bothHeld.countDown();
        bothHeld.await(5, TimeUnit.SECONDS);
        two.lockInterruptibly();
        two.unlock();
      } finally {
        one.unlock();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
