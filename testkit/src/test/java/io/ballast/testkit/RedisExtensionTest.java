package io.ballast.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RedisExtensionTest {
  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();
  static RedisClient client;

  @BeforeAll
  static void connect() {
    client = RedisClient.create(REDIS.url());
  }

  @AfterAll
  static void shutdown() {
    client.shutdown();
  }

  @Test
  void keysLiveUnderAPrefixUniqueToTheClass() {
    assertThat(REDIS.keyPrefix()).startsWith("t:redisextensiontest:").endsWith(":");
    try (var c = client.connect()) {
      c.sync().set(REDIS.key("a"), "1");
      assertThat(c.sync().get(REDIS.key("a"))).isEqualTo("1");
    }
  }

  @Test
  void afterAll_removesEveryKeyUnderThePrefixAndNothingElse() {
    var other = new RedisExtension();
    var context = PostgresExtensionTest.contextFor(RedisExtensionTest.class);
    other.beforeAll(context);
    var prefix = other.keyPrefix();
    assertThat(prefix).isNotEqualTo(REDIS.keyPrefix());
    try (var c = client.connect()) {
      for (int i = 0; i < 1200; i++) {
        c.sync().set(prefix + i, "x");
      }
      c.sync().set(REDIS.key("keep"), "y");
      other.afterAll(context);
      assertThat(c.sync().keys(prefix + "*")).isEmpty();
      assertThat(c.sync().get(REDIS.key("keep"))).isEqualTo("y");
    }
  }
}
