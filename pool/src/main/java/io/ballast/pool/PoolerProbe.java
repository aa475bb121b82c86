package io.ballast.pool;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * Finds out at start whether the server the pool reaches is a transaction- (or statement-) pooling
 * PgBouncer: two client connections, used one after the other in autocommit, are served by the same
 * backend process only behind such a pooler (a direct server and session pooling give each client
 * its own). The pooler hands out the server connection it used last (PgBouncer's default, {@code
 * server_round_robin = 0}), so the second client gets the first one's backend as soon as that is
 * idle. A heuristic that errs on the side of "not detected"; the {@code pgbouncer} setting is the
 * way to say so, and the pool's borrow check is the safety net either way.
 */
final class PoolerProbe {
  private static final int ROUNDS = 3;

  private PoolerProbe() {}

  /**
   * Whether two client connections shared a backend; {@code false} when the server could not be
   * asked.
   */
  static boolean sharesBackends(String jdbcUrl, Properties properties) {
    var props = new Properties();
    props.putAll(properties);
    props.setProperty("prepareThreshold", "0"); // the probe itself must work behind the pooler
    try (var a = DriverManager.getConnection(jdbcUrl, props);
        var b = DriverManager.getConnection(jdbcUrl, props)) {
      for (int i = 0; i < ROUNDS; i++) {
        if (pid(a) == pid(b)) {
          return true;
        }
      }
      return false;
    } catch (SQLException e) {
      return false; // the pool's own start reports an unreachable server
    }
  }

  private static int pid(Connection c) throws SQLException {
    try (var s = c.createStatement();
        var rs = s.executeQuery("select pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
