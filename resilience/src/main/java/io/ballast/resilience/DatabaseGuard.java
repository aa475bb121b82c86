package io.ballast.resilience;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import io.ballast.core.ConnectionHealth;
import io.ballast.core.ConnectionLimit;
import io.ballast.core.Servers;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import java.sql.SQLException;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.jooq.ExecuteContext;
import org.jooq.ExecuteListener;
import org.jooq.TransactionContext;
import org.jooq.TransactionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database breaker (and, when enabled, the bulkhead) around every execution through Ballast's
 * {@code DSLContext}, as a jOOQ execute listener and transaction listener. The permission is asked
 * for in {@code start} / {@code beginStart}, before jOOQ takes a connection, so an open breaker
 * fails the call at once instead of after the pool's timeout. Outcomes are classified by {@link
 * SqlFailures}: only {@link SqlFailures.Kind#UNAVAILABLE} counts against the database.
 *
 * <p>The listener is stateless and shared; per-execution state lives in {@code ctx.data()},
 * per-transaction state in the transaction's configuration.
 */
@Singleton
final class DatabaseGuard implements ExecuteListener, TransactionListener {
  static final String BREAKER = "db";
  static final String BULKHEAD = "db";
  private static final Logger LOG = LoggerFactory.getLogger(DatabaseGuard.class);
  private static final long serialVersionUID = 1L;
  private static final String STARTED = "ballast.breaker.started";
  private static final String HELD = "ballast.bulkhead.held";
  private static final ThreadLocal<int[]> TRANSACTION_DEPTH =
      ThreadLocal.withInitial(() -> new int[1]);
  private static final ThreadLocal<boolean[]> COMMITTING =
      ThreadLocal.withInitial(() -> new boolean[1]);

  /** Statements run in the current thread's top-level transaction. */
  private static final ThreadLocal<long[]> TRANSACTION = ThreadLocal.withInitial(() -> new long[1]);

  private final transient CircuitBreaker breaker;
  private final transient io.github.resilience4j.circuitbreaker.CircuitBreakerConfig breakerConfig;
  private final transient CircuitBreakerRegistry breakers;
  private static final String REPLICA_STARTED = "ballast.breaker.replica";
  private final transient Bulkhead bulkhead; // null when disabled
  private final long openMillis;
  private final int threshold;
  private transient volatile Instant openedAt;
  private volatile long openedAtNanos;

  /**
   * The pool's view of the server, when the bound {@code DataSource} shares it; else {@code null}.
   */
  private final transient ConnectionHealth health;

  private volatile String lastFailure;

  @Inject
  DatabaseGuard(
      ResilienceSettings settings,
      CircuitBreakerRegistry breakers,
      BulkheadRegistry bulkheads,
      DataSource dataSource) {
    var threshold = settings.dbFailureThreshold();
    this.breakerConfig =
        Breakers.consecutiveFailures(threshold, settings.dbOpenDuration(), settings.dbTrialCalls())
            .recordException(e -> SqlFailures.classify(e) == SqlFailures.Kind.UNAVAILABLE)
            .build();
    this.breakers = breakers;
    this.breaker = breakers.circuitBreaker(BREAKER, breakerConfig);
    this.openMillis = settings.dbOpenDuration().toMillis();
    this.threshold = threshold;
    if (settings.bulkheadEnabled()) {
      var max =
          settings.bulkheadMaxConcurrent() > 0
              ? settings.bulkheadMaxConcurrent()
              : poolSize(dataSource);
      this.bulkhead =
          bulkheads.bulkhead(
              BULKHEAD,
              BulkheadConfig.custom()
                  .maxConcurrentCalls(max)
                  .maxWaitDuration(settings.bulkheadMaxWait())
                  .writableStackTraceEnabled(false)
                  .build());
    } else {
      this.bulkhead = null;
    }
    this.health = connectionHealth(dataSource);
    if (health != null) {
      health.onReachable(this::serverAnswers);
    }
  }

  /** The least time the breaker stays open before the server answering may end it early. */
  static final long MIN_OPEN_MILLIS = 500;

  private static ConnectionHealth connectionHealth(DataSource dataSource) {
    try {
      return dataSource.isWrapperFor(ConnectionHealth.class)
          ? dataSource.unwrap(ConnectionHealth.class)
          : null;
    } catch (SQLException e) {
      return null;
    }
  }

  /**
   * The pool's probe found the server accepting connections: an open breaker lets trial calls
   * through now instead of waiting out its open duration (at least {@value #MIN_OPEN_MILLIS} ms
   * after opening, so a server that accepts connections but fails every statement costs only a
   * couple of trial calls per half second).
   */
  private void serverAnswers() {
    if (breaker.getState() != CircuitBreaker.State.OPEN) {
      return;
    }
    var wait = MIN_OPEN_MILLIS - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - openedAtNanos);
    if (wait > 0) {
      CompletableFuture.delayedExecutor(wait, TimeUnit.MILLISECONDS).execute(this::serverAnswers);
      return;
    }
    try {
      breaker.transitionToHalfOpenState();
      LOG.info(
          "Database breaker '{}' is HALF_OPEN: the database accepts connections again; letting {} trial "
              + "calls through",
          BREAKER,
          breaker.getCircuitBreakerConfig().getPermittedNumberOfCallsInHalfOpenState());
    } catch (IllegalStateException raced) {
      // another thread moved it meanwhile (to half-open by its own timer, or closed)
    }
  }

  private static int poolSize(DataSource dataSource) {
    try {
      if (dataSource.isWrapperFor(ConnectionLimit.class)) {
        return dataSource.unwrap(ConnectionLimit.class).maxConnections();
      }
    } catch (SQLException e) {
      // fall through to the error below
    }
    throw new IllegalStateException(
        "BALLAST_BULKHEAD_MAX_CONCURRENT is 0 (the pool's size), but the bound "
            + "DataSource does not say its size; set BALLAST_BULKHEAD_MAX_CONCURRENT");
  }

  CircuitBreaker breaker() {
    return breaker;
  }

  Bulkhead bulkhead() {
    return bulkhead;
  }

  String lastFailure() {
    return lastFailure;
  }

  /** When an open breaker lets trial calls through. */
  Instant retryAt() {
    var opened = openedAt;
    return breaker.getState() == CircuitBreaker.State.OPEN && opened != null
        ? opened.plusMillis(openMillis)
        : null;
  }

  /**
   * A permission from the breaker. A refusal in HALF_OPEN (its trial calls taken) can race with the
   * trials closing it: asked again once the breaker reads CLOSED, so a caller is never refused by a
   * closed breaker.
   */
  private boolean permitted() {
    return breaker.tryAcquirePermission()
        || (breaker.getState() == CircuitBreaker.State.CLOSED && breaker.tryAcquirePermission());
  }

  DatabaseUnavailableException refused() {
    var state = breaker.getState();
    // refused, so not closed a moment ago: a breaker that closed since is reported as the half-open
    // one it was
    var shown = state == CircuitBreaker.State.CLOSED ? CircuitBreaker.State.HALF_OPEN : state;
    return new DatabaseUnavailableException(
        BREAKER, shown.name(), retryAt(), health != null, lastFailure);
  }

  /**
   * Whether the current thread's transaction has begun its commit (a failure after that is no retry
   * case).
   */
  static boolean committing() {
    return COMMITTING.get()[0];
  }

  static void resetCommitting() {
    COMMITTING.get()[0] = false;
  }

  // ---------------------------------------------------------------- statements

  /**
   * A statement on a read replica (a configuration marked by {@link Servers}) answers to that
   * server's own breaker, {@code db:<server>}: a replica's failures never open the primary's
   * breaker, and a replica's open breaker refuses with a {@link DatabaseUnavailableException} that
   * the replica router takes as "read elsewhere". Replica reads take no bulkhead permit (the
   * bulkhead guards the primary's pool).
   */
  private CircuitBreaker replicaBreaker(ExecuteContext ctx) {
    var server = Servers.of(ctx.configuration());
    return breakers.circuitBreaker(BREAKER + ":" + server, breakerConfig);
  }

  @Override
  public void start(ExecuteContext ctx) {
    if (!Servers.isPrimary(ctx.configuration())) {
      var replica = replicaBreaker(ctx);
      if (!replica.tryAcquirePermission()) {
        throw new DatabaseUnavailableException(
            replica.getName(), replica.getState().name(), null, false, null);
      }
      ctx.data(REPLICA_STARTED, replica);
      return;
    }
    if (TRANSACTION_DEPTH.get()[0] > 0) {
      TRANSACTION.get()[0]++;
    } else if (bulkhead != null) {
      enterBulkhead();
      ctx.data(HELD, Boolean.TRUE);
    }
    if (!permitted()) {
      throw refused();
    }
    ctx.data(
        STARTED,
        Boolean.TRUE); // no clock read: durations matter only for slow-call rules, not used here
  }

  @Override
  public void exception(ExecuteContext ctx) {
    if (ctx.data().remove(REPLICA_STARTED) instanceof CircuitBreaker replica) {
      Throwable failure = ctx.sqlException() != null ? ctx.sqlException() : ctx.exception();
      var before = replica.getState();
      replica.onError(0, TimeUnit.NANOSECONDS, failure);
      if (before != replica.getState()) {
        LOG.warn("Database breaker '{}' is {}", replica.getName(), replica.getState());
      }
      return;
    }
    if (ctx.data().remove(STARTED) != null) {
      Throwable failure = ctx.sqlException() != null ? ctx.sqlException() : ctx.exception();
      record(failure);
    }
  }

  @Override
  public void end(ExecuteContext ctx) {
    if (ctx.data().remove(REPLICA_STARTED) instanceof CircuitBreaker replica) {
      var before = replica.getState();
      replica.onSuccess(0, TimeUnit.NANOSECONDS);
      if (before != replica.getState()) {
        LOG.info("Database breaker '{}' is {}", replica.getName(), replica.getState());
      }
      return;
    }
    if (ctx.data().remove(STARTED) != null) {
      var before = breaker.getState();
      breaker.onSuccess(0, TimeUnit.NANOSECONDS);
      if (before != CircuitBreaker.State.CLOSED) {
        noteTransition(before);
      }
    }
    if (ctx.data().remove(HELD) != null) {
      bulkhead.onComplete();
    }
  }

  private void record(Throwable failure) {
    var kind = SqlFailures.classify(failure);
    if (kind == SqlFailures.Kind.UNAVAILABLE) {
      lastFailure = describe(failure);
    }
    if (kind == SqlFailures.Kind.UNAVAILABLE && health != null) {
      health
          .suspect(); // the pool probes the server: fail fast while it is down, and know when it is
      // back
    }
    var before = breaker.getState();
    breaker.onError(0, TimeUnit.NANOSECONDS, failure);
    if (before == CircuitBreaker.State.HALF_OPEN
        && kind == SqlFailures.Kind.UNAVAILABLE
        && breaker.getState() == CircuitBreaker.State.HALF_OPEN) {
      breaker.transitionToOpenState(); // a failed trial call reopens at once
    }
    noteTransition(before);
  }

  /**
   * Logs a state change the calling thread's outcome caused. Watched here rather than through the
   * breaker's event publisher: with any consumer registered, Resilience4j builds a timestamped
   * event for every call.
   */
  private void noteTransition(CircuitBreaker.State before) {
    var after = breaker.getState();
    if (after == before) {
      return;
    }
    if (after == CircuitBreaker.State.OPEN) {
      openedAt = Instant.now();
      openedAtNanos = System.nanoTime();
      LOG.warn(
          "Database breaker '{}' opened after {} failures in a row (last: {}); calls fail at once until {}{}",
          BREAKER,
          before == CircuitBreaker.State.HALF_OPEN ? "a failed trial call and" : threshold,
          lastFailure,
          openedAt.plusMillis(openMillis),
          health == null ? "" : ", or until the database accepts connections again");
      if (health != null) {
        health.suspect();
      }
    } else {
      LOG.info("Database breaker '{}' is {}", BREAKER, after);
    }
  }

  private static String describe(Throwable failure) {
    var state = SqlFailures.sqlState(failure);
    return (state == null ? "" : state + " ") + SqlFailures.rootLine(failure);
  }

  private void enterBulkhead() {
    if (!bulkhead.tryAcquirePermission()) {
      throw new DatabaseBusyException(
          bulkhead.getBulkheadConfig().getMaxConcurrentCalls(),
          bulkhead.getBulkheadConfig().getMaxWaitDuration());
    }
  }

  // ---------------------------------------------------------------- transactions

  /**
   * Refuses the transaction while the breaker is open, before jOOQ takes a connection. No
   * permission is held for the transaction itself: its statements take theirs. A failure to begin
   * (no connection) is recorded when the rollback that follows it starts.
   */
  @Override
  public void beginStart(TransactionContext ctx) {
    if (!Servers.isPrimary(ctx.configuration())) {
      return; // a transaction inside a replica read: that read is the transaction
    }
    var depth = TRANSACTION_DEPTH.get();
    if (depth[0]++ == 0) {
      COMMITTING.get()[0] = false;
      TRANSACTION.get()[0] = 0;
      if (bulkhead != null) {
        enterBulkhead();
        ctx.configuration().data(HELD, Boolean.TRUE);
      }
    }
    if (!permitted()) {
      throw refused();
    }
    breaker.releasePermission();
  }

  @Override
  public void commitStart(TransactionContext ctx) {
    if (!Servers.isPrimary(ctx.configuration())) {
      return; // a transaction inside a replica read: that read is the transaction
    }
    if (TRANSACTION_DEPTH.get()[0] == 1) {
      COMMITTING.get()[0] = true;
    }
  }

  @Override
  public void commitEnd(TransactionContext ctx) {
    if (!Servers.isPrimary(ctx.configuration())) {
      return; // a transaction inside a replica read: that read is the transaction
    }
    leave(ctx);
  }

  @Override
  public void rollbackStart(TransactionContext ctx) {
    if (!Servers.isPrimary(ctx.configuration())) {
      return; // a transaction inside a replica read: that read is the transaction
    }
    var tx = TRANSACTION.get();
    var cause = ctx.cause();
    if (TRANSACTION_DEPTH.get()[0] == 1
        && tx[0] == 0
        && cause != null
        && !(cause instanceof DatabaseUnavailableException)
        && !(cause instanceof DatabaseBusyException)) {
      record(cause); // no statement ran: begin itself failed (no connection, or the server refused)
    }
  }

  @Override
  public void rollbackEnd(TransactionContext ctx) {
    if (!Servers.isPrimary(ctx.configuration())) {
      return; // a transaction inside a replica read: that read is the transaction
    }
    leave(ctx);
  }

  private void leave(TransactionContext ctx) {
    TRANSACTION_DEPTH.get()[0]--;
    if (ctx.configuration().data().remove(HELD) != null) {
      bulkhead.onComplete();
    }
  }
}
