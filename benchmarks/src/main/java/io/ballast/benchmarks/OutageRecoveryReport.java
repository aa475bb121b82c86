package io.ballast.benchmarks;

import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.resilience.ResilienceModule;
import io.ballast.resilience.ResilienceSettings;
import io.ballast.testkit.OutageDrill;
import io.ballast.testkit.PostgresServer;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import org.jooq.DSLContext;

/**
 * Stops an embedded PostgreSQL under load and starts it again, several times, with default settings
 * (pool, resilience), and reports how fast callers failed while it was down and how long after it
 * accepted connections the queries succeeded again. Not a JMH benchmark: the figure is a recovery
 * time, measured per drill with {@link OutageDrill}, the same harness the outage test uses. Args:
 * drills (3), seconds down (10), threads (8).
 */
public final class OutageRecoveryReport {
  private OutageRecoveryReport() {}

  public static void main(String[] args) throws Exception {
    int drills = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    int down = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    int threads = args.length > 2 ? Integer.parseInt(args[2]) : 8;
    var server = PostgresServer.shared();
    if (!server.isEmbedded()) {
      throw new IllegalStateException(
          "the drill stops the server: run it without BALLAST_TEST_PG_URL so that the "
              + "testkit starts an embedded PostgreSQL");
    }
    var database = "outage_" + Long.toHexString(System.nanoTime());
    try (var c = server.connectAsSuperuser("postgres");
        var s = c.createStatement()) {
      s.execute("create database " + database);
    }
    var url =
        "postgresql://"
            + server.superuser()
            + "@"
            + server.host()
            + ":"
            + server.port()
            + "/"
            + database;
    var sb =
        Reports.start(
                "Recovery from a database outage, default settings",
                threads
                    + " threads running `select 1` through Ballast (pool + resilience, every setting at its default: "
                    + "pool of 10, pool timeout 10 s, breaker opening after 5 failures for 30 s); the embedded PostgreSQL "
                    + "stopped (fast shutdown) for "
                    + down
                    + " s, then started; `recovery` runs from `pg_ctl start` "
                    + "returning (the server accepts connections) to the end of the last failed call.")
            .append(
                "| drill | recovery | calls while down | p50 while down | p99 while down | longest wait |\n")
            .append("|---:|---:|---:|---:|---:|---:|\n");
    long worst = 0;
    for (int i = 1; i <= drills; i++) {
      try (var app =
          Ballast.start(
              new CoreModule(CoreSettings.defaults()),
              new PoolModule(PoolSettings.fromEnv(Map.of("DATABASE_URL", url))),
              new ResilienceModule(ResilienceSettings.fromEnv(Map.of())))) {
        var db = app.get(DSLContext.class);
        var result =
            OutageDrill.builder(() -> db.fetchValue("select 1"))
                .threads(threads)
                .down(Duration.ofSeconds(down))
                .run(server::stop, server::start);
        var whileDown = result.whileDown();
        worst = Math.max(worst, result.recovery().toMillis());
        sb.append(
            String.format(
                Locale.ROOT,
                "| %d | %d ms | %d | %.2f ms | %.2f ms | %d ms |%n",
                i,
                result.recovery().toMillis(),
                whileDown.size(),
                OutageDrill.Result.quantile(whileDown, 0.5).toNanos() / 1e6,
                OutageDrill.Result.quantile(whileDown, 0.99).toNanos() / 1e6,
                result.longestWait().toMillis()));
      }
    }
    sb.append(
        String.format(
            Locale.ROOT,
            "%nWorst recovery: %d ms (goal: under 5 000 ms). The pool probes the "
                + "server every 250 ms while it is down, refuses borrowers at once meanwhile, and tells the breaker when "
                + "the server answers; the breaker then lets its trial calls through instead of waiting out its 30 s.%n",
            worst));
    drop(server, database);
    Reports.finish(sb, OutageRecoveryReport.class, args);
  }

  private static void drop(PostgresServer server, String database) throws SQLException {
    try (var c = server.connectAsSuperuser("postgres");
        var s = c.createStatement()) {
      s.execute("drop database if exists " + database + " with (force)");
    }
  }
}
