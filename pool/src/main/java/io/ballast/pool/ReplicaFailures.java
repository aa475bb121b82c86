package io.ballast.pool;

import java.sql.SQLException;

/** Which failures of a read on a replica send it to the next server. */
final class ReplicaFailures {
  private ReplicaFailures() {}

  /**
   * Connection lost or refused ({@code 08…}), server shutting down or starting ({@code 57P0…}), a
   * statement cancelled by a recovery conflict ({@code 40001} on a standby), a breaker or bulkhead
   * refusal for that server: the same read may succeed elsewhere.
   */
  static boolean elsewhere(Throwable e) {
    var state = sqlState(e);
    if (state != null
        && (state.startsWith("08") || state.startsWith("57P0") || state.equals("40001"))) {
      return true;
    }
    for (var t = e; t != null; t = t.getCause()) {
      if (t instanceof io.ballast.core.ServerRefusal) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  /** Whether the connection (not just the statement) was lost. */
  static boolean connectionLost(Throwable e) {
    var state = sqlState(e);
    return state != null && (state.startsWith("08") || state.startsWith("57P0"));
  }

  static String sqlState(Throwable e) {
    for (var t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException s && s.getSQLState() != null) {
        return s.getSQLState();
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return null;
  }
}
