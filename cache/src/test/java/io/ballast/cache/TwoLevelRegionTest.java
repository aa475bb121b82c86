package io.ballast.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.testkit.Await;
import io.ballast.testkit.RedisExtension;
import io.lettuce.core.RedisClient;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** One or two instances on a real Redis: the read and write paths, tags, counters, bad input. */
class TwoLevelRegionTest {
  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();
  @RegisterExtension final Instances instances = new Instances(REDIS);

  record User(long id, String name) {}

  static RedisClient raw;

  @BeforeAll
  static void rawClient() {
    raw = RedisClient.create(REDIS.url());
  }

  @AfterAll
  static void closeRaw() {
    raw.shutdown();
  }

  static RegionSettings<User> users() {
    return RegionSettings.builder("users", User.class).mediumTtl().build();
  }

  @Test
  void getWithLoader_loadsOnceThenServesFromL1_andAnotherInstanceFromL2() {
    var a = instances.start().region(users());
    var b = instances.start().region(users());
    var loads = new AtomicInteger();
    var first =
        a.get(
            "1",
            k -> {
              loads.incrementAndGet();
              return new User(1, "ada");
            });
    assertThat(first).isEqualTo(new User(1, "ada"));
    assertThat(a.get("1", k -> fail())).isEqualTo(first);
    assertThat(b.get("1", k -> fail())).isEqualTo(first);
    assertThat(loads).hasValue(1);
    assertThat(a.stats().l1Hits()).isEqualTo(1);
    assertThat(a.stats().loads()).isEqualTo(1);
    assertThat(b.stats().l2Hits()).isEqualTo(1);
    assertThat(b.stats().l1Misses()).isEqualTo(1);
    try (var c = raw.connect()) {
      assertThat(c.sync().pttl(instances.key("c:users:1"))).isBetween(290_000L, 300_000L);
    }
  }

  @Test
  void put_reachesOtherInstancesAndInvalidate_removesEverywhere() {
    var a = instances.start().region(users());
    var b = instances.start().region(users());
    a.put("2", new User(2, "bob"));
    assertThat(b.get("2")).isEqualTo(new User(2, "bob"));
    a.invalidate("2");
    Instances.await("b drops its L1 copy", () -> b.get("2") == null);
    assertThat(a.get("2")).isNull();
  }

  @Test
  void getAll_usesOneMgetAndOneBulkLoadForTheMisses() {
    var a = instances.start().region(users());
    var other = instances.start();
    var b = other.region(users());
    a.put("1", new User(1, "ada"));
    a.put("2", new User(2, "bob"));
    // the puts' invalidations reach b asynchronously; one arriving mid-read would keep the read out
    // of L1
    Instances.await("b heard both puts", () -> other.bus.deliveryDelay().getCount() == 2);
    b.get("1");
    var calls = new CopyOnWriteArrayList<Set<String>>();
    var result =
        b.getAll(
            List.of("1", "2", "3", "4"),
            keys -> {
              calls.add(keys);
              var out = new HashMap<String, User>();
              keys.forEach(
                  k -> {
                    if (!k.equals("4")) {
                      out.put(k, new User(Long.parseLong(k), "user" + k));
                    }
                  });
              return out;
            });
    assertThat(result).containsOnlyKeys("1", "2", "3");
    assertThat(calls).containsExactly(Set.of("3", "4"));
    var s = b.stats();
    assertThat(s.l1Hits()).isEqualTo(1); // "1" was read into L1 before
    assertThat(s.l2Hits()).isEqualTo(2); // "1" by the get, "2" by the MGET
    assertThat(s.l2Misses()).isEqualTo(2); // "3" and "4" in the MGET
  }

  @Test
  void negativeCaching_remembersNotFoundForItsOwnTtl() {
    var ticker = new FakeTicker();
    var region =
        instances
            .start(instances.settings().ticker(ticker).build())
            .region(
                RegionSettings.builder("users", User.class)
                    .mediumTtl()
                    .negativeTtl(Duration.ofMillis(300))
                    .build());
    var loads = new AtomicInteger();
    assertThat(
            region.get(
                "404",
                k -> {
                  loads.incrementAndGet();
                  return null;
                }))
        .isNull();
    assertThat(
            region.get(
                "404",
                k -> {
                  loads.incrementAndGet();
                  return null;
                }))
        .isNull();
    assertThat(loads).hasValue(1);
    try (var c = raw.connect()) {
      assertThat(c.sync().pttl(instances.key("c:users:404"))).isBetween(1L, 300L);
      // Redis expires its copy on its own clock; L1's follows the test's ticker
      Await.until(
          "Redis expired the negative entry",
          Duration.ofSeconds(5),
          () -> c.sync().pttl(instances.key("c:users:404")) == -2);
    }
    ticker.advance(Duration.ofMillis(299));
    assertThat(
            region.get(
                "404",
                k -> {
                  loads.incrementAndGet();
                  return null;
                }))
        .as("still cached as absent in L1")
        .isNull();
    assertThat(loads).hasValue(1);
    ticker.advance(Duration.ofMillis(2));
    region.get(
        "404",
        k -> {
          loads.incrementAndGet();
          return null;
        });
    assertThat(loads).hasValue(2);
  }

