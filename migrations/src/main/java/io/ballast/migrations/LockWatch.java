package io.ballast.migrations;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Locale;

/**
 * While a migration runs, looks every {@value #EVERY_MILLIS} ms (on the migration lock's
 * connection, idle meanwhile) for migration sessions waiting on a lock, and remembers who holds it:
 * pid, user, state and how long its transaction has been open. Never the holder's query text, which
 * may hold literals.
 */
final class LockWatch implements AutoCloseable {
  static final String APPLICATION_NAME = "ballast-migrations";
  private static final long EVERY_MILLIS = 250;
  private static final String BLOCKERS =
      """
      select coalesce(l.relation::regclass::text, l.locktype), b.pid, b.usename, b.state,
             coalesce(extract(epoch from now() - b.xact_start)::bigint, 0), l.relation is null
        from pg_stat_activity w
        join pg_locks l on l.pid = w.pid and not l.granted
        join pg_stat_activity b on b.pid = any (pg_blocking_pids(w.pid))
       where w.application_name = 'ballast-migrations' and w.datname = current_database()
       order by b.pid""";

  private final Thread thread;
  private volatile String lastSeen;

  private LockWatch(Connection c) {
    this.thread = new Thread(() -> watch(c), "ballast-migrations-lock-watch");
    this.thread.setDaemon(true);
  }

  static LockWatch start(Connection c) {
    var watch = new LockWatch(c);
    watch.thread.start();
    return watch;
  }

  /**
   * Who held the lock a migration waited for, last time it was seen, e.g. "a lock on orders held by
   * pid 42 …".
   */
  String lastSeen() {
    var seen = lastSeen;
    return seen == null ? "a lock held by another session" : seen;
  }

  private void watch(Connection c) {
    while (!Thread.currentThread().isInterrupted()) {
      try (var s = c.createStatement();
          var rs = s.executeQuery(BLOCKERS)) {
        var holders = new ArrayList<String>();
        String target = null;
        var snapshotWait = false;
        while (rs.next()) {
          target = rs.getString(1);
          snapshotWait = rs.getBoolean(6);
          holders.add(
              String.format(
                  Locale.ROOT,
                  "pid %d (user %s, %s, transaction open %d s)",
                  rs.getInt(2),
                  rs.getString(3),
                  rs.getString(4),
                  rs.getLong(5)));
        }
        if (!holders.isEmpty()) {
          lastSeen =
              (snapshotWait
                      ? "older transactions to end (a concurrent index build waits for them): "
                      : "a lock on " + target + " held by ")
                  + String.join(", ", holders);
        }
      } catch (SQLException e) {
        return; // a diagnostic only
      }
      try {
        Thread.sleep(EVERY_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Stops watching; the connection is free again when this returns. */
  @Override
  public void close() throws InterruptedException {
    thread.interrupt();
    thread.join();
  }

  /** Whether {@code e} was caused by a statement's {@code lock_timeout} (SQLSTATE 55P03). */
  static boolean timedOut(Throwable e) {
    for (var t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLException sql && "55P03".equals(sql.getSQLState())) {
        return true;
      }
    }
    return false;
  }
}
