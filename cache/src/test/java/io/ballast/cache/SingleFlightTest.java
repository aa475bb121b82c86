package io.ballast.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** One load per key at a time; a caller after an invalidation never joins an older load. */
class SingleFlightTest {
  final SingleFlight<String> flights = new SingleFlight<>();
  final AtomicLong stamp = new AtomicLong();

  @Test
  void concurrentCallers_shareOneLoad_andItsResult() throws Exception {
    var loads = new AtomicInteger();
    var release = new CountDownLatch(1);
    var pool = Executors.newFixedThreadPool(16);
    try {
      var results = new ArrayList<Future<String>>();
      for (int i = 0; i < 16; i++) {
        results.add(
            pool.submit(
                () ->
                    flights.load(
                        "k",
                        k -> stamp.get(),
                        s -> {
                          loads.incrementAndGet();
                          await(release);
                          return "v" + s;
                        })));
      }
      Await.untilInFlight(flights, 1);
      io.ballast.testkit.Await.until(
          "the 15 others joined the load",
          java.time.Duration.ofSeconds(10),
          () -> flights.joined("k") == 15);
      assertThat(flights.joined("other")).isZero();
      release.countDown();
      for (var f : results) {
        assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo("v0");
      }
      assertThat(flights.joined("k")).as("none once the load is done").isZero();
    } finally {
      pool.shutdownNow();
    }
    assertThat(loads).hasValue(1);
    assertThat(flights.inFlight()).isZero();
  }

  @Test
  void aCallerAfterAnInvalidation_takesOver_insteadOfJoiningTheOldLoad() throws Exception {
    var release = new CountDownLatch(1);
    var pool = Executors.newSingleThreadExecutor();
    try {
      var old =
          pool.submit(
              () ->
                  flights.load(
                      "k",
                      k -> stamp.get(),
                      s -> {
                        await(release);
                        return "old";
                      }));
      Await.untilInFlight(flights, 1);
      stamp.incrementAndGet(); // the key was invalidated while the first load ran
      assertThat(flights.load("k", k -> stamp.get(), s -> "new")).isEqualTo("new");
      release.countDown();
      assertThat(old.get(10, TimeUnit.SECONDS)).isEqualTo("old");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aFailedLoad_reachesEveryWaiter_andCachesNothing() {
    assertThatThrownBy(
            () ->
                flights.load(
                    "k",
                    k -> 0,
                    s -> {
                      throw new IllegalStateException("database down");
                    }))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("database down");
    assertThat(flights.inFlight()).isZero();
    assertThat(flights.load("k", k -> 0, s -> "fine")).isEqualTo("fine");
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Waiting for the first load to register. */
  static final class Await {
    static void untilInFlight(SingleFlight<?> flights, int n) {
      io.ballast.testkit.Await.until(
          n + " load(s) in flight",
          java.time.Duration.ofSeconds(10),
          () -> flights.inFlight() == n);
    }
  }
}
