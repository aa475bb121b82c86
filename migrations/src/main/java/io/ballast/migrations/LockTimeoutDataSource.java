package io.ballast.migrations;

import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * The pool as Flyway sees it: each connection it takes gets a session {@code lock_timeout} (so a
 * migration statement waiting for a lock the application holds fails after a while instead of
 * waiting for ever) and the {@code application_name} {@value LockWatch#APPLICATION_NAME} (so the
 * lock watch can find it), and both are reset when Flyway hands it back, so nothing leaks to the
 * pool's next borrower.
 */
final class LockTimeoutDataSource implements DataSource {
  private final DataSource pool;
  private final String lockTimeout;

  /** Connections handed out and not given back yet, with the thread that took each. */
  private final java.util.Map<Connection, Thread> open =
      new java.util.concurrent.ConcurrentHashMap<>();

  LockTimeoutDataSource(DataSource pool, Duration lockTimeout) {
    this.pool = pool;
    this.lockTimeout = lockTimeout.toMillis() + "ms";
  }

  @Override
  public Connection getConnection() throws SQLException {
    var c = pool.getConnection();
    try (var s =
        c.prepareStatement(
            "select set_config('lock_timeout', ?, false), "
                + "set_config('application_name', '"
                + LockWatch.APPLICATION_NAME
                + "', false)")) {
      s.setString(1, lockTimeout);
      s.executeQuery().close();
    } catch (SQLException e) {
      c.close();
      throw e;
    }
    open.put(c, Thread.currentThread());
    return (Connection)
        Proxy.newProxyInstance(
            Connection.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              if (method.getName().equals("close") && method.getParameterCount() == 0) {
                giveBack(c);
                return null;
              }
              try {
                return method.invoke(c, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  /** Resets what {@link #getConnection()} set and returns the connection to the pool. */
  private void giveBack(Connection c) throws SQLException {
    if (open.remove(c) == null) {
      return; // closed already
    }
    try {
      if (!c.isClosed()) {
        if (!c.getAutoCommit()) {
          c.rollback(); // a failed migration's transaction, before the reset can run
        }
        try (var s = c.createStatement()) {
          s.execute("reset lock_timeout; reset application_name");
        }
      }
    } catch (SQLException broken) {
      // a broken connection: the pool evicts it
    }
    c.close();
  }

  /**
   * Gives back every connection Flyway took on this thread and did not close (it leaves one behind
   * when it fails in some places, a missing location among them); returns how many. Connections
   * other threads hold (a migration running while a probe fails) are left alone.
   */
  int closeLeftovers() {
    var count = 0;
    var me = Thread.currentThread();
    for (var e : java.util.List.copyOf(open.entrySet())) {
      if (e.getValue() != me) {
        continue;
      }
      var c = e.getKey();
      try {
        giveBack(c);
        count++;
      } catch (SQLException ignored) {
        // closing failed: the pool evicts it
      }
    }
    return count;
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    throw new SQLFeatureNotSupportedException("migrations use the pool's user");
  }

  @Override
  public PrintWriter getLogWriter() throws SQLException {
    return pool.getLogWriter();
  }

  @Override
  public void setLogWriter(PrintWriter out) throws SQLException {
    pool.setLogWriter(out);
  }

  @Override
  public void setLoginTimeout(int seconds) throws SQLException {
    pool.setLoginTimeout(seconds);
  }

  @Override
  public int getLoginTimeout() throws SQLException {
    return pool.getLoginTimeout();
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    return pool.getParentLogger();
  }

  @Override
  public <T> T unwrap(Class<T> iface) throws SQLException {
    return iface.isInstance(this) ? iface.cast(this) : pool.unwrap(iface);
  }

  @Override
  public boolean isWrapperFor(Class<?> iface) throws SQLException {
    return iface.isInstance(this) || pool.isWrapperFor(iface);
  }
}
