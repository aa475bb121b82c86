package io.ballast.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.testkit.FaultProxy;
import io.ballast.testkit.RedisExtension;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Redis going away for real, through the fault proxy (refused, black-holed, slow) or by stopping
 * the embedded server: reads never fail, the cut instance never serves an invalidated value after
 * it reconnects, and everything recovers by itself.
 */
class RedisOutageTest {
  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();
  @RegisterExtension final Instances instances = new Instances(REDIS);

  FaultProxy proxy;

  @BeforeEach
  void proxy() {
    proxy = instances.proxy();
  }

  String proxiedUrl() {
    return instances.proxiedUrl();
  }

  static RegionSettings<Long> versions() {
    return RegionSettings.builder("versions", Long.class).mediumTtl().build();
  }

  /** Reads in a loop on a background thread, recording every exception and every value seen. */
  static final class Reader implements AutoCloseable {
    final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    final AtomicLong reads = new AtomicLong();
    final AtomicBoolean stop = new AtomicBoolean();
    final Thread thread;

    Reader(CacheRegion<Long> region, AtomicLong database, Consumer<Long> seen) {
      thread =
          new Thread(
              () -> {
                while (!stop.get()) {
                  try {
                    seen.accept(region.get("k", k -> database.get()));
                    reads.incrementAndGet();
                  } catch (Throwable e) {
                    errors.add(e);
                  }
                }
              },
              "reader");
      thread.start();
    }

    /** Waits (through the testkit's {@code Await}) until {@code n} more reads have completed. */
    void awaitMoreReads(String what, long n) {
      var target = reads.get() + n;
      Instances.await(what, () -> reads.get() >= target);
    }

    void finish() {
      stop.set(true);
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void close() {
      finish();
    }
  }

  private void outage(Runnable fault) throws Exception {
    var ticker = new FakeTicker();
    var cutInstance = instances.start(instances.settings(proxiedUrl()).ticker(ticker).build());
    var other = instances.start();
    var x = cutInstance.region(versions());
    var y = other.region(versions());
    var database = new AtomicLong(1);
    assertThat(x.get("k", k -> database.get())).isEqualTo(1L);
    assertThat(y.get("k", k -> database.get())).isEqualTo(1L);

    var afterResync = new AtomicBoolean();
    var staleAfterResync = new ConcurrentLinkedQueue<Long>();
    try (var reader =
        new Reader(
            x,
            database,
            v -> {
              if (afterResync.get() && v != 2L) {
                staleAfterResync.add(v);
              }
            })) {
      fault.run();
      Instances.await("the cut instance notices", () -> !cutInstance.redisAvailable());
      database.set(2);
      y.invalidate("k");
      var readsBefore = reader.reads.get();
      // past the degraded TTL (1s): the reader goes on, from L1 and then from the loader
      ticker.advance(Duration.ofMillis(1500));
      reader.awaitMoreReads("reads during the outage, past the degraded TTL", 11);
      assertThat(reader.reads.get())
          .as("reads made during the outage")
          .isGreaterThan(readsBefore + 10);

      proxy.restore();
      Instances.await("resynced", cutInstance::redisAvailable);
      afterResync.set(true);
      assertThat(x.get("k", k -> database.get())).isEqualTo(2L);
      reader.awaitMoreReads("reads after the resync", 50);
      assertThat(reader.errors).as("exceptions seen by callers").isEmpty();
    }
    assertThat(staleAfterResync).as("old values served after the resync").isEmpty();
    // and the cut instance uses Redis again: a put there reaches the other instance (a put made
    // while a
    // connection was still coming back is replayed as an invalidation instead, so write until one
    // lands)
    Instances.await(
        "recovered",
        () -> {
          x.put("k2", 5L);
          return Long.valueOf(5L).equals(y.get("k2"));
        });
  }

  @Test
  void refused_readsNeverFail_andTheCutInstanceNeverServesTheInvalidatedValueAfterReconnecting()
      throws Exception {
    outage(proxy::cut);
  }

  @Test
  void blackholed_readsNeverFail_andRecover() throws Exception {
    outage(proxy::blackhole);
  }

  @Test
  void slow_readsFallBackWithinTheCommandTimeout_andRecover() throws Exception {
    outage(() -> proxy.delay(Duration.ofSeconds(2)));
  }

