package io.ballast.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.cache.CacheSettings;
import io.ballast.cache.Caches;
import io.ballast.cache.RedisCacheModule;
import io.ballast.cache.RegionSettings;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.HealthRegistry;
import io.ballast.core.ProbeKind;
import io.ballast.core.ProbeStatus;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.testkit.FaultProxy;
import io.ballast.testkit.PostgresExtension;
import io.ballast.testkit.RedisExtension;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The resilience module's breaker in the cache's guard slot, against a real Redis behind the fault
 * proxy.
 */
class RedisBreakerTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();

  @Test
  void whileTheRedisBreakerIsOpen_theCacheRunsOnL1WithoutCallingRedis_andRecovers()
      throws Exception {
    try (var proxy = FaultProxy.to(REDIS.server().host(), REDIS.server().port());
        var app =
            Ballast.start(
                new CoreModule(CoreSettings.defaults()),
                new PoolModule(PoolSettings.builder().url(PG.databaseUrl()).build()),
                new RedisCacheModule(
                    CacheSettings.builder()
                        .redisUrl("redis://" + proxy.host() + ":" + proxy.port())
                        .namespace(REDIS.keyPrefix())
                        .commandTimeout(Duration.ofMillis(100))
                        .heartbeat(Duration.ofMillis(100))
                        .retryDelay(Duration.ofMillis(20))
                        .reconnectDelayMax(Duration.ofMillis(200))
                        .build()),
                new ResilienceModule(
                    ResilienceSettings.builder()
                        .redisFailureThreshold(3)
                        .redisOpenDuration(Duration.ofSeconds(1))
                        .build()))) {
      var caches = app.get(Caches.class);
      DatabaseBreakerTest.await("connected", caches::redisAvailable);
      var region =
          caches.region(RegionSettings.builder("items", String.class).l1MaxSize(0).build());
      region.put("k", "v");
      assertThat(region.get("k")).isEqualTo("v");
      var breaker = app.get(RedisBreakerGuard.class).breaker();
      assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);

      proxy.blackhole();
      for (int i = 0; i < 10; i++) {
        assertThat(region.get("k", key -> "from the loader")).isEqualTo("from the loader");
      }
      assertThat(breaker.getState())
          .isIn(CircuitBreaker.State.OPEN, CircuitBreaker.State.HALF_OPEN);
      var errors = region.stats().errors();
      var refusedBefore = breaker.getMetrics().getNumberOfNotPermittedCalls();
      for (int i = 0; i < 50; i++) {
        region.get("k", key -> "from the loader");
      }
      assertThat(breaker.getMetrics().getNumberOfNotPermittedCalls())
          .isGreaterThan(refusedBefore + 40);
      assertThat(region.stats().errors())
          .as("Redis calls made while open")
          .isLessThanOrEqualTo(errors + 2);
      var ready = app.get(HealthRegistry.class).run(ProbeKind.READY);
      assertThat(ready.status()).isEqualTo(ProbeStatus.DEGRADED);
      assertThat(ready.check("cache").orElseThrow().status()).isEqualTo(ProbeStatus.DEGRADED);
      assertThat(ready.check("redis.breaker"))
          .as("the breaker shows in the cache check, not in one of its own")
          .isEmpty();
      assertThat(ready.check("cache").orElseThrow().details().get("guard"))
          .isIn("OPEN", "HALF_OPEN");

      proxy.restore();
      DatabaseBreakerTest.await(
          "Redis back",
          () -> caches.redisAvailable() && breaker.getState() == CircuitBreaker.State.CLOSED);
      region.put("k2", "v2");
      assertThat(region.get("k2")).isEqualTo("v2");
      assertThat(app.get(HealthRegistry.class).run(ProbeKind.READY).status())
          .isEqualTo(ProbeStatus.UP);
    }
  }
}
