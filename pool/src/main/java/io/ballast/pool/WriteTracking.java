package io.ballast.pool;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * A primary connection lent inside a {@link UnitOfWork}: when it is handed back, the unit learns
 * the primary's WAL insert position. That position is at or past the end of every commit made
 * through the connection, whether by jOOQ, plain JDBC or a migration tool, so a replica that has
 * replayed it has every write of the unit.
 */
final class WriteTracking implements InvocationHandler {
  static final String POSITION_SQL = "select pg_current_wal_insert_lsn()::text";

  private final Connection delegate;
  private final UnitOfWork unit;
  private boolean closed;

  private WriteTracking(Connection delegate, UnitOfWork unit) {
    this.delegate = delegate;
    this.unit = unit;
  }

  static Connection wrap(Connection connection, UnitOfWork unit) {
    return (Connection)
        Proxy.newProxyInstance(
            WriteTracking.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            new WriteTracking(connection, unit));
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    if (method.getName().equals("close") && method.getParameterCount() == 0) {
      if (!closed) {
        closed = true;
        try {
          record();
        } finally {
          delegate.close();
        }
      }
      return null;
    }
    if (method.getName().equals("isClosed") && method.getParameterCount() == 0) {
      return closed || delegate.isClosed();
    }
    if (method.getDeclaringClass() == Object.class) {
      return switch (method.getName()) {
        case "equals" -> proxy == args[0];
        case "hashCode" -> System.identityHashCode(proxy);
        default -> "WriteTracking[" + delegate + "]";
      };
    }
    try {
      return method.invoke(delegate, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /**
   * Reads the insert position. A transaction still open is rolled back first (the pool would roll
   * it back anyway), so the position read is past every commit made through this connection.
   */
  private void record() {
    try {
      if (!delegate.getAutoCommit()) {
        delegate.rollback();
      }
      try (var s = delegate.createStatement();
          var rs = s.executeQuery(POSITION_SQL)) {
        rs.next();
        unit.wrote(WalPosition.parse(rs.getString(1)));
      }
    } catch (SQLException | RuntimeException e) {
      unit.wrote(UnitOfWork.UNKNOWN); // cannot know what was written: reads go to the primary
    }
  }
}
