package io.ballast.pool;

import io.ballast.core.ConnectionHealth;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the pool knows of the server's reachability: probes it with a fresh connection (outside
 * HikariCP, within the connect timeout) when asked to, every {@value #PROBE_EVERY_MILLIS} ms while
 * it does not answer, and tells the pool and its listeners when it answers again. One daemon thread
 * per pool, started with the pool.
 */
final class Reachability implements ConnectionHealth {
  static final long PROBE_EVERY_MILLIS = 250;
  private static final Logger LOG = LoggerFactory.getLogger(Reachability.class);

  private final String poolName;
  private final String maskedUrl;
  private final String jdbcUrl;
  private final Properties properties;
  private final Runnable onDown;
  private final Runnable onBack;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private final AtomicBoolean probing = new AtomicBoolean();
  private volatile boolean reachable = true;
  private volatile String lastFailure = "";
  private volatile Throwable lastError;
  private volatile long downSince;
  private volatile ScheduledExecutorService executor;

  /**
   * A reachability watch of the pool's server.
   *
   * @param onDown run when a probe first finds the server unreachable (the pool wakes its waiting
   *     borrowers)
   * @param onBack run when it answers again (the pool drops its dead connections and refills)
   */
  Reachability(
      String poolName,
      String maskedUrl,
      String jdbcUrl,
      Properties properties,
      Runnable onDown,
      Runnable onBack) {
    this.poolName = poolName;
    this.maskedUrl = maskedUrl;
    this.jdbcUrl = jdbcUrl;
    this.properties = properties;
    this.onDown = onDown;
    this.onBack = onBack;
  }

  void start() {
    executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              var t = new Thread(r, "ballast-pool-" + poolName + "-probe");
              t.setDaemon(true);
              return t;
            });
    reachable = true;
  }

  void stop() {
    var e = executor;
    executor = null;
    if (e != null) {
      e.shutdownNow();
    }
    probing.set(false);
  }

  @Override
  public boolean reachable() {
    return reachable;
  }

  /** What the last failed probe said, for messages. */
  String lastFailure() {
    return lastFailure;
  }

  /** The last failed probe's exception, or {@code null}. */
  Throwable lastError() {
    return lastError;
  }

  @Override
  public void suspect() {
    var e = executor;
    if (e != null && probing.compareAndSet(false, true)) {
      try {
        e.execute(this::probe);
      } catch (RejectedExecutionException stopped) {
        probing.set(false);
      }
    }
  }

  @Override
  public void onReachable(Runnable listener) {
    listeners.add(listener);
  }

  private void probe() {
    try (var c = DriverManager.getConnection(jdbcUrl, properties)) {
      c.isValid(1);
    } catch (SQLException | RuntimeException failure) {
      lastFailure = rootMessage(failure);
      lastError = failure;
      if (reachable) {
        reachable = false;
        downSince = System.nanoTime();
        LOG.warn(
            "Pool '{}': the database at {} does not accept connections ({}); lending fails at once until it "
                + "does (checked every {} ms)",
            poolName,
            maskedUrl,
            lastFailure,
            PROBE_EVERY_MILLIS);
        run(onDown);
      }
      var e = executor;
      if (e != null) {
        try {
          var unused =
              e.schedule(
                  this::probe, PROBE_EVERY_MILLIS, TimeUnit.MILLISECONDS); // probe() reports itself
          return;
        } catch (RejectedExecutionException stopped) {
          // stopping
        }
      }
      probing.set(false);
      return;
    }
    var wasDown = !reachable;
    reachable = true;
    probing.set(false);
    if (wasDown) {
      LOG.info(
          "Pool '{}': the database at {} accepts connections again after {} ms",
          poolName,
          maskedUrl,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - downSince));
      run(onBack);
    }
    listeners.forEach(Reachability::run);
  }

  private static void run(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      LOG.warn("A database reachability listener failed", e);
    }
  }

  static String rootMessage(Throwable e) {
    var t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
  }
}
