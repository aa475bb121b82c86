package io.ballast.pool;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.ballast.core.ConnectionHealth;
import io.ballast.core.ConnectionLimit;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.Optional;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.slf4j.LoggerFactory;

/**
 * A HikariCP pool opened and closed by the lifecycle. It is also the {@link DataSource} the
 * application sees: before start and after stop it refuses connections with a clear error, and it
 * turns HikariCP's time-out into a {@link PoolExhaustedException} when the pool, not the database,
 * is the problem.
 */
final class ManagedPool
    implements Pool,
        DataSource,
        ConnectionLimit,
        ConnectionHealth,
        io.ballast.core.TransactionPooling {
  private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(ManagedPool.class);
  private static final Duration DRAIN_POLL = Duration.ofMillis(20);

  private final PoolSettings settings;
  private final boolean startsUnreachable;

  /** Set when replicas are configured: connections lent inside a unit of work track writes. */
  private volatile boolean tracksWrites;

  private final MetricRegistry metrics;
  private final PoolMetrics exports;
  private final String metricPrefix;
  private volatile HikariDataSource hikari;
  private volatile PoolSizing.Assessment sizing;

  /** Adaptive sizing, when on and the pool is running. */
  private volatile AdaptiveSizing adaptive;

  private volatile boolean pgbouncer;
  private final com.codahale.metrics.Counter dirtyEvictions;
  private final java.util.concurrent.atomic.AtomicBoolean dirtyLogged =
      new java.util.concurrent.atomic.AtomicBoolean();

  ManagedPool(PoolSettings settings, MetricRegistry metrics, PoolMetrics exports) {
    this(settings, metrics, exports, false);
  }

  /**
   * With {@code startsUnreachable}, the pool starts even when its server does not answer (a
   * replica: reads go elsewhere meanwhile), and fills once the server is back.
   */
  ManagedPool(
      PoolSettings settings,
      MetricRegistry metrics,
      PoolMetrics exports,
      boolean startsUnreachable) {
    this.startsUnreachable = startsUnreachable;
    this.exports = exports;
    this.settings = settings;
    this.metrics = metrics;
    this.metricPrefix = MetricRegistry.name("ballast", "pool", settings.name());
    this.dirtyEvictions = new com.codahale.metrics.Counter();
    var probe = probeProperties();
    probe.setProperty("prepareThreshold", "0");
    probe.setProperty("loginTimeout", Long.toString(settings.connectTimeout().toSeconds()));
    probe.setProperty("socketTimeout", Long.toString(settings.connectTimeout().toSeconds()));
    this.reachability =
        new Reachability(
            settings.name(),
            settings.maskedUrl(),
            settings.jdbcUrl(),
            probe,
            this::abortWaiters,
            this::refill);
  }

  // ---------------------------------------------------------------- reachability

  private final Reachability reachability;

  /**
   * Threads waiting in HikariCP for a connection, which a probe that finds the server down wakes.
   */
  private final java.util.Set<Waiter> waiters = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * A borrower inside HikariCP's borrow; the pool may interrupt it (only while it is still inside).
   */
  @SuppressWarnings(
      "serial") // never serialized: an AtomicInteger only to save an allocation per borrow
  private static final class Waiter extends java.util.concurrent.atomic.AtomicInteger {
    static final int WAITING = 0;
    static final int DONE = 1;
    static final int ABORTING = 2;
    static final int ABORTED = 3;
    final transient Thread thread = Thread.currentThread();
    final long start = System.nanoTime();

    /**
     * Called by the borrower when HikariCP returns; {@code true} if the pool did not interrupt it.
     */
    boolean finish() {
      if (compareAndSet(WAITING, DONE)) {
        return true;
      }
      while (get() != ABORTED) {
        Thread.onSpinWait();
      }
      Thread.interrupted(); // the pool's interrupt, not the caller's
      return false;
    }

    void abort() {
      if (compareAndSet(WAITING, ABORTING)) {
        thread.interrupt();
        set(ABORTED);
      }
    }
  }

  @Override
  public boolean reachable() {
    return reachability.reachable();
  }

  @Override
  public void suspect() {
    reachability.suspect();
  }

  @Override
  public void onReachable(Runnable listener) {
    reachability.onReachable(listener);
  }

  /**
   * The server stopped answering: borrowers waiting in HikariCP for a connection fail now, not at
   * their timeout.
   */
  private void abortWaiters() {
    waiters.forEach(Waiter::abort);
  }

  /** How many borrowers have been waiting longer than {@code nanos} at {@code now}. */
  int waitingLongerThan(long nanos, long now) {
    var n = 0;
    for (var w : waiters) {
      if (now - w.start > nanos) {
        n++;
      }
    }
    return n;
  }

  /** The longest time a borrower still waiting has waited, at {@code now}. */
  long longestWaitNow(long now) {
    var longest = 0L;
    for (var w : waiters) {
      longest = Math.max(longest, now - w.start);
    }
    return longest;
  }

  /**
   * The server answers again: drop the idle connections (they died with the server's sessions) and
   * wake HikariCP's connection adder, which backs off up to 5 s between failed attempts, so new
   * connections open now. The adder is found by the name HikariCP gives its thread; if that ever
   * changes, the pool still refills, after the adder's back-off.
   */
  private void refill() {
    var h = hikari;
    var mx = h == null ? null : h.getHikariPoolMXBean();
    if (mx == null) {
      return;
    }
    mx.softEvictConnections();
    var adder = "ballast-" + name() + ":connection-adder";
    for (var t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals(adder) && t.getState() == Thread.State.TIMED_WAITING) {
        t.interrupt();
      }
    }
  }

  private SQLException unreachable() {
    return new DatabaseUnreachableException(
        "Pool '"
            + name()
            + "' cannot reach the database at "
            + settings.maskedUrl()
            + " ("
            + reachability.lastFailure()
            + "); failing at once until it accepts "
            + "connections again (checked every "
            + Reachability.PROBE_EVERY_MILLIS
            + " ms)",
        reachability.lastError());
  }

  /**
   * Whether the pool runs in PgBouncer mode: the {@code pgbouncer} setting, or a
   * transaction-pooling bouncer found at start.
   */
  @Override
  public boolean pgbouncerMode() {
    return pgbouncer;
  }

  @Override
  public boolean transactionPooling() {
    return pgbouncer;
  }

  @Override
  public String name() {
    return settings.name();
  }

  @Override
  public PoolSettings settings() {
    return settings;
  }

  @Override
  public boolean isRunning() {
    var h = hikari;
    return h != null && h.isRunning();
  }

  @Override
  public DataSource dataSource() {
    return this;
  }

  @Override
  public Optional<PoolSizing.Assessment> sizing() {
    return Optional.ofNullable(sizing);
  }

  /** Makes connections lent inside a {@link UnitOfWork} report the position they wrote at. */
  void trackWrites() {
    tracksWrites = true;
  }

  /** Opens the pool; called by {@link PoolService}. */
  void start() throws SQLException {
    var child = new LockFreeMetricRegistry();
    pgbouncer = settings.pgbouncer();
    if (!pgbouncer && PoolerProbe.sharesBackends(settings.jdbcUrl(), probeProperties())) {
      pgbouncer = true;
      LOG.warn(
          "Pool '{}': {} is a transaction-pooling PgBouncer (two client connections were served by the same "
              + "server process), but pgbouncer=true is not set. Running in PgBouncer mode (prepareThreshold=0, no "
              + "server-side prepared statements) so that statements and transactions are not broken across server "
              + "connections. Set pgbouncer=true in DATABASE_URL or DB_PGBOUNCER=true to say so and silence this.",
          name(),
          settings.maskedUrl());
    }
    HikariDataSource started;
    try {
      started = new HikariDataSource(hikariConfig(child));
    } catch (RuntimeException e) {
      // HikariCP's messages name the pool and the cause, never the password; add the masked URL
      var cause = Reachability.rootMessage(e);
      throw new SQLException(
          "Pool '" + name() + "' could not connect to " + settings.maskedUrl() + ": " + cause,
          "08001",
          e);
    }
    hikari = started;
    reachability.start();
    registerMetrics(child);
    exports.add(this);
    checkSizing(started);
    if (settings.adaptive()) {
      var assessed = sizing;
      var maxConnections = assessed == null ? 0 : assessed.maxConnections();
      var ceiling = AdaptiveSizing.ceiling(settings, maxConnections);
      var source =
          settings.maxConnectionLimit().isPresent()
              ? "max_connection_limit"
              : maxConnections > 0
                  ? "80 % of max_connections "
                      + maxConnections
                      + " over "
                      + settings.instances()
                      + " instance(s)"
                  : "max_connections unknown: no growth; set max_connection_limit";
      var sizingControl =
          new AdaptiveSizing(
              name(),
              settings.connectionLimit(),
              ceiling,
              source,
              settings,
              System::nanoTime,
              metrics.counter(MetricRegistry.name(metricPrefix, "Grown")),
              metrics.counter(MetricRegistry.name(metricPrefix, "Shrunk")));
      adaptive = sizingControl;
      sizingControl.start(started, this);
    }
    LOG.info("Pool '{}' started: {}", name(), settings);
  }

  /** Waits up to {@code grace} for lent connections to come back, then closes the pool. */
  void stop(Duration grace) {
    var h = hikari;
    if (h == null) {
      return;
    }
    reachability.stop();
    var a = adaptive;
    if (a != null) {
      a.stop();
      adaptive = null;
    }
    var mx = h.getHikariPoolMXBean();
    var deadline = System.nanoTime() + grace.toNanos();
    while (mx != null && mx.getActiveConnections() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(DRAIN_POLL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    var stillActive = mx == null ? 0 : mx.getActiveConnections();
    if (stillActive > 0) {
      LOG.warn(
          "Pool '{}' closing with {} connection(s) still in use after the {} ms grace period",
          name(),
          stillActive,
          grace.toMillis());
    }
    metrics.removeMatching((metricName, metric) -> metricName.startsWith(metricPrefix + "."));
    exports.remove(this);
    h.close();
    hikari = null;
    LOG.info("Pool '{}' stopped", name());
  }

  /** Where this pool's exported series go (replica pools share the primary's). */
  PoolMetrics exports() {
    return exports;
  }

  /** Connections evicted as dirty since the pool started. */
  long dirtyEvictions() {
    return dirtyEvictions.getCount();
  }

  /** Adaptive sizing's grow and shrink counts, or null when the pool does not resize itself. */
  long[] resizes() {
    var a = adaptive;
    var prefix = metricPrefix + ".";
    if (a == null) {
      return null;
    }
    var counters = metrics.getCounters();
    var grown = counters.get(prefix + "Grown");
    var shrunk = counters.get(prefix + "Shrunk");
    return new long[] {
      grown == null ? 0 : grown.getCount(), shrunk == null ? 0 : shrunk.getCount()
    };
  }

  @Override
  public PoolSnapshot snapshot() {
    var h = hikari;
    var mx = h == null ? null : h.getHikariPoolMXBean();
    if (mx == null) {
      return new PoolSnapshot(name(), 0, 0, 0, 0, settings.connectionLimit());
    }
    var a = adaptive;
    return new PoolSnapshot(
        name(),
        mx.getActiveConnections(),
        mx.getIdleConnections(),
        mx.getTotalConnections(),
        mx.getThreadsAwaitingConnection(),
        a == null ? settings.connectionLimit() : a.current());
  }

  /** The connection properties the pool's connections use, for the start-up probe. */
  private java.util.Properties probeProperties() {
    var props = new java.util.Properties();
    props.setProperty("user", settings.username());
    if (settings.password() != null) {
      props.setProperty("password", settings.password());
    }
    props.setProperty("connectTimeout", Long.toString(settings.connectTimeout().toSeconds()));
    props.setProperty("ApplicationName", "ballast");
    settings.driverProperties().forEach(props::setProperty);
    return props;
  }

  private HikariConfig hikariConfig(MetricRegistry child) {
    var config = new HikariConfig();
    config.setPoolName("ballast-" + name());
    config.setJdbcUrl(settings.jdbcUrl());
    config.setUsername(settings.username());
    config.setPassword(settings.password());
    config.setMaximumPoolSize(settings.connectionLimit());
    config.setMinimumIdle(settings.connectionLimit());
    config.setConnectionTimeout(settings.poolTimeout().toMillis());
    if (startsUnreachable) {
      config.setInitializationFailTimeout(-1);
    }
    config.setMetricsTrackerFactory(
        exports.trackers(
            name(), new com.zaxxer.hikari.metrics.dropwizard.CodahaleMetricsTrackerFactory(child)));
    config.addDataSourceProperty(
        "connectTimeout", Long.toString(settings.connectTimeout().toSeconds()));
    config.addDataSourceProperty("ApplicationName", "ballast");
    config.addDataSourceProperty("tcpKeepAlive", "true");
    if (settings.schema() != null) {
      config.addDataSourceProperty("currentSchema", settings.schema());
    }
    // a connection that fails with a connection-class error (or an admin shutdown) makes the pool
    // look at the server
    config.setExceptionOverride(
        new com.zaxxer.hikari.SQLExceptionOverride() {
          @java.lang.Override
          public com.zaxxer.hikari.SQLExceptionOverride.Override adjudicate(SQLException e) {
            var state = e.getSQLState();
            if (state != null && (state.startsWith("08") || state.startsWith("57P0"))) {
              reachability.suspect();
            }
            return com.zaxxer.hikari.SQLExceptionOverride.Override.CONTINUE_EVICT;
          }
        });
    if (pgbouncer) {
      // transaction pooling hands each transaction to any server connection: no named prepared
      // statements
      config.addDataSourceProperty("prepareThreshold", "0");
    }
    settings.driverProperties().forEach(config::addDataSourceProperty);
    return config;
  }

  /**
   * Re-registers HikariCP's metrics ({@code <poolName>.pool.Wait}, …) as {@code
   * ballast.pool.<name>.Wait}.
   */
  private void registerMetrics(MetricRegistry child) {
    var hikariPrefix = "ballast-" + name() + ".pool.";
    child
        .getMetrics()
        .forEach(
            (metricName, metric) -> {
              var shortName =
                  metricName.startsWith(hikariPrefix)
                      ? metricName.substring(hikariPrefix.length())
                      : metricName;
              metrics.register(MetricRegistry.name(metricPrefix, shortName), metric);
            });
    metrics.register(MetricRegistry.name(metricPrefix, "DirtyEvictions"), dirtyEvictions);
    metrics.register(
        MetricRegistry.name(metricPrefix, "UtilisationPercent"),
        (Gauge<Double>) () -> snapshot().utilisationPercent());
  }

  private void checkSizing(HikariDataSource h) {
    try (var c = h.getConnection();
        var s = c.createStatement();
        var rs = s.executeQuery("select current_setting('max_connections')::int")) {
      rs.next();
      var assessment =
          PoolSizing.assess(settings.connectionLimit(), settings.instances(), rs.getInt(1));
      sizing = assessment;
      if (assessment.exceeds()) {
        LOG.warn(
            "Pool '{}': {}. Lower connection_limit, set DB_INSTANCES to the real count, or raise the server's"
                + " max_connections.",
            name(),
            assessment.message());
      }
    } catch (SQLException e) {
      LOG.warn(
          "Pool '{}': could not read the server's max_connections to check the pool size: {}",
          name(),
          e.getMessage());
    }
  }

  // --- DataSource ---

  @Override
  public Connection getConnection() throws SQLException {
    var h = requireRunning();
    try {
      // Never lend a connection that is still inside a transaction: the next borrower would run in
      // it, under
      // the settings (acting context, tenant) of whoever opened it. That happens when a
      // transaction's end was
      // lost, e.g. behind a transaction-pooling PgBouncer without pgbouncer=true. The check reads
      // the driver's
      // record of the server's last ReadyForQuery status: no round trip.
      for (int attempt = 0; ; attempt++) {
        var c = borrow(h);
        if (outsideTransaction(c)) {
          var unit = tracksWrites ? UnitOfWork.currentOrNull() : null;
          return unit == null || ReplicaRouter.inRead() ? c : WriteTracking.wrap(c, unit);
        }
        evictDirty(h, c);
        if (attempt >= settings.connectionLimit()) {
          throw new SQLException(
              "Pool '"
                  + name()
                  + "' could not lend a connection outside a transaction: "
                  + (attempt + 1)
                  + " in a row came back still inside one",
              "08003");
        }
      }
    } catch (DatabaseUnreachableException e) {
      throw e;
    } catch (SQLTransientConnectionException e) {
      // HikariCP attaches the last failure to connect as the cause; without one, the pool was
      // simply full
      if (e.getCause() == null && h.isRunning()) {
        throw new PoolExhaustedException(snapshot(), settings.poolTimeout());
      }
      if (e.getCause() != null) {
        reachability.suspect();
      }
      throw e;
    }
  }

  /**
   * HikariCP's borrow, refused at once while the server is known to be unreachable, and cut short
   * when a probe finds it unreachable while this thread waits.
   */
  private Connection borrow(HikariDataSource h) throws SQLException {
    if (!reachability.reachable()) {
      throw unreachable();
    }
    var waiter = new Waiter();
    waiters.add(waiter);
    Connection c;
    try {
      c = h.getConnection();
    } catch (SQLException e) {
      waiters.remove(waiter);
      noteWait(waiter);
      if (!waiter.finish()) {
        throw unreachable();
      }
      throw e;
    }
    waiters.remove(waiter);
    noteWait(waiter);
    waiter.finish(); // a connection in hand is lent even if a probe tried to wake this thread
    // meanwhile
    return c;
  }

  private void noteWait(Waiter waiter) {
    var a = adaptive;
    if (a != null) {
      a.waited(System.nanoTime() - waiter.start);
    }
  }

  private static boolean outsideTransaction(Connection c) throws SQLException {
    if (!c.isWrapperFor(org.postgresql.core.BaseConnection.class)) {
      return true;
    }
    var state = c.unwrap(org.postgresql.core.BaseConnection.class).getTransactionState();
    return state == org.postgresql.core.TransactionState.IDLE;
  }

  private void evictDirty(HikariDataSource h, Connection c) {
    dirtyEvictions.inc();
    if (dirtyLogged.compareAndSet(false, true)) {
      LOG.warn(
          "Pool '{}': a connection came back still inside a transaction and was evicted instead of lent "
              + "(a transaction whose end was lost; behind PgBouncer in transaction mode, set pgbouncer=true). "
              + "Further cases are counted in ballast.pool.{}.DirtyEvictions",
          name(),
          name());
    }
    h.evictConnection(c);
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    throw new SQLFeatureNotSupportedException(
        "Pool '" + name() + "' lends connections of its configured user only");
  }

  private HikariDataSource requireRunning() throws SQLException {
    var h = hikari;
    if (h == null || !h.isRunning()) {
      throw new SQLException(
          "Pool '"
              + name()
              + "' is not running: start the Ballast lifecycle (Ballast.start or "
              + "Lifecycle.start) before using the DataSource, and do not use it after stop",
          "08003");
    }
    return h;
  }

  @Override
  public PrintWriter getLogWriter() {
    return null;
  }

  @Override
  public void setLogWriter(PrintWriter out) {
    // logging goes through SLF4J
  }

  @Override
  public void setLoginTimeout(int seconds) {
    // governed by connect_timeout
  }

  @Override
  public int getLoginTimeout() {
    return (int) settings.connectTimeout().toSeconds();
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    throw new SQLFeatureNotSupportedException();
  }

  @Override
  public int maxConnections() {
    return settings.connectionLimit();
  }

  @Override
  public <T> T unwrap(Class<T> iface) throws SQLException {
    if (iface.isInstance(this)) {
      return iface.cast(this);
    }
    return requireRunning().unwrap(iface);
  }

  @Override
  public boolean isWrapperFor(Class<?> iface) throws SQLException {
    return iface.isInstance(this) || (hikari != null && hikari.isWrapperFor(iface));
  }

  @Override
  public String toString() {
    return "Pool[" + name() + ", " + settings.maskedUrl() + "]";
  }
}
