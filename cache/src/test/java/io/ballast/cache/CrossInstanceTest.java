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
        var delivered = readers.stream().map(m -> m.bus.deliveryDelay().getCount()).toList();
        database.set(
            round); // the write to the database, then the invalidation, as an application does it
        a.invalidate("k");
        for (int i = 0; i < readers.size(); i++) {
          var m = readers.get(i);
          var before = delivered.get(i);
          Instances.await("delivery", () -> m.bus.deliveryDelay().getCount() > before);
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
    var delay = readers.get(0).bus.deliveryDelay().getSnapshot();
    LOG.info(
        "Invalidation delivery delay over {} messages: mean {} µs, median {} µs, p99 {} µs, max {} µs",
        readers.get(0).bus.deliveryDelay().getCount(),
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
    var onB = b.region(versions());
    a.region(versions()).put("k", 1L);
    onB.put("k", 2L);
    Instances.await(
        "each heard the other",
        () -> a.bus.deliveryDelay().getCount() == 1 && b.bus.deliveryDelay().getCount() == 1);
    // messages arrive in publication order: once b's marker reached a, a's own put has been
    // delivered to a too, and must not have been applied
    onB.put("marker", 3L);
    Instances.await("a heard the marker", () -> a.bus.deliveryDelay().getCount() >= 2);
    assertThat(a.bus.deliveryDelay().getCount())
        .as("a's own message is not applied by a")
        .isEqualTo(2);
    assertThat(b.bus.deliveryDelay().getCount()).isEqualTo(1);
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
                      awaitWaiting(region, k, 63);
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
                      awaitWaiting(region, k, 15);
                      throw new IllegalStateException("database said no");
                    });
              } catch (IllegalStateException e) {
                return e.getMessage();
              }
            });
    assertThat(outcomes).hasSize(16).containsOnly("database said no");
    assertThat(loads).hasValue(1);
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
                loads,
                true))
        .containsOnly(7L);
    assertThat(loads).hasValue(1);
  }

  @Test
  void withoutDistributedSingleFlight_eachInstanceLoadsOnce() throws Exception {
    var loads = new AtomicInteger();
    missTogether(
        List.of(instances.start(), instances.start(), instances.start()),
        "shared-without-lock",
        loads,
        false);
    assertThat(loads).hasValue(3);
  }

  /**
   * 12 callers, 4 on each instance, miss {@code key} together. A load returns only once every other
   * caller of its instance waits for it and, without the distributed lock, once every instance's
   * load has begun (with it, once every instance's callers wait): the callers cannot arrive one
   * after another and find the value stored.
   */
  private static List<Object> missTogether(
      List<CacheManager> managers, String key, AtomicInteger loads, boolean everyInstance)
      throws Exception {
    var regions = managers.stream().map(m -> (TwoLevelRegion<Long>) m.region(versions())).toList();
    var next = new AtomicInteger();
    return runTogether(
        12,
        () -> {
          var region = regions.get(next.getAndIncrement() % regions.size());
          return region.get(
              key,
              k -> {
                loads.incrementAndGet();
                if (everyInstance) {
                  Instances.await(
                      "every instance's other callers waiting",
                      () -> regions.stream().mapToInt(r -> r.waitingForLoad(k)).sum() == 9);
                } else {
                  // every instance's load has begun (none can find another's result in L2 yet),
                  // and this instance's other callers wait for this one
                  Instances.await("a load on every instance", () -> loads.get() == 3);
                  awaitWaiting(region, k, 3);
                }
                return 7L;
              });
        });
  }

  /** Holds a load until {@code n} other callers of {@code region} wait for it. */
  private static void awaitWaiting(CacheRegion<?> region, String key, int n) {
    var twoLevel = (TwoLevelRegion<?>) region;
    Instances.await(n + " callers waiting for the load", () -> twoLevel.waitingForLoad(key) == n);
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
}
