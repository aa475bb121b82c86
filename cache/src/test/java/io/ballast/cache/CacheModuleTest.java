package io.ballast.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.inject.AbstractModule;
import com.google.inject.CreationException;
import com.google.inject.Guice;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.Extensions;
import io.ballast.core.HealthRegistry;
import io.ballast.core.ProbeKind;
import io.ballast.core.ProbeStatus;
import io.ballast.core.RedisGuard;
import io.ballast.core.admin.AdminModule;
import io.ballast.core.admin.AdminServer;
import io.ballast.core.admin.AdminSettings;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.testkit.FaultProxy;
import io.ballast.testkit.PostgresExtension;
import io.ballast.testkit.RedisExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.jooq.DSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Guice modules in an application: PostgreSQL behind the loaders, Redis behind a fault proxy,
 * HTTP.
 */
class CacheModuleTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();
  @RegisterExtension final Instances instances = new Instances(REDIS);
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final ObjectMapper JSON = new ObjectMapper();

  FaultProxy proxy;

  record Product(long id, String name, int priceCents) {}

  @BeforeAll
  static void schema() throws Exception {
    PG.execute(
        "create table product (id bigint primary key, name text not null, price_cents int not null)",
        "insert into product select g, 'product ' || g, g * 100 from generate_series(1, 100) g");
  }

  @BeforeEach
  void proxy() {
    proxy = instances.proxy();
  }

  CacheSettings settings() {
    return instances.settings(instances.proxiedUrl()).build();
  }

  Ballast start(com.google.inject.Module cacheModule, com.google.inject.Module... more) {
    var modules = new java.util.ArrayList<com.google.inject.Module>();
    modules.add(new CoreModule(CoreSettings.defaults()));
    modules.add(
        new PoolModule(PoolSettings.builder().url(PG.databaseUrl()).connectionLimit(4).build()));
    modules.add(cacheModule);
    modules.add(new AdminModule(AdminSettings.builder().port(0).build()));
    modules.addAll(java.util.List.of(more));
    return Ballast.start(modules);
  }

  @Test
  void redisCacheModule_connectsNothingInConfigure_andAtStart() {
    var injector =
        Guice.createInjector(
            new CoreModule(CoreSettings.defaults()),
            new PoolModule(PoolSettings.builder().url(PG.databaseUrl()).build()),
            new RedisCacheModule(settings()));
    var caches = injector.getInstance(Caches.class);
    caches.region(RegionSettings.builder("early", String.class).build()).put("k", "v");
    assertThat(proxy.openConnections()).as("connections before start").isZero();
    try (var app = start(new RedisCacheModule(settings()))) {
      Instances.await("connected", () -> app.get(Caches.class).redisAvailable());
      assertThat(proxy.openConnections()).isEqualTo(2); // commands and the subscription
      assertThat(app.get(Caches.class).twoLevel()).isTrue();
    }
  }

  @Test
  void aCachedPostgresRead_loadsOnce_andAWriteThenInvalidateIsSeenNextRead() {
    try (var app = start(new RedisCacheModule(settings()))) {
      // the subscription's first confirmation drops L1 (the resync): wait for it, or it may drop
      // the first load
      Instances.await("connected", () -> app.get(Caches.class).redisAvailable());
      var db = app.get(DSLContext.class);
      var products =
          app.get(Caches.class).region(RegionSettings.builder("products", Product.class).build());
      var queries = new AtomicInteger();
      java.util.function.Function<String, Product> load =
          id -> {
            queries.incrementAndGet();
            var r =
                db.fetchOne(
                    "select id, name, price_cents from product where id = ?", Long.parseLong(id));
            return r == null
                ? null
                : new Product(
                    r.get(0, Long.class), r.get(1, String.class), r.get(2, Integer.class));
          };
      assertThat(products.get("7", load)).isEqualTo(new Product(7, "product 7", 700));
      for (int i = 0; i < 20; i++) {
        assertThat(products.get("7", load)).isEqualTo(new Product(7, "product 7", 700));
      }
      assertThat(queries).hasValue(1);
      db.execute("update product set price_cents = 750 where id = 7");
      products.invalidate("7");
      assertThat(products.get("7", load).priceCents()).isEqualTo(750);
      assertThat(queries).hasValue(2);
      var metrics = app.get(MetricRegistry.class);
      assertThat(metrics.getGauges())
          .containsKeys(
              "ballast.cache.products.l1.hits",
              "ballast.cache.products.hit-ratio",
              "ballast.cache.products.l2.hit-ratio",
              "ballast.cache.redis.available");
      assertThat(metrics.getGauges().get("ballast.cache.products.l1.hits").getValue())
          .isEqualTo(20L);
      assertThat(metrics.getTimers().get("ballast.cache.products.loads").getCount()).isEqualTo(2);
      assertThat(metrics.getTimers().get("ballast.cache.redis.latency").getCount()).isPositive();
    }
  }

  @Test
  void healthCache_reportsRedisAndRegions_andARedisOutageIsDegradedNotDown() throws Exception {
    try (var app = start(new RedisCacheModule(settings()))) {
      Instances.await("connected", () -> app.get(Caches.class).redisAvailable());
      var region =
          app.get(Caches.class).region(RegionSettings.builder("cold", String.class).build());
      for (int i = 0; i < 200; i++) {
        region.get("k" + i, k -> "v"); // every read a miss: hit ratio 0
      }
      var port = app.get(AdminServer.class).port();
      var up = get(port, "/health/cache");
      assertThat(up.statusCode()).isEqualTo(200);
      var body = JSON.readTree(up.body());
      assertThat(body.get("status").asText()).isEqualTo("UP");
      var cache = body.get("checks").get("cache");
      assertThat(cache.get("details").get("redis").get("version").asText())
          .matches("\\d+\\.\\d+\\.\\d+");
      assertThat(cache.get("details").get("redis").get("subscription").asText()).isEqualTo("live");
      assertThat(cache.get("details").get("redis").has("pingMs")).isTrue();
      assertThat(cache.get("details").get("redis").has("usedMemory")).isTrue();
      assertThat(cache.get("details").get("redis").has("connectedClients")).isTrue();
      assertThat(cache.get("details").get("regions").get("cold").get("recommendation").asText())
          .isEqualTo("hit ratio 0 % < 50 %: raise the TTL (now 5m) or the L1 size (now 10000)");

      proxy.cut();
      Instances.await("noticed", () -> !app.get(Caches.class).redisAvailable());
      var degraded = get(port, "/health/cache");
      assertThat(degraded.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(degraded.body()).get("status").asText()).isEqualTo("DEGRADED");
      var ready = get(port, "/health/ready");
      assertThat(ready.statusCode()).isEqualTo(200);
      JsonNode readyBody = JSON.readTree(ready.body());
      assertThat(readyBody.get("status").asText()).isEqualTo("DEGRADED");
      assertThat(readyBody.get("checks").get("cache").get("message").asText())
          .endsWith("serving from L1 (entries at most 1s old) and loaders");
      assertThat(readyBody.get("checks").get("db").get("status").asText()).isEqualTo("UP");

      proxy.restore();
      Instances.await("recovered", () -> app.get(Caches.class).redisAvailable());
      assertThat(app.get(HealthRegistry.class).run(ProbeKind.READY).status())
          .isEqualTo(ProbeStatus.UP);
    }
  }

  @Test
  void localCacheModule_bindsTheSameKeys_withoutRedis() throws Exception {
    try (var app = start(new LocalCacheModule(settings()))) {
      var caches = app.get(Caches.class);
      assertThat(caches.twoLevel()).isFalse();
      var region = caches.region(RegionSettings.builder("local", String.class).build());
      region.put("k", "v");
      assertThat(region.get("k")).isEqualTo("v");
      assertThat(proxy.openConnections()).isZero();
      var check = app.get(HealthRegistry.class).run(ProbeKind.READY).check("cache").orElseThrow();
      assertThat(check.status()).isEqualTo(ProbeStatus.UP);
      assertThat(check.message()).isEqualTo("L1 only");
    }
  }

  @Test
  void redisDisabled_runsTheRedisModuleOnL1Only() {
    try (var app =
        start(new RedisCacheModule(CacheSettings.builder().redisEnabled(false).build()))) {
      assertThat(app.get(Caches.class).twoLevel()).isFalse();
      assertThat(
              app.get(HealthRegistry.class)
                  .run(ProbeKind.READY)
                  .check("cache")
                  .orElseThrow()
                  .message())
          .isEqualTo("L1 only (REDIS_ENABLED=false)");
    }
  }

  @Test
  void bothModules_isAGuiceError() {
    assertThatThrownBy(
            () ->
                Guice.createInjector(
                    new RedisCacheModule(settings()), new LocalCacheModule(settings())))
        .isInstanceOf(CreationException.class)
        .hasMessageContaining("CacheSettings was bound multiple times");
  }

  /**
   * What the resilience module does: fill the guard slot. A guard that refuses everything keeps
   * Redis idle.
   */
  static final class RefusingGuardModule extends AbstractModule {
    static final AtomicInteger ASKED = new AtomicInteger();

    @Override
    protected void configure() {
      Extensions.redisGuard(binder())
          .setBinding()
          .toInstance(
              new RedisGuard() {
                @Override
                public boolean tryAcquirePermission() {
                  ASKED.incrementAndGet();
                  return false;
                }

                @Override
                public void onSuccess(long nanos) {}

                @Override
                public void onError(long nanos, Throwable error) {}

                @Override
                public boolean isOpen() {
                  return true;
                }

                @Override
                public String state() {
                  return "FORCED_OPEN";
                }
              });
    }
  }

  @Test
  void theGuardSlot_acceptsAnotherGuard_whichDecidesWhetherRedisIsCalled() {
    try (var app = start(new RedisCacheModule(settings()), new RefusingGuardModule())) {
      var region =
          app.get(Caches.class).region(RegionSettings.builder("guarded", String.class).build());
      var loads = new AtomicInteger();
      region.get("k", k -> "v" + loads.incrementAndGet());
      region.put("p", "q");
      assertThat(RefusingGuardModule.ASKED.get()).isPositive();
      assertThat(region.stats().errors()).isZero();
      var check = app.get(HealthRegistry.class).run(ProbeKind.READY).check("cache").orElseThrow();
      assertThat(check.status()).isEqualTo(ProbeStatus.DEGRADED);
      assertThat(check.details().get("guard")).isEqualTo("FORCED_OPEN");
    }
    var peer = instances.start();
    assertThat(peer.region(RegionSettings.builder("guarded", String.class).build()).get("p"))
        .as("nothing reached Redis")
        .isNull();
  }

  static HttpResponse<String> get(int port, String path) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
