package io.ballast.testkit;

import io.lettuce.core.KeyScanArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanCursor;
import java.util.Locale;
import java.util.UUID;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Gives a test class a real Redis ({@link RedisServer#shared()}) and its own key space: a key
 * prefix unique to the class. Keys under the prefix are removed (SCAN + UNLINK) after the class.
 * Pub/sub channels are server-wide: name them with {@link #key(String)} too.
 *
 * <pre>{@code
 * @RegisterExtension static final RedisExtension REDIS = new RedisExtension();
 * ... RedisClient.create(REDIS.url()) ... REDIS.key("user:1") ...
 * }</pre>
 */
public final class RedisExtension implements BeforeAllCallback, AfterAllCallback {
  private RedisServer server;
  private String prefix;
  private int depth;

  @Override
  public synchronized void beforeAll(ExtensionContext context) {
    if (depth++ > 0) {
      return;
    }
    server = RedisServer.shared();
    var base = context.getRequiredTestClass().getSimpleName().toLowerCase(Locale.ROOT);
    prefix = "t:" + base + ":" + UUID.randomUUID().toString().substring(0, 8) + ":";
  }

  @Override
  public synchronized void afterAll(ExtensionContext context) {
    if (--depth > 0 || prefix == null) {
      return;
    }
    try {
      if (!server.isRunning()) {
        server.start();
      }
      deleteKeys();
    } finally {
      prefix = null;
    }
  }

  private void deleteKeys() {
    var client = RedisClient.create(server.url());
    try (var connection = client.connect()) {
      var sync = connection.sync();
      var args = KeyScanArgs.Builder.matches(prefix + "*").limit(500);
      var cursor = sync.scan(ScanCursor.INITIAL, args);
      while (true) {
        if (!cursor.getKeys().isEmpty()) {
          sync.unlink(cursor.getKeys().toArray(String[]::new));
        }
        if (cursor.isFinished()) {
          break;
        }
        cursor = sync.scan(cursor, args);
      }
    } finally {
      client.shutdown();
    }
  }

  /** The server this class's key space lives on. */
  public RedisServer server() {
    requireStarted();
    return server;
  }

  /** The server's {@code redis://} URL. */
  public String url() {
    return server().url();
  }

  /**
   * The prefix every key and channel of this class should carry, e.g. {@code
   * t:cachetest:1a2b3c4d:}.
   */
  public String keyPrefix() {
    requireStarted();
    return prefix;
  }

  /** {@code name} inside this class's key space. */
  public String key(String name) {
    return keyPrefix() + name;
  }

  private void requireStarted() {
    if (prefix == null) {
      throw new IllegalStateException(
          "RedisExtension is not active: register it with @RegisterExtension on a "
              + "static field and use it from test methods or @BeforeAll");
    }
  }
}
