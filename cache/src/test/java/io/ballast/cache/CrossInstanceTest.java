package io.ballast.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.testkit.RedisExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Three and more independent instances (own clients, own L1s) on one real Redis. */
class CrossInstanceTest {
  private static final Logger LOG = LoggerFactory.getLogger(CrossInstanceTest.class);

  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();
  @RegisterExtension final Instances instances = new Instances(REDIS);

  static RegionSettings<Long> versions() {
    return RegionSettings.builder("versions", Long.class).mediumTtl().build();
  }

  @Test
  void
      afterInvalidateReturns_noOtherInstanceServesTheOldValueOnceDelivered_evenWithConcurrentLoads()
          throws Exception {
    var writer = instances.start();
    var readers = List.of(instances.start(), instances.start());
    var a = writer.region(versions());
    var regions = readers.stream().map(m -> m.region(versions())).toList();
    var database = new AtomicLong(0);
    var stop = new AtomicBoolean();
    var errors = new ConcurrentLinkedQueue<Throwable>();
    // Background readers keep loading and filling L1 and L2 while the writer invalidates, to race
    // with it.
    var pool = Executors.newFixedThreadPool(4);
    for (var region : regions) {
      for (int t = 0; t < 2; t++) {
        var unused =
            pool.submit(
                () -> {
                  while (!stop.get()) {
                    try {
                      region.get("k", k -> database.get());
                    } catch (Throwable e) {
                      errors.add(e);
                    }
                  }
                });
      }
    }
    try {
      for (long round = 1; round <= 300; round++) {
        var delivered = readers.stream().map(m -> m.deliveryDelay.getCount()).toList();
        database.set(
            round); // the write to the database, then the invalidation, as an application does it
        a.invalidate("k");
        for (int i = 0; i < readers.size(); i++) {
          var m = readers.get(i);
          var before = delivered.get(i);
          Instances.await("delivery", () -> m.deliveryDelay.getCount() > before);
        }
        for (var region : regions) {
          var seen = region.get("k", k -> database.get());
          assertThat(seen)
              .as("value read after the invalidation of round %d was delivered", round)
              .isEqualTo(round);
        }
      }
    } finally {
      stop.set(true);
      pool.shutdown();
      pool.awaitTermination(10, TimeUnit.SECONDS);
    }
    assertThat(errors).isEmpty();
    var delay = readers.get(0).deliveryDelay.getSnapshot();
    LOG.info(
        "Invalidation delivery delay over {} messages: mean {} µs, median {} µs, p99 {} µs, max {} µs",
        readers.get(0).deliveryDelay.getCount(),
        Math.round(delay.getMean() / 1000),
        Math.round(delay.getMedian() / 1000),
        Math.round(delay.get99thPercentile() / 1000),
        delay.getMax() / 1000);
    assertThat(delay.getMax()).isPositive();
  }

  @Test
  void messagesFromTheInstanceItself_areIgnored() {
    var a = instances.start();
    var b = instances.start();
    a.region(versions()).put("k", 1L);
    b.region(versions()).put("k", 2L);
    Instances.await(
        "each heard the other",
        () -> a.deliveryDelay.getCount() == 1 && b.deliveryDelay.getCount() == 1);
    CrossInstanceTest.sleep(100);
    assertThat(a.deliveryDelay.getCount()).as("a's own message is not applied by a").isEqualTo(1);
    assertThat(b.deliveryDelay.getCount()).isEqualTo(1);
  }

  @Test
  void singleFlight_64ThreadsMissingOneKey_causeOneLoad() throws Exception {
    var region = instances.start().region(versions());
    var loads = new AtomicInteger();
    var results =
        runTogether(
            64,
            () ->
                region.get(
                    "hot",
                    k -> {
                      loads.incrementAndGet();
                      sleep(200);
                      return 42L;
                    }));
    assertThat(loads).hasValue(1);
    assertThat(results).hasSize(64).containsOnly(42L);
  }

  @Test
  void singleFlight_aFailingLoad_failsEveryWaiterAndCachesNothing() throws Exception {
    var region = instances.start().region(versions());
    var loads = new AtomicInteger();
    var outcomes =
        runTogether(
            16,
            () -> {
              try {
                return region.get(
                    "bad",
                    k -> {
                      loads.incrementAndGet();
                      sleep(100);
                      throw new IllegalStateException("database said no");
                    });
              } catch (IllegalStateException e) {
                return e.getMessage();
              }
            });
    assertThat(outcomes).containsOnly("database said no");
    assertThat(loads.get())
        .isBetween(1, 2); // one flight; a straggler arriving after it ended may start another
    assertThat(region.get("bad", k -> 7L)).isEqualTo(7L);
  }

  @Test
  void distributedSingleFlight_threeInstancesMissingOneKey_causeOneLoad() throws Exception {
    var settings = instances.settings().distributedSingleFlight(true).build();
    var loads = new AtomicInteger();
    assertThat(
            missTogether(
                List.of(
                    instances.start(settings),
                    instances.start(settings),
                    instances.start(settings)),
                "shared-with-lock",
                loads))
        .containsOnly(7L);
    assertThat(loads).hasValue(1);
  }

  @Test
  void withoutDistributedSingleFlight_eachInstanceLoadsOnce() throws Exception {
    var loads = new AtomicInteger();
    missTogether(
        List.of(instances.start(), instances.start(), instances.start()),
        "shared-without-lock",
        loads);
    assertThat(loads).hasValue(3);
  }

  private static List<Object> missTogether(
      List<CacheManager> managers, String key, AtomicInteger loads) throws Exception {
    var regions = managers.stream().map(m -> m.region(versions())).toList();
    var next = new AtomicInteger();
    return runTogether(
        12,
        () ->
            regions
                .get(next.getAndIncrement() % regions.size())
                .get(
                    key,
                    k -> {
                      loads.incrementAndGet();
                      sleep(300);
                      return 7L;
                    }));
  }

  interface Task {
    Object run() throws Exception;
  }

  static List<Object> runTogether(int threads, Task task) throws Exception {
    var pool = Executors.newFixedThreadPool(threads);
    try {
      var ready = new CountDownLatch(threads);
      var go = new CountDownLatch(1);
      var futures = new ArrayList<Future<Object>>();
      for (int i = 0; i < threads; i++) {
        futures.add(
            pool.submit(
                () -> {
                  ready.countDown();
                  go.await();
                  return task.run();
                }));
      }
      ready.await();
      go.countDown();
      var results = new ArrayList<Object>();
      for (var f : futures) {
        results.add(f.get(30, TimeUnit.SECONDS));
      }
      return results;
    } finally {
      pool.shutdownNow();
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
