package io.ballast.pool;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;

/**
 * A primary connection lent inside a {@link UnitOfWork}: every use of it (a statement, a commit,
 * handing it back) tells the unit, whose next {@link UnitOfWork#position()} then reads the
 * primary's WAL insert position once. That position is past every commit made through the
 * connection before it, whether by jOOQ, plain JDBC or a migration tool. No I/O of its own.
 */
final class WriteTracking implements InvocationHandler {
  static final String POSITION_SQL = "select pg_current_wal_insert_lsn()::text";

  private final Connection delegate;
  private final UnitOfWork unit;

  private WriteTracking(Connection delegate, UnitOfWork unit) {
    this.delegate = delegate;
    this.unit = unit;
  }

  static Connection wrap(Connection connection, UnitOfWork unit) {
    unit.usedPrimary();
    return (Connection)
        Proxy.newProxyInstance(
            WriteTracking.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            new WriteTracking(connection, unit));
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    if (method.getDeclaringClass() == Object.class) {
      return switch (method.getName()) {
        case "equals" -> proxy == args[0];
        case "hashCode" -> System.identityHashCode(proxy);
        default -> "WriteTracking[" + delegate + "]";
      };
    }
    unit.usedPrimary();
    try {
      return method.invoke(delegate, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    } finally {
      unit.usedPrimary(); // after a commit too
    }
  }
}
