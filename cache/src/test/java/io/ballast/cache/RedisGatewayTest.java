package io.ballast.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import io.ballast.testkit.RedisExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The one way to Redis: typed results, refusals, failures counted and told to the guard, on a real
 * Redis.
 */
class RedisGatewayTest {
  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();
  @RegisterExtension final Instances instances = new Instances(REDIS);

  @Test
  void callsReachRedis_onlyWhileOpen_andFailuresComeBackAsResults() {
    var proxy = instances.proxy();
    var settings = instances.settings(instances.proxiedUrl()).build();
    var store = new RedisStore(settings);
    var metrics = new MetricRegistry();
    var guard = new FailureCountingGuard(settings);
    var gateway = new RedisGateway(store, guard, metrics);
    var regionErrors = new Meter();
    try {
      store.open();
      Instances.await("connected", store::connected);
      var key = instances.key("gateway:k");
      assertThat(gateway.call(s -> s.get(key), regionErrors).ok())
          .as("refused before open")
          .isFalse();
      gateway.open();
      assertThat(
              gateway.run(
                  s ->
                      s.setAll(
                          Map.of(key, "v".getBytes(StandardCharsets.UTF_8)),
                          Duration.ofMinutes(1),
                          List.of(),
                          false),
                  regionErrors))
          .isTrue();
      var read = gateway.call(s -> s.get(key), regionErrors);
      assertThat(read.ok()).isTrue();
      assertThat(new String(read.value(), StandardCharsets.UTF_8)).isEqualTo("v");
      assertThat(metrics.timer("ballast.cache.redis.latency").getCount()).isEqualTo(2);

      proxy.cut();
      var failed = gateway.call(s -> s.get(key), regionErrors);
      assertThat(failed.ok()).isFalse();
      assertThat(failed.value()).isNull();
      assertThat(metrics.meter("ballast.cache.redis.errors").getCount()).isPositive();
      assertThat(regionErrors.getCount())
          .isEqualTo(metrics.meter("ballast.cache.redis.errors").getCount());
      for (int i = 0; i < 10; i++) {
        gateway.call(s -> s.get(key), regionErrors);
      }
      assertThat(guard.isOpen()).as("the guard heard the failures").isTrue();
      var errorsWhileOpen = metrics.meter("ballast.cache.redis.errors").getCount();
      assertThat(gateway.call(s -> s.get(key), regionErrors).ok()).isFalse();
      assertThat(metrics.meter("ballast.cache.redis.errors").getCount())
          .as("refused by the guard, not tried")
          .isEqualTo(errorsWhileOpen);
      gateway.close();
      assertThat(gateway.run(s -> s.ping(), regionErrors)).isFalse();
    } finally {
      store.close();
    }
    var none = new RedisGateway(null, new FailureCountingGuard(settings), new MetricRegistry());
    none.open();
    assertThat(none.present()).isFalse();
    assertThat(none.call(s -> s.get("k"), null).ok()).isFalse();
  }
}
