package io.ballast.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.testkit.FaultProxy;
import io.ballast.testkit.RedisExtension;
import io.lettuce.core.RedisClient;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Regression: {@code invalidate()} dropped L1 before it cleared L2, so a reader that missed L1 in
 * between read the old value from L2 and put it back into L1, where it stayed until the TTL. Each
 * race is reproduced on purpose through the region's test hooks, then hunted by concurrent readers
 * and a writer.
 */
class InvalidationOrderTest {
  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();
  @RegisterExtension final Instances instances = new Instances(REDIS);

  /** The source of truth the loaders read: a version per key. */
  final Map<String, Long> db = new ConcurrentHashMap<>();

  static RegionSettings<Long> versions() {
    return RegionSettings.builder("versions", Long.class).mediumTtl().build();
  }

  Long load(String key) {
    return db.get(key);
  }

  private static TwoLevelRegion<Long> impl(CacheRegion<Long> region) {
    return (TwoLevelRegion<Long>) region;
  }

  private static void inOtherThread(Runnable r) {
    var t = new Thread(r);
    t.start();
    try {
      t.join(10_000);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void readerBetweenTheStepsOfInvalidate_cannotPutTheOldValueBack() {
    var region = instances.start().region(versions());
    db.put("k", 1L);
    assertThat(region.get("k", this::load)).isEqualTo(1L);
    db.put("k", 2L);
    var fired = new AtomicBoolean();
    impl(region).hooks =
        new TwoLevelRegion.Hooks() {
          @Override
          public void betweenInvalidationSteps(Invalidation.Kind kind, String argument) {
            fired.set(true);
            // Another request reads while the invalidation is half done: with L1 dropped first it
            // found the old
            // value in L2 and filled L1 with it.
            impl(region)
                .dropLocal(
                    Invalidation.Kind.KEY,
                    "k"); // as if L1 had already lost the entry (evicted, expired)
            inOtherThread(() -> region.get("k", InvalidationOrderTest.this::load));
          }
        };
    region.invalidate("k");
    impl(region).hooks = TwoLevelRegion.Hooks.NONE;
    assertThat(fired).isTrue();
    assertThat(region.get("k", this::load)).as("read after invalidate() returned").isEqualTo(2L);
  }

  @Test
  void readerHoldingTheOldL2Value_whileAnInvalidationRuns_doesNotKeepIt() {
    var manager = instances.start();
    var region = manager.region(versions());
    var writer = instances.start().region(versions());
    db.put("k", 1L);
    writer.put("k", 1L); // in L2 (and the writer's L1), not in this instance's L1
    db.put("k", 2L);
    var once = new AtomicBoolean();
    impl(region).hooks =
        new TwoLevelRegion.Hooks() {
          @Override
          public void afterRemoteRead(String key) {
            if (once.compareAndSet(false, true)) {
              inOtherThread(
                  () -> region.invalidate("k")); // the whole invalidation, before the fill
            }
          }
        };
    assertThat(region.get("k", this::load))
        .as("the read that began before the invalidation")
        .isEqualTo(1L);
    impl(region).hooks = TwoLevelRegion.Hooks.NONE;
    assertThat(region.get("k", this::load)).as("read after invalidate() returned").isEqualTo(2L);
  }

  @Test
  void invalidateTagAndAll_clearL2BeforeL1_too() {
    for (var op : List.of("tag", "all", "pattern")) {
      var manager = instances.start();
      var region = manager.region(RegionSettings.builder("v" + op, Long.class).mediumTtl().build());
      db.put("k", 1L);
      region.get("k", this::load, "t");
      db.put("k", 2L);
      impl(region).hooks =
          new TwoLevelRegion.Hooks() {
            @Override
            public void betweenInvalidationSteps(Invalidation.Kind kind, String argument) {
              impl(region).dropLocal(Invalidation.Kind.KEY, "k");
              inOtherThread(() -> region.get("k", InvalidationOrderTest.this::load));
            }
          };
      switch (op) {
        case "tag" -> region.invalidateTag("t");
        case "all" -> region.invalidateAll();
        default -> {
          // no hook inside deleteByPattern: the reader runs right after L2 is cleared, before the
          // method ends
          impl(region).hooks = TwoLevelRegion.Hooks.NONE;
          manager.deleteByPattern("v" + op + ":*");
        }
      }
      impl(region).hooks = TwoLevelRegion.Hooks.NONE;
      assertThat(region.get("k", this::load)).as(op).isEqualTo(2L);
    }
  }

  @Test
  void loadedEntriesWithTags_areReachedByInvalidateTag_onEveryInstance() {
    var a = instances.start();
    var b = instances.start();
    var ra = a.region(versions());
    var rb = b.region(versions());
    db.put("order:1", 1L);
    db.put("order:2", 1L);
    assertThat(ra.get("order:1", this::load, "customer:7")).isEqualTo(1L);
    assertThat(rb.get("order:1", this::load)).isEqualTo(1L); // from L2, carrying the tag
    assertThat(ra.get("order:2", this::load)).isEqualTo(1L); // untagged
    db.put("order:1", 2L);
    db.put("order:2", 2L);
    var before = b.bus.deliveryDelay().getCount();
    ra.invalidateTag("customer:7");
    assertThat(ra.get("order:1", this::load)).isEqualTo(2L);
    Instances.await("b heard it", () -> b.bus.deliveryDelay().getCount() > before);
    assertThat(rb.get("order:1", this::load)).isEqualTo(2L);
    assertThat(ra.get("order:2", this::load)).as("untagged entry kept").isEqualTo(1L);
  }

  @Test
  void putAll_publishesOneMessage_andEveryOtherInstanceDropsEveryKey() throws Exception {
    var a = instances.start();
    var b = instances.start();
    var ra = a.region(versions());
    var rb = b.region(versions());
    var entries = new HashMap<String, Long>();
    for (int i = 0; i < 1000; i++) {
      var key =
          i % 7 == 0 ? "odd:|key\n" + i : "k" + i; // keys with the message's separators in them
      entries.put(key, 1L);
      db.put(key, 1L);
    }
    rb.getAll(
        entries.keySet(),
        keys -> { // b caches version 1 of every key in its L1
          var out = new HashMap<String, Long>();
          keys.forEach(k -> out.put(k, 1L));
          return out;
        });
    var messages = new CopyOnWriteArrayList<String>();
    var client = RedisClient.create(REDIS.url());
    try (var sub = client.connectPubSub()) {
      sub.addListener(
          new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
              messages.add(message);
            }
          });
      sub.sync().subscribe(a.bus.channel());
      var twos = new HashMap<String, Long>();
      entries.keySet().forEach(k -> twos.put(k, 2L));
      var before = b.bus.deliveryDelay().getCount();
      ra.putAll(twos);
      Instances.await("b heard it", () -> b.bus.deliveryDelay().getCount() > before);
      Instances.await("the listener heard it", () -> !messages.isEmpty());
      assertThat(b.bus.deliveryDelay().getCount() - before).as("messages b received").isEqualTo(1);
      for (var key : entries.keySet()) {
        assertThat(rb.get(key)).as(key).isEqualTo(2L);
      }
    } finally {
      client.shutdown();
    }
    assertThat(messages).hasSize(1);
    assertThat(Invalidation.decodeKeys(messages.get(0).split("\\|", 5)[4]))
        .containsExactlyInAnyOrderElementsOf(entries.keySet());
  }

