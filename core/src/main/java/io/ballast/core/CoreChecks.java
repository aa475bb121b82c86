package io.ballast.core;

import java.lang.management.ManagementFactory;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.stream.Collectors;
import javax.sql.DataSource;

/**
 * The health checks core contributes: liveness, database readiness, a deep write check, database
 * details.
 */
final class CoreChecks {
  private CoreChecks() {}

  /** LIVE {@code deadlocks}: no deadlocked threads. Never touches the database. */
  static ProbeCheck deadlocks() {
    return ProbeCheck.of(
        "deadlocks",
        ProbeKind.LIVE,
        () -> {
          var threads = ManagementFactory.getThreadMXBean();
          var ids = threads.findDeadlockedThreads();
          if (ids == null) {
            return ProbeResult.healthy("no deadlocked threads");
          }
          var names =
              Arrays.stream(threads.getThreadInfo(ids))
                  .filter(java.util.Objects::nonNull)
                  .map(t -> t.getThreadName() + " (waiting for " + t.getLockName() + ")")
                  .collect(Collectors.joining(", "));
          return ProbeResult.unhealthy(ids.length + " deadlocked thread(s): " + names);
        });
  }

  /** READY {@code db}: a connection within the pool timeout, and {@code SELECT 1}. */
  static ProbeCheck database(DataSource dataSource) {
    return ProbeCheck.of(
        "db",
        ProbeKind.READY,
        () -> {
          var start = System.nanoTime();
          try (var c = dataSource.getConnection();
              var s = c.createStatement();
              var rs = s.executeQuery("select 1")) {
            rs.next();
            var millis = (System.nanoTime() - start) / 1e6;
            var details = new LinkedHashMap<String, Object>();
            details.put("latencyMs", Math.round(millis * 100) / 100.0);
            return ProbeResult.healthy("select 1 answered", details);
          }
        });
  }

  /** DEEP {@code db.write}: writes a row and reads it back in a transaction that is rolled back. */
  static ProbeCheck databaseWrite(DataSource dataSource) {
    return ProbeCheck.of(
        "db.write",
        ProbeKind.DEEP,
        () -> {
          try (var c = dataSource.getConnection()) {
            var autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try (var s = c.createStatement()) {
              s.execute("create temporary table ballast_probe (token text) on commit drop");
              var token = Long.toHexString(System.nanoTime());
              s.execute("insert into ballast_probe values ('" + token + "')");
              try (var rs = s.executeQuery("select token from ballast_probe")) {
                var ok = rs.next() && token.equals(rs.getString(1));
                return ok
                    ? ProbeResult.healthy("wrote and read back a row (rolled back)")
                    : ProbeResult.unhealthy("the row written was not read back");
              }
            } finally {
              c.rollback();
              c.setAutoCommit(autoCommit);
            }
          }
        });
  }

  /**
   * DEEP {@code db.details}: server version, connections in use vs max_connections, cache hit
   * ratio, latency.
   */
  static ProbeCheck databaseDetails(DataSource dataSource) {
    return ProbeCheck.of(
        "db.details",
        ProbeKind.DEEP,
        () -> {
          var start = System.nanoTime();
          try (var c = dataSource.getConnection();
              var s = c.createStatement();
              var rs =
                  s.executeQuery(
                      "select current_setting('server_version'), (select count(*) from pg_stat_activity),"
                          + " current_setting('max_connections')::int, blks_hit, blks_read"
                          + " from pg_stat_database where datname = current_database()")) {
            if (!rs.next()) {
              return ProbeResult.unhealthy("pg_stat_database has no row for this database");
            }
            var latency = (System.nanoTime() - start) / 1e6;
            var hit = rs.getLong(4);
            var read = rs.getLong(5);
            var details = new LinkedHashMap<String, Object>();
            details.put("serverVersion", rs.getString(1));
            details.put("connections", rs.getLong(2));
            details.put("maxConnections", rs.getInt(3));
            details.put(
                "connectionsUsedPercent", Math.round(1000.0 * rs.getLong(2) / rs.getInt(3)) / 10.0);
            details.put(
                "cacheHitRatio",
                hit + read == 0 ? 1.0 : Math.round(10000.0 * hit / (hit + read)) / 10000.0);
            details.put("latencyMs", Math.round(latency * 100) / 100.0);
            return ProbeResult.healthy(
                String.format(
                    Locale.ROOT,
                    "PostgreSQL %s, %d of %d connections in use",
                    rs.getString(1),
                    rs.getLong(2),
                    rs.getInt(3)),
                details);
          } catch (SQLException e) {
            return ProbeResult.unhealthy(e.getMessage());
          }
        });
  }
}
