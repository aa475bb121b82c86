package io.ballast.cache;

import com.codahale.metrics.MetricRegistry;
import io.ballast.testkit.Await;
import io.ballast.testkit.FaultProxy;
import io.ballast.testkit.RedisExtension;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Independent cache instances for one test, as separate services would have them: each with its own
 * Lettuce client, its own L1 and its own metric registry, all on the test class's Redis key space.
 * Closed after each test.
 */
final class Instances implements BeforeEachCallback, AfterEachCallback {
  private static final AtomicInteger TESTS = new AtomicInteger();
  private final RedisExtension redis;
  private final List<CacheManager> started = new ArrayList<>();
  private String namespace;
  private FaultProxy proxy;

  /** A fault proxy in front of the class's Redis, for this test; closed after it. */
  FaultProxy proxy() {
    if (proxy == null) {
      proxy = FaultProxy.to(redis.server().host(), redis.server().port());
    }
    return proxy;
  }

  /** The URL of Redis through {@link #proxy()}. */
  String proxiedUrl() {
    return "redis://" + proxy().host() + ":" + proxy().port();
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    namespace = redis.keyPrefix() + "m" + TESTS.incrementAndGet() + ":";
  }

  /** This test's own key space inside the class's, so tests never see each other's entries. */
  String namespace() {
    return namespace;
  }

  /** {@code name} (e.g. {@code c:users:1}) in this test's key space. */
  String key(String name) {
    return namespace + name;
  }

  Instances(RedisExtension redis) {
    this.redis = redis;
  }

  /** Settings tuned for tests: short timeouts and backoffs, on this class's key prefix. */
  CacheSettings.Builder settings() {
    return settings(redis.url());
  }

  CacheSettings.Builder settings(String url) {
    return CacheSettings.builder()
        .redisUrl(url)
        .namespace(namespace)
        .connectTimeout(Duration.ofMillis(500))
        .commandTimeout(Duration.ofMillis(200))
        .heartbeat(Duration.ofMillis(100))
        .retryDelay(Duration.ofMillis(20))
        .reconnectDelayMax(Duration.ofMillis(200))
        .guardFailureThreshold(3)
        .guardOpenDuration(Duration.ofMillis(300))
        .degradedTtl(Duration.ofSeconds(1));
  }

  /** A started two-level instance on the class's Redis, once its subscription is live. */
  CacheManager start() {
    return start(settings().build());
  }

  CacheManager start(CacheSettings settings) {
    var manager = startDegraded(settings);
    await("subscription live", manager::redisAvailable);
    return manager;
  }

  /** A started instance that may not reach Redis. */
  CacheManager startDegraded(CacheSettings settings) {
    var manager =
        new CacheManager(
            settings,
            Optional.of(new RedisStore(settings)),
            new FailureCountingGuard(settings),
            new MetricRegistry(),
            new PrometheusRegistry());
    manager.start();
    started.add(manager);
    return manager;
  }

  /** A started L1-only instance. */
  CacheManager local(CacheSettings settings) {
    var manager =
        new CacheManager(
            settings,
            Optional.empty(),
            new FailureCountingGuard(settings),
            new MetricRegistry(),
            new PrometheusRegistry());
    manager.start();
    started.add(manager);
    return manager;
  }

  /** {@link Await#until} with the cache tests' time limit. */
  static void await(String what, BooleanSupplier condition) {
    Await.until(what, Duration.ofSeconds(20), condition::getAsBoolean);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    for (var manager : started) {
      manager.stop(Duration.ZERO);
    }
    started.clear();
    if (proxy != null) {
      proxy.close();
      proxy = null;
    }
  }
}