  @Test
  void whileDisconnected_l1EntriesLiveNoLongerThanTheDegradedTtl() throws Exception {
    var ticker = new FakeTicker();
    var manager = instances.start(instances.settings(proxiedUrl()).ticker(ticker).build());
    var region = manager.region(versions());
    var database = new AtomicLong(1);
    region.get("k", k -> database.get());
    proxy.cut();
    // the degraded TTL applies once the subscription may be missing invalidations (a command
    // failing
    // first can make Redis unavailable a moment before that)
    Instances.await("subscription lost", () -> !manager.bus.synced());
    database.set(2);
    assertThat(region.get("k", k -> database.get())).as("young enough to serve").isEqualTo(1L);
    ticker.advance(Duration.ofMillis(1100));
    assertThat(region.get("k", k -> database.get()))
        .as("older than the degraded TTL")
        .isEqualTo(2L);
  }

  @Test
  void writesDuringAnOutage_changeL1_andReachOtherInstancesOnceRedisIsBack() throws Exception {
    var cutInstance = instances.start(instances.settings(proxiedUrl()).build());
    var other = instances.start();
    var x = cutInstance.region(versions());
    var y = other.region(versions());
    x.put("k", 1L);
    assertThat(y.get("k")).isEqualTo(1L);
    proxy.cut();
    Instances.await("noticed", () -> !cutInstance.redisAvailable());
    x.put("k", 3L); // no exception, though Redis is unreachable
    x.invalidate("gone");
    assertThat(x.get("k")).isEqualTo(3L);
    assertThat(cutInstance.pendingInvalidations()).isEqualTo(2);
    proxy.restore();
    Instances.await("replayed", () -> cutInstance.pendingInvalidations() == 0);
    Instances.await("the other instance dropped its old copy", () -> y.get("k") == null);
  }

  @Test
  void redisDownAtStart_theCacheStartsDegraded_andConnectsLater() throws Exception {
    proxy.cut();
    var manager = instances.startDegraded(instances.settings(proxiedUrl()).build());
    var region = manager.region(versions());
    assertThat(region.get("k", k -> 9L)).isEqualTo(9L);
    var check = new CacheCheck(manager).check();
    assertThat(check.status()).isEqualTo(io.ballast.core.ProbeStatus.DEGRADED);
    assertThat(check.message())
        .startsWith("Redis unreachable (")
        .endsWith("serving from L1 (entries at most 1s old) and loaders");
    proxy.restore();
    Instances.await("connected", manager::redisAvailable);
    assertThat(new CacheCheck(manager).check().status()).isEqualTo(io.ballast.core.ProbeStatus.UP);
    region.put("k", 10L);
    assertThat(instances.start().region(versions()).get("k")).isEqualTo(10L);
  }

  @Test
  void serverStoppedAndStarted_readsNeverFail_andTheCacheRecovers() throws Exception {
    var server = REDIS.server();
    Assumptions.assumeTrue(
        server.isEmbedded(),
        "only the embedded Redis is stopped by tests; an external one "
            + "(BALLAST_TEST_REDIS_URL) is shared and never stopped");
    var manager = instances.start();
    var region = manager.region(versions());
    var database = new AtomicLong(1);
    try (var reader = new Reader(region, database, v -> {})) {
      server.stop();
      Instances.await("noticed", () -> !manager.redisAvailable());
      reader.awaitMoreReads("reads while Redis is stopped", 10);
      server.start();
      Instances.await("recovered", manager::redisAvailable);
      reader.awaitMoreReads("reads after the recovery", 10);
      reader.finish();
      assertThat(reader.errors).isEmpty();
      assertThat(reader.reads.get()).isPositive();
    }
    region.put("after", 1L);
    assertThat(instances.start().region(versions()).get("after")).isEqualTo(1L);
  }

  @Test
  void guard_stopsCallingRedisAfterRepeatedFailures_andProbesAgainLater() throws Exception {
    var manager = instances.start(instances.settings(proxiedUrl()).build());
    var region = manager.region(RegionSettings.builder("nol1", Long.class).l1MaxSize(0).build());
    proxy.blackhole();
    for (int i = 0; i < 10; i++) {
      assertThat(region.get("k", k -> 1L)).isEqualTo(1L);
    }
    assertThat(manager.guard.state()).isIn("OPEN", "HALF_OPEN");
    var errorsWhileOpen = region.stats().errors();
    assertThat(errorsWhileOpen).as("calls made before the guard opened").isBetween(3L, 5L);
    for (int i = 0; i < 50; i++) {
      region.get("k", k -> 1L);
    }
    assertThat(region.stats().errors())
        .as("no calls while open")
        .isLessThanOrEqualTo(errorsWhileOpen + 1);
    proxy.restore();
    Instances.await(
        "closed again",
        () -> {
          region.get("k", k -> 1L);
          return manager.guard.state().equals("CLOSED");
        });
    List.of(1, 2, 3).forEach(i -> region.get("k", k -> 1L));
    assertThat(region.stats().l2Hits()).isPositive();
  }
}