  @Test
  void withoutNegativeTtl_notFoundIsNotCached() {
    var region = instances.start().region(users());
    var loads = new AtomicInteger();
    region.get(
        "404",
        k -> {
          loads.incrementAndGet();
          return null;
        });
    region.get(
        "404",
        k -> {
          loads.incrementAndGet();
          return null;
        });
    assertThat(loads).hasValue(2);
  }

  @Test
  void invalidateTag_removesTaggedEntriesInL2AndEveryInstancesL1() {
    var a = instances.start().region(users());
    var b = instances.start().region(users());
    var c = instances.start().region(users());
    a.put("1", new User(1, "ada"), "team:7");
    a.put("2", new User(2, "bob"), "team:7", "admins");
    a.put("3", new User(3, "cy"), "team:8");
    for (var r : List.of(b, c)) {
      assertThat(r.get("1")).isNotNull();
      assertThat(r.get("2")).isNotNull();
      assertThat(r.get("3")).isNotNull();
    }
    b.invalidateTag("team:7");
    for (var r : List.of(a, b, c)) {
      Instances.await("tagged entries gone", () -> r.get("1") == null && r.get("2") == null);
      assertThat(r.get("3")).isEqualTo(new User(3, "cy"));
    }
    try (var conn = raw.connect()) {
      assertThat(
              conn.sync()
                  .exists(
                      instances.key("c:users:1"),
                      instances.key("c:users:2"),
                      instances.key("t:users:team:7")))
          .isZero();
    }
  }

  @Test
  void invalidateAll_clearsTheRegionOnly() {
    var a = instances.start();
    var b = instances.start();
    var usersA = a.region(users());
    var usersB = b.region(users());
    var ordersA = a.region(RegionSettings.builder("orders", String.class).build());
    usersA.put("1", new User(1, "ada"));
    ordersA.put("9", "order nine");
    assertThat(usersB.get("1")).isNotNull();
    usersA.invalidateAll();
    Instances.await("b's users cleared", () -> usersB.get("1") == null);
    assertThat(ordersA.get("9")).isEqualTo("order nine");
  }

  @Test
  void counters_countAcrossInstancesWithAFixedWindow() throws Exception {
    var a = instances.start();
    var b = instances.start();
    assertThat(a.increment("logins:ada", 1, Duration.ofMillis(500))).isEqualTo(1);
    assertThat(b.increment("logins:ada", 1, Duration.ofMillis(500))).isEqualTo(2);
    assertThat(a.decrement("logins:ada", 1, Duration.ofMillis(500))).isEqualTo(1);
    try (var c = raw.connect()) {
      Await.until(
          "the window ended in Redis",
          Duration.ofSeconds(5),
          () -> c.sync().pttl(instances.key("n:logins:ada")) == -2);
    }
    assertThat(b.increment("logins:ada", 5, Duration.ofMillis(500))).isEqualTo(5);
    assertThatThrownBy(() -> a.increment("x", 1, Duration.ZERO))
        .hasMessage("ttl must be positive, but was PT0S");
  }

  @Test
  void deleteByPattern_usesScanAndUnlinkAndReachesEveryL1() {
    var a = instances.start();
    var b = instances.start();
    var usersA = a.region(users());
    var usersB = b.region(users());
    for (int i = 0; i < 1200; i++) {
      usersA.put("tenant7:" + i, new User(i, "u" + i));
    }
    usersA.put("tenant8:1", new User(1, "other"));
    assertThat(usersB.get("tenant7:5")).isNotNull();
    assertThat(a.deleteByPattern("users:tenant7:*")).isEqualTo(1200);
    Instances.await("b dropped its copy", () -> usersB.get("tenant7:5") == null);
    assertThat(usersA.get("tenant7:5")).isNull();
    assertThat(usersB.get("tenant8:1")).isNotNull();
  }

  @Test
  void corruptEntryInRedis_isAMissThatIsLoggedOnceAndOverwritten() {
    var region = instances.start().region(users());
    try (var conn = raw.connect()) {
      conn.sync().set(instances.key("c:users:5"), "garbage that is no envelope");
      assertThat(region.get("5", k -> new User(5, "eve"))).isEqualTo(new User(5, "eve"));
      assertThat(region.stats().corrupt()).isEqualTo(1);
      var stored = conn.sync().get(instances.key("c:users:5"));
      assertThat(stored).isNotEqualTo("garbage that is no envelope");
      // a well-formed envelope whose payload is not a User: also a miss
      var other = instances.start().region(RegionSettings.builder("users", String.class).build());
      assertThat(other.get("5")).isNull();
      assertThat(other.stats().corrupt()).isEqualTo(1);
    }
  }

