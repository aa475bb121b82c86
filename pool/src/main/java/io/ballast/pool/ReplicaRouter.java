package io.ballast.pool;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import io.ballast.core.Servers;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jooq.Configuration;
import org.jooq.DSLContext;
import org.jooq.TransactionContext;
import org.jooq.TransactionProvider;
import org.jooq.impl.DSL;
import org.jooq.impl.DefaultConnectionProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Replicas}: a pool per replica, a monitor that reads each replica's replay position against
 * the primary's write position every {@link ReplicaSettings#checkInterval()}, and the routing.
 */
final class ReplicaRouter implements Replicas {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaRouter.class);
  private static final ThreadLocal<int[]> IN_READ = ThreadLocal.withInitial(() -> new int[1]);
  private static final String PRIMARY_SQL = "select pg_current_wal_lsn()::text";
  private static final String REPLICA_SQL =
      "select pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
          + " case when pg_is_in_recovery() then pg_is_wal_replay_paused() else false end";
  private static final String REPLAYED_SQL = "select pg_last_wal_replay_lsn() >= ?::pg_lsn";

  /** Samples of the primary's position, for the time lag; older ones than this are dropped. */
  private static final int MAX_SAMPLES = 200_000;

  private final ReplicaSettings settings;
  private final ManagedPool primary;
  private final Supplier<Configuration> configuration;
  private final MetricRegistry metrics;
  private final List<Replica> replicas = new ArrayList<>();
  private final AtomicInteger next = new AtomicInteger();
  private final ArrayDeque<Sample> samples = new ArrayDeque<>();
  private final Counter primaryReads = new Counter();
  private final Counter fallbacks = new Counter();
  private volatile ScheduledExecutorService monitor;
  private Connection primaryMonitor;

  private record Sample(long nanos, WalPosition position) {}

  /** One replica: its pool, its monitor connection and its last state. */
  final class Replica {
    final ManagedPool pool;
    final Counter reads = new Counter();
    final Counter failovers = new Counter();
    final Counter skips = new Counter();
    volatile ReplicaState state;
    volatile long checkedNanos;
    Connection monitorConnection;

    Replica(ManagedPool pool) {
      this.pool = pool;
      this.state =
          new ReplicaState(
              pool.name(),
              ReplicaState.Status.UNKNOWN,
              null,
              null,
              -1,
              false,
              "not checked yet",
              null);
    }

    String name() {
      return pool.name();
    }

    /** Usable, and checked recently enough to trust it (a stuck monitor makes it unusable). */
    boolean usableNow() {
      var s = state;
      return s.usable() && System.nanoTime() - checkedNanos < staleAfterNanos();
    }
  }

  ReplicaRouter(
      ReplicaSettings settings,
      ManagedPool primary,
      Supplier<Configuration> configuration,
      MetricRegistry metrics) {
    this.settings = settings;
    this.primary = primary;
    this.configuration = configuration;
    this.metrics = metrics;
    for (var replica : settings.replicas()) {
      replicas.add(new Replica(new ManagedPool(replica, metrics, primary.exports(), true)));
    }
  }

  /** Whether the current thread is inside {@link #read}: its primary connections track nothing. */
  static boolean inRead() {
    return IN_READ.get()[0] > 0;
  }

  List<Replica> replicaList() {
    return replicas;
  }

  private long staleAfterNanos() {
    return Math.max(settings.checkInterval().toNanos() * 4, TimeUnit.SECONDS.toNanos(2));
  }

  // ---------------------------------------------------------------- lifecycle

  void start() throws SQLException {
    primary.trackWrites();
    for (var r : replicas) {
      r.pool.start();
    }
    registerMetrics();
    check(); // the first states before any read
    var executor =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              var t = new Thread(task, "ballast-replica-monitor");
              t.setDaemon(true);
              return t;
            });
    var interval = settings.checkInterval().toNanos();
    var unused =
        executor.scheduleWithFixedDelay(
            this::checkQuietly, interval, interval, TimeUnit.NANOSECONDS);
    monitor = executor;
    LOG.info("Replicas started: {}", settings);
  }

  void stop(Duration grace) {
    var m = monitor;
    monitor = null;
    if (m != null) {
      m.shutdownNow();
      try {
        m.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    closeQuietly(primaryMonitor);
    primaryMonitor = null;
    for (var r : replicas) {
      closeQuietly(r.monitorConnection);
      r.monitorConnection = null;
      r.pool.stop(grace);
    }
    metrics.removeMatching((name, metric) -> name.startsWith("ballast.pool.replicas."));
  }

  /** Registers the replicas' exported series (core's README lists them) in {@code registry}. */
  void export(PrometheusRegistry registry) {
    CounterWithCallback.builder()
        .name("ballast_replica_reads_total")
        .help("Reads routed by server: a replica's name, or primary")
        .labelNames("server")
        .callback(
            cb -> {
              cb.call((double) primaryReads.getCount(), Servers.PRIMARY);
              replicas.forEach(r -> cb.call((double) r.reads.getCount(), r.name()));
            })
        .register(registry);
    CounterWithCallback.builder()
        .name("ballast_replica_fallbacks_total")
        .help("Reads meant for a replica that the primary served (no replica usable)")
        .callback(cb -> cb.call((double) fallbacks.getCount()))
        .register(registry);
    CounterWithCallback.builder()
        .name("ballast_replica_failovers_total")
        .help("Reads that failed on a replica and were retried elsewhere")
        .labelNames("server")
        .callback(cb -> replicas.forEach(r -> cb.call((double) r.failovers.getCount(), r.name())))
        .register(registry);
    CounterWithCallback.builder()
        .name("ballast_replica_skips_total")
        .help("Times a replica was taken out of rotation (lagging, unreachable or not in recovery)")
        .labelNames("server")
        .callback(cb -> replicas.forEach(r -> cb.call((double) r.skips.getCount(), r.name())))
        .register(registry);
    GaugeWithCallback.builder()
        .name("ballast_replica_usable")
        .help("1 when the replica serves reads, 0 when it is skipped")
        .labelNames("server")
        .callback(cb -> replicas.forEach(r -> cb.call(r.usableNow() ? 1 : 0, r.name())))
        .register(registry);
    GaugeWithCallback.builder()
        .name("ballast_replica_lag_seconds")
        .help("How far the replica's replay is behind the primary, in time (NaN until measured)")
        .unit(Unit.SECONDS)
        .labelNames("server")
        .callback(
            cb ->
                replicas.forEach(
                    r -> {
                      var lag = r.state.lag();
                      cb.call(lag == null ? Double.NaN : lag.toNanos() / 1e9, r.name());
                    }))
        .register(registry);
    GaugeWithCallback.builder()
        .name("ballast_replica_lag_bytes")
        .help("How far the replica's replay is behind the primary's WAL position, in bytes")
        .unit(Unit.BYTES)
        .labelNames("server")
        .callback(cb -> replicas.forEach(r -> cb.call((double) r.state.lagBytes(), r.name())))
        .register(registry);
  }

  private void registerMetrics() {
    var prefix = "ballast.pool.replicas";
    metrics.register(MetricRegistry.name(prefix, "reads", Servers.PRIMARY), primaryReads);
    metrics.register(MetricRegistry.name(prefix, "fallbacks"), fallbacks);
    for (var r : replicas) {
      metrics.register(MetricRegistry.name(prefix, "reads", r.name()), r.reads);
      metrics.register(MetricRegistry.name(prefix, r.name(), "failovers"), r.failovers);
      metrics.register(MetricRegistry.name(prefix, r.name(), "skips"), r.skips);
      metrics.register(
          MetricRegistry.name(prefix, r.name(), "usable"),
          (Gauge<Integer>) () -> r.usableNow() ? 1 : 0);
      metrics.register(
          MetricRegistry.name(prefix, r.name(), "lag_seconds"),
          (Gauge<Double>) () -> r.state.lag() == null ? Double.NaN : r.state.lag().toNanos() / 1e9);
      metrics.register(
          MetricRegistry.name(prefix, r.name(), "lag_bytes"),
          (Gauge<Long>) () -> r.state.lagBytes());
    }
  }

  // ---------------------------------------------------------------- monitor

  private void checkQuietly() {
    try {
      check();
    } catch (RuntimeException e) {
      LOG.warn("Replica check failed: {}", e.toString());
    }
  }

  /** Reads the primary's position, then each replica's, and updates their states. */
  synchronized void check() {
    var now = System.nanoTime();
    WalPosition primaryAt = null;
    try {
      if (primaryMonitor == null || primaryMonitor.isClosed()) {
        primaryMonitor = connect(primary.settings());
      }
      primaryAt = position(primaryMonitor, PRIMARY_SQL);
      samples.addLast(new Sample(now, primaryAt));
    } catch (SQLException e) {
      closeQuietly(primaryMonitor);
      primaryMonitor = null;
    }
    for (var r : replicas) {
      r.checkedNanos = System.nanoTime();
      update(r, checkReplica(r, primaryAt, now));
    }
    trimSamples(now);
  }

  private ReplicaState checkReplica(Replica r, WalPosition primaryAt, long now) {
    var at = Instant.now();
    try {
      if (r.monitorConnection == null || r.monitorConnection.isClosed()) {
        r.monitorConnection = connect(r.pool.settings());
      }
      boolean recovering;
      WalPosition replayed;
      boolean paused;
      try (var s = r.monitorConnection.createStatement();
          var rs = s.executeQuery(REPLICA_SQL)) {
        rs.next();
        recovering = rs.getBoolean(1);
        var text = rs.getString(2);
        replayed = text == null ? null : WalPosition.parse(text);
        paused = rs.getBoolean(3);
      }
      if (!recovering) {
        return new ReplicaState(
            r.name(),
            ReplicaState.Status.NOT_A_REPLICA,
            null,
            null,
            -1,
            false,
            "not in recovery (promoted, or not a standby)",
            at);
      }
      if (replayed == null) {
        return new ReplicaState(
            r.name(),
            ReplicaState.Status.LAGGING,
            null,
            null,
            -1,
            paused,
            "replayed nothing yet",
            at);
      }
      if (primaryAt == null) {
        return new ReplicaState(
            r.name(),
            ReplicaState.Status.LAGGING,
            replayed,
            null,
            -1,
            paused,
            "the primary's position could not be read",
            at);
      }
      var lagBytes = primaryAt.bytesAfter(replayed);
      var lag = Duration.ofNanos(now - oldestUnreplayed(replayed, now));
      var tooFar = new ArrayList<String>();
      if (lag.compareTo(settings.maxLag()) > 0) {
        tooFar.add(
            "behind by " + lag.toMillis() + " ms (bound " + settings.maxLag().toMillis() + " ms)");
      }
      if (lagBytes > settings.maxLagBytes()) {
        tooFar.add(
            "behind by " + lagBytes + " bytes of WAL (bound " + settings.maxLagBytes() + ")");
      }
      if (paused) {
        tooFar.replaceAll(s -> s + ", replay paused");
      }
      return new ReplicaState(
          r.name(),
          tooFar.isEmpty() ? ReplicaState.Status.USABLE : ReplicaState.Status.LAGGING,
          replayed,
          lag,
          lagBytes,
          paused,
          String.join("; ", tooFar),
          at);
    } catch (SQLException | RuntimeException e) {
      closeQuietly(r.monitorConnection);
      r.monitorConnection = null;
      return new ReplicaState(
          r.name(),
          ReplicaState.Status.DOWN,
          null,
          null,
          -1,
          false,
          "not reachable at " + r.pool.settings().maskedUrl() + ": " + Reachability.rootMessage(e),
          at);
    }
  }

  /**
   * The time of the oldest primary sample past {@code replayed}; {@code now} when there is none.
   */
  private long oldestUnreplayed(WalPosition replayed, long now) {
    for (var s : samples) {
      if (!s.position().replayedBy(replayed)) {
        return s.nanos();
      }
    }
    return now;
  }

  /**
   * Drops the samples every replica has replayed (keeping the newest) and the oldest beyond a cap.
   */
  private void trimSamples(long now) {
    WalPosition slowest = null;
    for (var r : replicas) {
      var replayed = r.state.replayed();
      if (replayed == null) {
        continue;
      }
      slowest = slowest == null || replayed.compareTo(slowest) < 0 ? replayed : slowest;
    }
    while (samples.size() > 1
        && slowest != null
        && samples.peekFirst().position().replayedBy(slowest)) {
      samples.pollFirst();
    }
    var keep = settings.maxLag().toNanos() * 2 + TimeUnit.MINUTES.toNanos(1);
    while (samples.size() > MAX_SAMPLES
        || (samples.size() > 1 && now - samples.peekFirst().nanos() > keep)) {
      samples.pollFirst();
    }
  }

  private void update(Replica r, ReplicaState next) {
    var before = r.state;
    r.state = next;
    if (before.status() == next.status()) {
      return;
    }
    if (next.usable()) {
      LOG.info(
          "Replica '{}' serves reads{} ({} ms behind)",
          r.name(),
          before.status() == ReplicaState.Status.UNKNOWN ? "" : " again",
          next.lag().toMillis());
    } else {
      if (before.usable()) {
        r.skips.inc();
      }
      LOG.warn(
          "Replica '{}' is skipped: {} ({}); its reads go to {}",
          r.name(),
          next.status(),
          next.reason(),
          replicas.size() > 1 ? "the other replicas or the primary" : "the primary");
    }
  }

  private static WalPosition position(Connection c, String sql) throws SQLException {
    try (var s = c.createStatement();
        var rs = s.executeQuery(sql)) {
      rs.next();
      return WalPosition.parse(rs.getString(1));
    }
  }

  /** A monitor connection: short timeouts, no prepared statements, outside the pool. */
  private static Connection connect(PoolSettings s) throws SQLException {
    var props = new Properties();
    props.setProperty("user", s.username());
    if (s.password() != null) {
      props.setProperty("password", s.password());
    }
    s.driverProperties().forEach(props::setProperty);
    var seconds = Long.toString(Math.max(1, Math.min(2, s.connectTimeout().toSeconds())));
    props.setProperty("connectTimeout", seconds);
    props.setProperty("loginTimeout", seconds);
    props.setProperty("socketTimeout", "2");
    props.setProperty("prepareThreshold", "0");
    props.setProperty("ApplicationName", "ballast-replica-monitor");
    return DriverManager.getConnection(s.jdbcUrl(), props);
  }

  private static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // closing a monitor connection: nothing to do about a failure
      }
    }
  }

  // ---------------------------------------------------------------- routing

  @Override
  public UnitOfWork unitOfWork() {
    return new UnitOfWork(null, this::primaryPosition);
  }

  @Override
  public UnitOfWork unitOfWork(WalPosition after) {
    return new UnitOfWork(after, this::primaryPosition);
  }

  @Override
  public List<ReplicaState> states() {
    return replicas.stream().map(r -> r.state).toList();
  }

  @Override
  public WalPosition primaryPosition() {
    IN_READ.get()[0]++;
    try (var c = primary.getConnection()) {
      return position(c, WriteTracking.POSITION_SQL);
    } catch (SQLException e) {
      throw new org.jooq.exception.DataAccessException(
          "could not read the primary's WAL position: " + e.getMessage(), e);
    } finally {
      IN_READ.get()[0]--;
    }
  }

  @Override
  public <T> T read(Function<DSLContext, T> work) {
    var unit = UnitOfWork.currentOrNull();
    return read(unit == null ? null : unit.position(), work);
  }

  @Override
  public <T> T read(WalPosition after, Function<DSLContext, T> work) {
    IN_READ.get()[0]++;
    try {
      var n = replicas.size();
      if (n > 0) {
        var start = Math.floorMod(next.getAndIncrement(), n);
        for (int i = 0; i < n; i++) {
          var r = replicas.get((start + i) % n);
          if (!r.usableNow()) {
            continue;
          }
          var outcome = tryReplica(r, after, work);
          if (outcome != null) {
            return outcome.value;
          }
        }
        fallbacks.inc();
      }
      primaryReads.inc();
      try {
        return run(primary.getConnection(), Servers.PRIMARY, work);
      } catch (SQLException e) {
        throw new org.jooq.exception.DataAccessException(
            "could not borrow a primary connection for a read: " + e.getMessage(), e);
      }
    } finally {
      IN_READ.get()[0]--;
    }
  }

  /** A value, boxed so that a {@code null} result differs from "not served here". */
  private record Outcome<T>(T value) {}

  /** The read on {@code r}, or {@code null} when {@code r} could not serve it. */
  private <T> Outcome<T> tryReplica(Replica r, WalPosition after, Function<DSLContext, T> work) {
    Connection c;
    try {
      c = r.pool.getConnection();
    } catch (SQLException e) {
      r.failovers.inc();
      return null;
    }
    try {
      if (after != null && !after.replayedBy(r.state.replayed()) && !replayedLive(c, after)) {
        c.close();
        return null;
      }
    } catch (SQLException e) {
      closeAfterFailure(c);
      r.pool.suspect();
      r.failovers.inc();
      return null;
    }
    try {
      var value = run(c, r.name(), work);
      r.reads.inc();
      return new Outcome<>(value);
    } catch (RuntimeException e) {
      if (!ReplicaFailures.elsewhere(e)) {
        throw e;
      }
      r.failovers.inc();
      if (ReplicaFailures.connectionLost(e)) {
        r.pool.suspect();
      }
      LOG.debug("Read on replica '{}' failed and goes on: {}", r.name(), e.toString());
      return null;
    }
  }

  private static boolean replayedLive(Connection c, WalPosition after) throws SQLException {
    try (var s = c.prepareStatement(REPLAYED_SQL)) {
      s.setString(1, after.toString());
      try (var rs = s.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /**
   * Runs {@code work} on {@code c} (closing it), through a configuration derived from the
   * application's: the same listeners, this connection, marked with the server. On the primary it
   * runs in one read-only transaction. On a replica, where every transaction is read-only anyway,
   * its statements run as they come (one round trip each, as on the primary; the acting context
   * wraps each in a transaction of its own when one is set).
   */
  private <T> T run(Connection c, String server, Function<DSLContext, T> work) {
    var onReplica = !Servers.PRIMARY.equals(server);
    try (c) {
      c.setReadOnly(true);
      if (onReplica) {
        var derived =
            configuration
                .get()
                .derive(new DefaultConnectionProvider(c))
                .derive(InsideRead.INSTANCE);
        derived.data(Servers.CONFIGURATION_KEY, server);
        return work.apply(DSL.using(derived));
      }
      c.setAutoCommit(false);
      var derived =
          configuration.get().derive(new DefaultConnectionProvider(c)).derive(InsideRead.INSTANCE);
      T value;
      try {
        value = work.apply(DSL.using(derived));
        c.commit();
      } catch (RuntimeException | Error e) {
        rollbackQuietly(c, e);
        throw e;
      }
      return value;
    } catch (SQLException e) {
      throw new org.jooq.exception.DataAccessException(
          "read on '" + server + "' failed: " + e.getMessage(), e);
    }
  }

  private static void rollbackQuietly(Connection c, Throwable cause) {
    try {
      c.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  private static void closeAfterFailure(Connection c) {
    try {
      c.close();
    } catch (SQLException ignored) {
      // the connection failed already
    }
  }

  /**
   * Inside a read, the work is already one read-only transaction: a nested {@code transaction(…)}
   * runs inside it.
   */
  private enum InsideRead implements TransactionProvider {
    INSTANCE;

    @Override
    public void begin(TransactionContext ctx) {}

    @Override
    public void commit(TransactionContext ctx) {}

    @Override
    public void rollback(TransactionContext ctx) {}
  }
}
