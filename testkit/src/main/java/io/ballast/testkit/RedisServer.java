package io.ballast.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;

/**
 * The Redis server the tests of this JVM run against: the one named by {@code
 * BALLAST_TEST_REDIS_URL} (system property {@code ballast.test.redis.url} wins), or else an
 * embedded {@code redis-server} from the {@code com.github.codemonstur:embedded-redis} artifact,
 * started on first use on a free loopback port, keeping nothing on disk, and stopped when the JVM
 * exits. Thread-safe.
 */
public final class RedisServer {
  /** Environment variable naming an external server for the tests. */
  public static final String URL_VARIABLE = "BALLAST_TEST_REDIS_URL";

  private static RedisServer shared;

  private final URI uri;
  private final redis.embedded.RedisServer embedded;
  private boolean running = true;

  private RedisServer(URI uri, redis.embedded.RedisServer embedded) {
    this.uri = uri;
    this.embedded = embedded;
  }

  /** The server shared by every test in this JVM, started on first call. */
  public static synchronized RedisServer shared() {
    if (shared == null) {
      var url = System.getProperty("ballast.test.redis.url", System.getenv(URL_VARIABLE));
      shared = url == null || url.isBlank() ? embedded() : external(url.trim());
    }
    return shared;
  }

  private static RedisServer embedded() {
    var port = Ports.free();
    try {
      var server =
          redis.embedded.RedisServer.newRedisServer()
              .port(port)
              .bind("127.0.0.1")
              .setting("save \"\"")
              .setting("appendonly no")
              .build();
      server.start();
      var result = new RedisServer(URI.create("redis://127.0.0.1:" + port), server);
      Runtime.getRuntime()
          .addShutdownHook(new Thread(result::stopQuietly, "ballast-embedded-redis-stop"));
      return result;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Could not start an embedded redis-server; set "
              + URL_VARIABLE
              + " to a Redis you run instead",
          e);
    }
  }

  private static RedisServer external(String url) {
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          URL_VARIABLE + " must look like redis://host:6379, but could not be parsed");
    }
    if (!("redis".equals(uri.getScheme()) || "rediss".equals(uri.getScheme()))
        || uri.getHost() == null) {
      throw new IllegalArgumentException(URL_VARIABLE + " must look like redis://host:6379");
    }
    return new RedisServer(uri, null);
  }

  /** The server's {@code redis://} URL (with credentials, if the environment gave some). */
  public String url() {
    return uri.toString();
  }

  /** The loopback address it listens on. */
  public String host() {
    return uri.getHost();
  }

  /** The port it listens on. */
  public int port() {
    return uri.getPort() < 0 ? 6379 : uri.getPort();
  }

  /**
   * Whether this server was started by the testkit (and so can be stopped and started by tests).
   */
  public boolean isEmbedded() {
    return embedded != null;
  }

  /** Whether the server process is alive. */
  public synchronized boolean isRunning() {
    return running;
  }

  /**
   * Stops the embedded server for an outage test; every test sharing it is affected, so call {@link
   * #start()} before the test ends. Redis keeps nothing on disk here: its data is gone after a
   * stop.
   */
  public synchronized void stop() {
    requireEmbedded("stop");
    try {
      embedded.stop();
      running = false;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts the embedded server again on the same port. */
  public synchronized void start() {
    requireEmbedded("start");
    if (running) {
      return;
    }
    try {
      embedded.start();
      running = true;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void stopQuietly() {
    try {
      if (running) {
        embedded.stop();
      }
    } catch (IOException | RuntimeException ignored) {
      // the JVM is exiting
    }
  }

  private void requireEmbedded(String action) {
    if (embedded == null) {
      throw new UnsupportedOperationException(
          "Cannot "
              + action
              + " the external Redis named by "
              + URL_VARIABLE
              + "; use the fault proxy, or unset "
              + URL_VARIABLE
              + " to use the embedded server");
    }
  }

  @Override
  public String toString() {
    return "RedisServer["
        + host()
        + ":"
        + port()
        + (embedded != null ? ", embedded" : ", external")
        + "]";
  }
}