  @Test
  void badInput_getsClearErrors() {
    var manager = instances.start();
    var region = manager.region(users());
    assertThatThrownBy(() -> region.get(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("cache key must not be null");
    assertThatThrownBy(() -> region.get("", k -> null)).hasMessage("cache key must not be empty");
    assertThatThrownBy(() -> region.put("1", null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage(
            "cache value for key 1 in region users must not be null; use invalidate(key) to remove an entry");
    assertThatThrownBy(() -> region.put("1", new User(1, "x"), (String) null))
        .hasMessage("cache tag must not be null");
    assertThatThrownBy(() -> manager.region(users()))
        .hasMessageStartingWith("A cache region named users already exists");
    assertThatThrownBy(
            () ->
                manager.region(
                    RegionSettings.builder("short", String.class)
                        .l1Ttl(Duration.ofHours(1))
                        .build()))
        .hasMessage(
            "short.l1_ttl must not be longer than the region's ttl (5m, from CACHE_TTL_SECONDS), but was 1h");
  }

  @Test
  void aValueTheCodecCannotEncode_failsThePutAndChangesNothing() {
    var region = instances.start().region(RegionSettings.builder("things", Object.class).build());
    region.put("ok", "fine");
    assertThatThrownBy(() -> region.put("ok", new Object()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "Cache region things cannot encode a java.lang.Object with JsonCodec[");
    assertThat(region.get("ok")).isEqualTo("fine");
  }

  @Test
  void l1Disabled_everyReadGoesToRedis() {
    var region =
        instances.start().region(RegionSettings.builder("nol1", String.class).l1MaxSize(0).build());
    region.put("k", "v");
    assertThat(region.get("k")).isEqualTo("v");
    assertThat(region.get("k")).isEqualTo("v");
    assertThat(region.stats().l2Hits()).isEqualTo(2);
    assertThat(region.stats().l1Hits()).isZero();
  }

  @Test
  void localOnly_worksWithoutRedis() {
    var manager = instances.local(CacheSettings.defaults());
    var region = manager.region(users());
    var loads = new AtomicInteger();
    region.get(
        "1",
        k -> {
          loads.incrementAndGet();
          return new User(1, "ada");
        });
    assertThat(region.get("1", k -> fail())).isEqualTo(new User(1, "ada"));
    assertThat(loads).hasValue(1);
    region.put("2", new User(2, "bob"), "t");
    region.invalidateTag("t");
    assertThat(region.get("2")).isNull();
    assertThat(manager.increment("n", 2, Duration.ofMinutes(1))).isEqualTo(2);
    assertThat(manager.twoLevel()).isFalse();
  }

  @SuppressWarnings(
      "TypeParameterUnusedInFormals") // a loader that must not run, usable for any value type
  static <T> T fail() {
    throw new AssertionError("the loader must not be called");
  }

  @Test
  void l1Ttl_expiresTheLocalCopyFirst_thenRedisAnswers() {
    var ticker = new FakeTicker();
    var region =
        instances
            .start(instances.settings().ticker(ticker).build())
            .region(
                RegionSettings.builder("users", User.class)
                    .mediumTtl()
                    .l1Ttl(Duration.ofMillis(200))
                    .build());
    region.put("1", new User(1, "ada"));
    assertThat(region.get("1")).isNotNull();
    ticker.advance(Duration.ofMillis(199));
    assertThat(region.get("1")).isNotNull();
    assertThat(region.stats().l1Hits()).isEqualTo(2);
    ticker.advance(Duration.ofMillis(2));
    assertThat(region.get("1")).isEqualTo(new User(1, "ada"));
    assertThat(region.stats().l1Misses()).isEqualTo(1);
    assertThat(region.stats().l2Hits()).isEqualTo(1);
  }

  @Test
  void expiredL1Entries_thatNobodyReads_areSweptOut() {
    var ticker = new FakeTicker();
    var manager = instances.local(CacheSettings.builder().ticker(ticker).build());
    var region =
        (TwoLevelRegion<User>)
            manager.region(
                RegionSettings.builder("users", User.class).ttl(Duration.ofMillis(100)).build());
    for (int i = 0; i < 50; i++) {
      region.put(Integer.toString(i), new User(i, "u"));
    }
    assertThat(region.stats().l1Size()).isEqualTo(50);
    region.sweepExpired();
    assertThat(region.stats().l1Size()).as("not expired yet").isEqualTo(50);
    ticker.advance(Duration.ofMillis(100));
    region.sweepExpired();
    assertThat(region.stats().l1Size()).isZero();
  }
}
