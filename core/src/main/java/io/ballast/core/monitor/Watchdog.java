package io.ballast.core.monitor;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cancels statements that run past their deadline. Statements register when they start and leave
 * when they end; one daemon thread sweeps the running ones every {@value #SWEEP_MILLIS} ms and
 * cancels the late ones: first through {@link Statement#cancel()}, which makes the driver send
 * PostgreSQL a cancel request, then again and again (after {@value #FIRST_RESEND_MILLIS} ms,
 * doubling up to {@value #MAX_RESEND_MILLIS} ms) until the statement ends. A cancel request can be
 * lost on the way: PgBouncer drops one for a client that is still queued for a server connection,
 * and a cancel that reaches the server between two statements does nothing.
 *
 * <p>Why not JDBC's {@code setQueryTimeout}: pgjdbc implements it with a {@code java.util.Timer}
 * shared by all connections, scheduling and cancelling a task per statement under one lock, which
 * every thread contends on (measured: about 15 % of lookup throughput on 4 threads). Registering
 * here is two operations on a concurrent map.
 *
 * <p>Re-sending: pgjdbc's {@code Statement.cancel()} sends one request per execution (it returns at
 * once after the first), so later requests go through the connection's own {@code
 * PGConnection.cancelQuery()}. A request is sent only while the statement is registered, and {@link
 * #done} waits for a request being sent, so a cancel never outlives its statement into the
 * connection's next one (PostgreSQL ignores a cancel that arrives while the backend waits for its
 * next command).
 */
final class Watchdog {
  static final long SWEEP_MILLIS = 50;
  static final long FIRST_RESEND_MILLIS = 100;
  static final long MAX_RESEND_MILLIS = 1000;
  private static final Logger LOG = LoggerFactory.getLogger(Watchdog.class);

  /** A running statement and its deadline. */
  static final class Running {
    final Statement statement;
    final long deadline;
    volatile boolean cancelled;
    private long nextCancel;
    private long resendNanos;
    private int requests;
    private boolean finished;

    Running(Statement statement, long deadline) {
      this.statement = statement;
      this.deadline = deadline;
      this.nextCancel = deadline;
    }

    /** How many cancel requests were sent for this statement. */
    synchronized int requests() {
      return requests;
    }
  }

  private final ConcurrentHashMap<Running, Boolean> running = new ConcurrentHashMap<>();
  private final AtomicBoolean started = new AtomicBoolean();
  private volatile Thread thread;

  Running watch(Statement statement, long timeoutNanos) {
    if (!started.get() && started.compareAndSet(false, true)) {
      var t = new Thread(this::sweep, "ballast-query-watchdog");
      t.setDaemon(true);
      thread = t;
      t.start();
    }
    var entry = new Running(statement, System.nanoTime() + timeoutNanos);
    running.put(entry, Boolean.TRUE);
    return entry;
  }

  void done(Running entry) {
    running.remove(entry);
    // Before its deadline no cancel can be under way (the sweep checks registration under the
    // entry's lock and
    // the entry is gone); after it, wait for a request being sent.
    if (entry.cancelled || System.nanoTime() - entry.deadline > 0) {
      synchronized (entry) {
        entry.finished = true;
      }
    }
  }

  /** Stops the sweeping thread; the next statement to watch starts it again. */
  void stop() {
    var t = thread;
    if (t != null && started.compareAndSet(true, false)) {
      thread = null;
      t.interrupt();
    }
  }

  private void sweep() {
    while (true) {
      try {
        Thread.sleep(SWEEP_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
      var now = System.nanoTime();
      for (var entry : running.keySet()) {
        if (now - entry.nextCancel > 0) {
          cancel(entry, now);
        }
      }
    }
  }

  private void cancel(Running entry, long now) {
    synchronized (entry) {
      if (entry.finished || !running.containsKey(entry)) {
        return;
      }
      entry.cancelled = true;
      try {
        if (entry.requests == 0) {
          entry.statement.cancel();
        } else {
          cancelOnConnection(entry.statement);
        }
      } catch (SQLException | RuntimeException e) {
        LOG.debug("Could not cancel a statement past its timeout: {}", e.toString());
      }
      entry.requests++;
      entry.resendNanos =
          entry.resendNanos == 0
              ? TimeUnit.MILLISECONDS.toNanos(FIRST_RESEND_MILLIS)
              : Math.min(entry.resendNanos * 2, TimeUnit.MILLISECONDS.toNanos(MAX_RESEND_MILLIS));
      entry.nextCancel = now + entry.resendNanos;
      if (entry.requests == 2) {
        LOG.debug(
            "A statement past its timeout is still running after a cancel request; sending more");
      }
    }
  }

  private static volatile Method pgCancel;
  private static volatile Class<?> pgConnection;

  /** {@code PGConnection.cancelQuery()}, through reflection: core does not depend on the driver. */
  private static void cancelOnConnection(Statement statement) throws SQLException {
    try {
      if (pgCancel == null) {
        var type =
            Class.forName(
                "org.postgresql.PGConnection", false, statement.getClass().getClassLoader());
        pgCancel = type.getMethod("cancelQuery");
        pgConnection = type;
      }
      var connection = statement.getConnection();
      if (connection.isWrapperFor(pgConnection)) {
        pgCancel.invoke(connection.unwrap(pgConnection));
      } else {
        statement.cancel();
      }
    } catch (ClassNotFoundException | NoSuchMethodException | IllegalAccessException e) {
      statement.cancel();
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof SQLException sql) {
        throw sql;
      }
      throw new SQLException("cancel failed", e.getCause());
    }
  }
}
