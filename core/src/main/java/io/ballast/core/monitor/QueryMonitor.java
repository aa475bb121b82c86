package io.ballast.core.monitor;

import com.codahale.metrics.Counter;
import com.codahale.metrics.MetricRegistry;
import io.ballast.core.Servers;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.model.snapshots.Unit;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jooq.ExecuteContext;
import org.jooq.ExecuteListener;
import org.jooq.ExecuteListenerProvider;
import org.jooq.TransactionContext;
import org.jooq.TransactionListener;
import org.jooq.TransactionListenerProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches every statement that goes through Ballast's {@code DSLContext}: times it, applies its
 * timeout, keeps windowed statistics per fingerprint, logs slow statements, and reports N+1
 * patterns. Bound by {@code CoreModule}, whose jOOQ configuration runs its listener after every
 * contributed one. Thread-safe.
 *
 * <h2>Timeouts</h2>
 *
 * Each statement gets the timeout of its {@link QueryClass}; a watchdog thread cancels it when it
 * runs over ({@code Statement.cancel()}: the driver sends PostgreSQL a cancel request), so nothing
 * keeps running on the server and the connection stays usable; no session setting is changed, so it
 * is safe behind PgBouncer. The caller gets a {@link QueryTimeoutException}. Timeouts are enforced
 * to within about 50 ms. Override for a block of work:
 *
 * <pre>{@code
 * try (var scope = monitor.withTimeout(QueryClass.REPORT)) {
 *   db.fetch(monthlyRevenue);
 * }
 * }</pre>
 *
 * <h2>N+1</h2>
 *
 * Inside one transaction, or one {@link #unitOfWork()}, a fingerprint executed more than {@link
 * MonitorSettings#nPlusOneThreshold()} times is reported once, with its count.
 */
public final class QueryMonitor {
  private static final Logger LOG = LoggerFactory.getLogger(QueryMonitor.class);
  private static final String START = "ballast.monitor.start";
  private static final String SHAPE = "ballast.monitor.shape";
  private static final String CLASS = "ballast.monitor.class";
  private static final String LIMIT = "ballast.monitor.limit";
  private static final String RUNNING = "ballast.monitor.running";
  private static final int RECENT = 100;
  private static final int TOP = 10;

  private final MonitorSettings settings;
  private final MetricRegistry metrics;
  private final WindowedStats stats;
  private final long slowWarnNanos;
  private final long slowDebugNanos;
  private final Counter slowCounter;
  private final Counter failedCounter;
  private final Counter timeoutCounter;
  private final Counter nPlusOneCounter;
  private final WindowedTimer allTimer;
  private final Map<String, WindowedTimer> patternTimers = new ConcurrentHashMap<>();

  /** Statements on read replicas, per replica (the primary's are all the others). */
  private final Histogram durations = QueryMetrics.durations();

  private final DistributionDataPoint primaryDurations = durations.labelValues(Servers.PRIMARY);
  private final Map<String, DistributionDataPoint> serverDurations = new ConcurrentHashMap<>();
  private final Info patternInfo = QueryMetrics.patternInfo();

  /**
   * Per rendered SQL string: its fingerprint, class and timer, so the hot path does one map lookup.
   */
  private final Map<String, Shape> shapes = new ConcurrentHashMap<>();

  private final Deque<SlowQuery> recentSlow = new ArrayDeque<>();
  private final Deque<NPlusOne> recentNPlusOne = new ArrayDeque<>();

  @SuppressWarnings(
      "ThreadLocalUsage") // per monitor: an application has one, tests several side by side
  private final ThreadLocal<Deque<TimeoutOverride>> overrides = new ThreadLocal<>();

  /**
   * A timeout set for a block of work: a class's, or an explicit duration ({@code queryClass}
   * null).
   */
  private record TimeoutOverride(Duration limit, QueryClass queryClass) {}

  @SuppressWarnings("ThreadLocalUsage") // per monitor, as above
  private final ThreadLocal<UnitOfWork> units = new ThreadLocal<>();

  private final Watchdog watchdog = new Watchdog();
  private final Listener listener = new Listener();
  private final UnitListener unitListener = new UnitListener();

  /**
   * A slow statement, for the admin server.
   *
   * @param at when it finished
   * @param fingerprint its shape
   * @param millis how long it took
   * @param rows rows returned or affected (-1 when unknown)
   * @param queryClass its timeout class
   */
  public record SlowQuery(
      Instant at, String fingerprint, double millis, int rows, QueryClass queryClass) {}

  /**
   * An N+1 pattern seen in one transaction or unit of work.
   *
   * @param at when it crossed the threshold
   * @param fingerprint the statement repeated
   * @param count executions when reported
   */
  public record NPlusOne(Instant at, String fingerprint, int count) {}

  /**
   * A scope that ends with {@link #close()}; use with try-with-resources, on the thread that opened
   * it.
   */
  public interface Scope extends AutoCloseable {
    @Override
    void close();
  }

  QueryMonitor(MonitorSettings settings, MetricRegistry metrics) {
    this(settings, metrics, System::nanoTime);
  }

  QueryMonitor(
      MonitorSettings settings, MetricRegistry metrics, java.util.function.LongSupplier clock) {
    this.settings = settings;
    this.metrics = metrics;
    this.stats = new WindowedStats(settings.window(), settings.maxPatterns(), clock);
    this.slowWarnNanos = settings.slowWarn().toNanos();
    this.slowDebugNanos =
        settings.slowDebug().isZero() ? Long.MAX_VALUE : settings.slowDebug().toNanos();
    this.slowCounter = metrics.counter("ballast.core.queries.slow");
    this.failedCounter = metrics.counter("ballast.core.queries.failed");
    this.timeoutCounter = metrics.counter("ballast.core.queries.timeouts");
    this.nPlusOneCounter = metrics.counter("ballast.core.queries.n_plus_one");
    this.allTimer =
        (WindowedTimer)
            metrics.timer(
                "ballast.core.queries.all", () -> new WindowedTimer(() -> stats.window(null)));
  }

  /** The statistics over the window: totals, percentiles, top patterns by time and by count. */
  public QueryStatistics statistics() {
    return stats.snapshot(TOP);
  }

  /** The most recent slow statements, newest first (at most 100). */
  public List<SlowQuery> recentSlowQueries() {
    synchronized (recentSlow) {
      return List.copyOf(recentSlow);
    }
  }

  /** The most recent N+1 reports, newest first (at most 100). */
  public List<NPlusOne> recentNPlusOne() {
    synchronized (recentNPlusOne) {
      return List.copyOf(recentNPlusOne);
    }
  }

  /** The settings the monitor runs with. */
  public MonitorSettings settings() {
    return settings;
  }

  /** Statements on this thread use the limit of {@code queryClass} until the scope closes. */
  public Scope withTimeout(QueryClass queryClass) {
    return push(new TimeoutOverride(settings.timeout(queryClass), queryClass));
  }

  /**
   * Statements on this thread use {@code limit} (whole seconds, at least 1) until the scope closes;
   * a timeout then names no query class.
   */
  public Scope withTimeout(Duration limit) {
    if (limit.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException(
          "a query timeout must be at least 1 s, but was " + limit.toMillis() + " ms");
    }
    return push(new TimeoutOverride(limit, null));
  }

  private Scope push(TimeoutOverride override) {
    var stack = overrides.get();
    if (stack == null) {
      stack = new ArrayDeque<>();
      overrides.set(stack);
    }
    stack.push(override);
    var scoped = stack;
    return () -> {
      scoped.pop();
      if (scoped.isEmpty()) {
        overrides.remove();
      }
    };
  }

  /**
   * Opens a unit of work on this thread for N+1 detection (transactions open one by themselves).
   */
  public Scope unitOfWork() {
    var existing = units.get();
    if (existing != null) {
      existing.depth++;
      return () -> closeUnit();
    }
    units.set(new UnitOfWork());
    return this::closeUnit;
  }

  private void closeUnit() {
    var unit = units.get();
    if (unit != null && --unit.depth == 0) {
      units.remove();
    }
  }

  /**
   * Stops the timeout watchdog's thread (the lifecycle does it at stop); statements after that
   * restart it.
   */
  public void stopWatchdog() {
    watchdog.stop();
  }

  /** The listener CoreModule adds after every contributed one. */
  public ExecuteListenerProvider executeListenerProvider() {
    return () -> listener;
  }

  /** The transaction listener that opens a unit of work per transaction. */
  public TransactionListenerProvider transactionListenerProvider() {
    return () -> unitListener;
  }

  private record Shape(
      String fingerprint, QueryClass queryClass, Duration limit, WindowedTimer timer) {}

  private static final int SHAPES_LIMIT = 10_000;

  private Shape shape(String sql) {
    var shape = shapes.get(sql);
    if (shape == null) {
      var fingerprint = SqlFingerprint.of(sql);
      var queryClass = QueryClass.of(fingerprint);
      shape =
          new Shape(
              fingerprint, queryClass, settings.timeout(queryClass), patternTimer(fingerprint));
      if (shapes.size() >= SHAPES_LIMIT) {
        shapes.clear(); // flat memory however many distinct statements arrive
      }
      shapes.put(sql, shape);
    }
    return shape;
  }

  private WindowedTimer patternTimer(String fingerprint) {
    var timer = patternTimers.get(fingerprint);
    if (timer == null && patternTimers.size() < settings.maxPatterns()) {
      var id = String.format(Locale.ROOT, "%08x", fingerprint.hashCode());
      timer =
          patternTimers.computeIfAbsent(
              fingerprint,
              fp ->
                  (WindowedTimer)
                      metrics.timer(
                          MetricRegistry.name("ballast.core.queries.pattern", id),
                          () -> {
                            patternInfo.addLabelValues(id, QueryMetrics.label(fp));
                            return new WindowedTimer(() -> stats.window(fp));
                          }));
    }
    return timer;
  }

  private void recordExecution(ExecuteContext ctx) {
    var start = (Long) ctx.data(START);
    if (start == null) {
      return;
    }
    var nanos = System.nanoTime() - start;

    var shape = (Shape) ctx.data(SHAPE);
    var fingerprint = shape.fingerprint();
    var queryClass = (QueryClass) ctx.data(CLASS);
    var limit = (Duration) ctx.data(LIMIT);
    var failed = ctx.exception() != null;
    var slow = nanos > slowWarnNanos;
    stats.record(fingerprint, nanos, slow, failed);
    allTimer.increment(nanos);
    var seconds = Unit.nanosToSeconds(nanos);
    var server = Servers.isPrimary(ctx.configuration()) ? null : Servers.of(ctx.configuration());
    if (server == null) {
      primaryDurations.observe(seconds);
    } else {
      serverDurations.computeIfAbsent(server, durations::labelValues).observe(seconds);
    }
    if (shape.timer() != null) {
      shape.timer().increment(nanos);
    }
    if (failed) {
      failedCounter.inc();
    }
    var rows = ctx.result() != null ? ctx.result().size() : ctx.rows();
    var halfLimit = limit != null && nanos > limit.toNanos() / 2;
    if (slow || halfLimit) {
      if (slow) {
        slowCounter.inc();
        remember(
            recentSlow, new SlowQuery(Instant.now(), fingerprint, nanos / 1e6, rows, queryClass));
      }
      if (LOG.isWarnEnabled()) {
        LOG.warn(
            "{}{}: {} ms, {} rows, class {}{}: {}{}",
            slow ? "Slow query" : "Query near its timeout",
            server == null ? "" : " on " + server,
            nanos / 1_000_000,
            rows,
            queryClass == null ? "override" : queryClass.name().toLowerCase(Locale.ROOT),
            limit == null ? "" : " (timeout " + limit.toSeconds() + " s)",
            fingerprint,
            binds(ctx));
      }
    } else if (nanos > slowDebugNanos && LOG.isDebugEnabled()) {
      LOG.debug(
          "Slow query: {} ms, {} rows: {}{}", nanos / 1_000_000, rows, fingerprint, binds(ctx));
    }
    var unit = units.get();
    if (unit != null) {
      var count = unit.counts.merge(fingerprint, 1, Integer::sum);
      if (count == settings.nPlusOneThreshold() + 1) {
        nPlusOneCounter.inc();
        remember(recentNPlusOne, new NPlusOne(Instant.now(), fingerprint, count));
        LOG.warn(
            "N+1 suspected: the same statement ran {} times in one {}: {}",
            count,
            unit.transactional ? "transaction" : "unit of work",
            fingerprint);
      }
    }
  }

  private String binds(ExecuteContext ctx) {
    if (!settings.logBindValues() || ctx.query() == null) {
      return "";
    }
    return " binds " + Arrays.toString(ctx.query().getBindValues().toArray());
  }

  private static <T> void remember(Deque<T> deque, T item) {
    synchronized (deque) {
      deque.addFirst(item);
      if (deque.size() > RECENT) {
        deque.removeLast();
      }
    }
  }

  private final class Listener implements ExecuteListener {
    private static final long serialVersionUID = 1L;

    @Override
    public void prepareEnd(ExecuteContext ctx) {
      var sql =
          ctx.sql() != null ? ctx.sql() : ctx.batchSQL().length > 0 ? ctx.batchSQL()[0] : "batch";
      var shape = shape(sql);
      var stack = overrides.get();
      QueryClass queryClass = null;
      Duration limit;
      if (stack == null) {
        queryClass = shape.queryClass();
        limit = shape.limit();
      } else {
        limit = stack.peek().limit();
        queryClass = stack.peek().queryClass();
      }
      ctx.data(SHAPE, shape);
      ctx.data(CLASS, queryClass);
      ctx.data(LIMIT, limit);
    }

    @Override
    public void executeStart(ExecuteContext ctx) {
      var statement = ctx.statement();
      var limit = (Duration) ctx.data(LIMIT);
      if (statement != null && limit != null) {
        ctx.data(RUNNING, watchdog.watch(statement, limit.toNanos()));
      }
      ctx.data(START, System.nanoTime());
    }

    @Override
    public void executeEnd(ExecuteContext ctx) {
      var running = (Watchdog.Running) ctx.data(RUNNING);
      if (running != null) {
        watchdog.done(running);
      }
    }

    @Override
    public void exception(ExecuteContext ctx) {
      var running = (Watchdog.Running) ctx.data(RUNNING);
      if (running != null) {
        watchdog.done(running);
      }
      var e = ctx.sqlException();
      var limit = (Duration) ctx.data(LIMIT);
      if (e != null
          && "57014".equals(e.getSQLState())
          && limit != null
          && running != null
          && running.cancelled) {
        timeoutCounter.inc();
        ctx.exception(
            new QueryTimeoutException(
                ((Shape) ctx.data(SHAPE)).fingerprint(), (QueryClass) ctx.data(CLASS), limit, e));
      }
    }

    @Override
    public void end(ExecuteContext ctx) {
      // not "recordEnd": ExecuteListener has a callback of that name, which an inner class would
      // call instead
      recordExecution(ctx);
    }
  }

  private final class UnitListener implements TransactionListener {
    private static final long serialVersionUID = 1L;

    @Override
    public void beginEnd(TransactionContext ctx) {
      var unit = units.get();
      if (unit == null) {
        unit = new UnitOfWork();
        unit.transactional = true;
        units.set(unit);
      } else {
        unit.depth++;
      }
    }

    @Override
    public void commitEnd(TransactionContext ctx) {
      closeUnit();
    }

    @Override
    public void rollbackEnd(TransactionContext ctx) {
      closeUnit();
    }
  }

  private static final class UnitOfWork {
    final Map<String, Integer> counts = new HashMap<>();
    int depth = 1;
    boolean transactional;
  }

  /** The statement-time histogram by server ({@code ballast_query_duration_seconds}). */
  Histogram durations() {
    return durations;
  }

  /** The pattern labels ({@code ballast_query_pattern_info}). */
  Info patternInfo() {
    return patternInfo;
  }

  /** The tracked fingerprints' timers. */
  Map<String, WindowedTimer> patternTimers() {
    return patternTimers;
  }

  /** The counters of slow, failed, timed-out statements and N+1 reports, in that order. */
  List<Counter> counters() {
    return List.of(slowCounter, failedCounter, timeoutCounter, nPlusOneCounter);
  }

  /**
   * Fingerprints with a Dropwizard timer, each named {@code ballast.core.queries.pattern.<hash>}.
   */
  public Map<String, String> patternMetricNames() {
    var names = new HashMap<String, String>();
    patternTimers
        .keySet()
        .forEach(
            fp ->
                names.put(
                    fp,
                    MetricRegistry.name(
                        "ballast.core.queries.pattern",
                        String.format(Locale.ROOT, "%08x", fp.hashCode()))));
    return names;
  }
}
