package io.ballast.resilience;

import io.ballast.core.monitor.QueryTimeoutException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Locale;

/**
 * What a database failure says about the database, by SQLSTATE and exception type. The breaker
 * counts only {@link Kind#UNAVAILABLE}; transaction retry retries only {@link Kind#RETRYABLE} (and
 * connection loss before commit).
 *
 * <table>
 *   <caption>Classification</caption>
 *   <tr><th>failure</th><th>kind</th><th>breaker</th><th>retry</th></tr>
 *   <tr><td>class {@code 08} (connection exception), {@code 57P01} admin shutdown, {@code 57P02} crash shutdown,
 *       {@code 57P03} cannot connect now, {@code 53300} too many connections, a pool-acquisition timeout
 *       ({@code SQLTransientConnectionException})</td><td>UNAVAILABLE</td><td>counts</td>
 *       <td>only before commit</td></tr>
 *   <tr><td>{@code 40001} serialization failure, {@code 40P01} deadlock</td><td>RETRYABLE</td><td>no</td>
 *       <td>yes</td></tr>
 *   <tr><td>class {@code 23} (constraint), {@code 42} (syntax, permission), {@code 22} (data), a query-timeout
 *       cancellation ({@code 57014}), anything else with a SQLSTATE</td><td>CALLER</td><td>no</td><td>no</td></tr>
 *   <tr><td>no SQLSTATE anywhere in the cause chain</td><td>UNKNOWN</td><td>no</td><td>no</td></tr>
 * </table>
 */
public final class SqlFailures {
  private SqlFailures() {}

  /** What a failure says about the database. */
  public enum Kind {
    /** The database (or the way to it) is not there: the breaker counts it. */
    UNAVAILABLE,
    /** A conflict between transactions that a retry of the whole transaction resolves. */
    RETRYABLE,
    /**
     * The statement's own problem (constraint, syntax, permission, data, its timeout): not the
     * database's health.
     */
    CALLER,
    /** No SQLSTATE to go by. */
    UNKNOWN
  }

  /** The kind of {@code failure}, from the first SQLSTATE in its cause chain. */
  public static Kind classify(Throwable failure) {
    for (var t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof QueryTimeoutException) {
        return Kind.CALLER;
      }
      if (t instanceof SQLException sql) {
        var state = sqlState(sql);
        if (state != null) {
          return classify(state);
        }
        if (sql instanceof SQLTransientConnectionException) {
          return Kind.UNAVAILABLE;
        }
      }
    }
    return Kind.UNKNOWN;
  }

  /** The kind of a SQLSTATE. */
  public static Kind classify(String sqlState) {
    var state = sqlState.toUpperCase(Locale.ROOT);
    if (state.startsWith("08")
        || state.equals("57P01")
        || state.equals("57P02")
        || state.equals("57P03")
        || state.equals("53300")) {
      return Kind.UNAVAILABLE;
    }
    if (state.equals("40001") || state.equals("40P01")) {
      return Kind.RETRYABLE;
    }
    return Kind.CALLER;
  }

  /** The first SQLSTATE in the chain, or {@code null}. */
  public static String sqlState(Throwable failure) {
    for (var t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLException sql) {
        var state = sqlState(sql);
        if (state != null) {
          return state;
        }
      }
    }
    return null;
  }

  private static String sqlState(SQLException sql) {
    for (SQLException e = sql; e != null; e = e.getNextException()) {
      if (e.getSQLState() != null && e.getSQLState().length() == 5) {
        return e.getSQLState();
      }
    }
    return null;
  }

  /**
   * The first line of the root cause's message, for logs and messages (never bind values: not the
   * SQL).
   */
  static String rootLine(Throwable failure) {
    var root = failure;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    var message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    var nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