  /**
   * Regression: the Redis handshake was bounded by the command timeout, so a slow answer made an
   * instance start "unreachable". A handshake slower than the command timeout but within the
   * connect timeout connects.
   */
  @Test
  void handshakeSlowerThanTheCommandTimeout_stillConnects() {
    try (var proxy = FaultProxy.to(REDIS.server().host(), REDIS.server().port())) {
      proxy.delay(Duration.ofMillis(150));
      var settings =
          instances
              .settings("redis://" + proxy.host() + ":" + proxy.port())
              .commandTimeout(Duration.ofMillis(100))
              .connectTimeout(Duration.ofSeconds(3))
              .build();
      var store = new RedisStore(settings);
      try {
        store.open();
        assertThat(store.connected()).as("connected at open, not in the background").isTrue();
      } finally {
        store.close();
      }
    }
  }

  @Test
  void concurrentReadersAndAWriter_neverSeeAVersionOlderThanTheLastInvalidate_coldAndWarm()
      throws Exception {
    var region = instances.start().region(versions());
    assertThat(hunt(region, Duration.ofSeconds(2))).as("cold").isGreaterThan(1_000);
    assertThat(hunt(region, Duration.ofSeconds(4))).as("warm").isGreaterThan(1_000);
  }

  /** Returns the number of reads checked; fails on the first stale one. */
  private long hunt(CacheRegion<Long> region, Duration duration) throws Exception {
    var keys = List.of("a", "b", "c");
    var committed = new ConcurrentHashMap<String, AtomicLong>();
    for (var k : keys) {
      db.put(k, 0L);
      committed.put(k, new AtomicLong());
    }
    var stale = new CopyOnWriteArrayList<String>();
    var foundStale = new CountDownLatch(1);
    var reads = new AtomicLong();
    var stop = new AtomicBoolean();
    var pool = Executors.newFixedThreadPool(9);
    var writes = new AtomicInteger();
    var unusedWriter =
        pool.submit(
            () -> {
              var version = 0L;
              while (!stop.get()) {
                var k = keys.get(ThreadLocalRandom.current().nextInt(keys.size()));
                db.put(k, ++version);
                if (version % 2 == 0) {
                  region.put(
                      k, version); // the next invalidation then finds this (soon old) value in L2
                } else {
                  region.invalidate(k);
                }
                committed.get(k).set(version);
                writes.incrementAndGet();
              }
            });
    for (int r = 0; r < 8; r++) {
      var unused =
          pool.submit(
              () -> {
                while (!stop.get()) {
                  var k = keys.get(ThreadLocalRandom.current().nextInt(keys.size()));
                  var need = committed.get(k).get();
                  var got = region.get(k, this::load);
                  if (got < need) {
                    stale.add(k + ": read " + got + " after version " + need + " was invalidated");
                    foundStale.countDown();
                  }
                  reads.incrementAndGet();
                }
              });
    }
    var unusedFound = foundStale.await(duration.toMillis(), TimeUnit.MILLISECONDS);
    stop.set(true);
    pool.shutdown();
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    assertThat(stale).as("stale reads").isEmpty();
    assertThat(writes.get()).isGreaterThan(50);
    return reads.get();
  }
}
