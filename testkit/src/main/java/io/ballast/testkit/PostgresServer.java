package io.ballast.testkit;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * The PostgreSQL server the tests of this JVM run against: the one named by {@code
 * BALLAST_TEST_PG_URL} (system property {@code ballast.test.pg.url} wins) or, when that is unset,
 * an embedded PostgreSQL 16 started on first use and stopped when the JVM exits.
 *
 * <p>The URL may be {@code postgresql://user:pass@host:port/db}, {@code postgres://…} or {@code
 * jdbc:postgresql://host:port/db?user=…&password=…}; its user must be allowed to create databases
 * and roles. Thread-safe.
 */
public final class PostgresServer {
  /** Environment variable naming an external server for the tests. */
  public static final String URL_VARIABLE = "BALLAST_TEST_PG_URL";

  private static PostgresServer shared;

  private final String host;
  private final int port;
  private final String maintenanceDatabase;
  private final String user;
  private final String password;
  private final EmbeddedPostgres embedded;

  private PostgresServer(
      String host,
      int port,
      String maintenanceDatabase,
      String user,
      String password,
      EmbeddedPostgres embedded) {
    this.host = host;
    this.port = port;
    this.maintenanceDatabase = maintenanceDatabase;
    this.user = user;
    this.password = password;
    this.embedded = embedded;
  }

  /** The server shared by every test in this JVM, started on first call. */
  public static synchronized PostgresServer shared() {
    if (shared == null) {
      var url = System.getProperty("ballast.test.pg.url", System.getenv(URL_VARIABLE));
      shared = url == null || url.isBlank() ? embedded() : external(url.trim());
    }
    return shared;
  }

  private static PostgresServer embedded() {
    var server = EmbeddedPostgres.start();
    Runtime.getRuntime().addShutdownHook(new Thread(server::destroy, "ballast-embedded-pg-stop"));
    return new PostgresServer("127.0.0.1", server.port(), "postgres", "postgres", null, server);
  }

  static PostgresServer external(String url) {
    try {
      if (url.startsWith("jdbc:postgresql:")) {
        Properties props = org.postgresql.Driver.parseURL(url, new Properties());
        if (props == null) {
          throw new IllegalArgumentException(URL_VARIABLE + " is not a valid jdbc:postgresql URL");
        }
        return new PostgresServer(
            props.getProperty("PGHOST", "localhost").split(",", -1)[0],
            Integer.parseInt(props.getProperty("PGPORT", "5432").split(",", -1)[0]),
            props.getProperty("PGDBNAME", "postgres"),
            props.getProperty("user", "postgres"),
            props.getProperty("password"),
            null);
      }
      var uri = URI.create(url.replaceFirst("^postgres://", "postgresql://"));
      if (!"postgresql".equals(uri.getScheme()) || uri.getHost() == null) {
        throw new IllegalArgumentException(
            URL_VARIABLE
                + " must look like postgresql://user:pass@host:5432/postgres or jdbc:postgresql://host:5432/postgres");
      }
      String user = "postgres";
      String password = null;
      if (uri.getRawUserInfo() != null) {
        var parts = uri.getRawUserInfo().split(":", 2);
        user = URLDecoder.decode(parts[0], StandardCharsets.UTF_8);
        password = parts.length > 1 ? URLDecoder.decode(parts[1], StandardCharsets.UTF_8) : null;
      }
      var path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
      return new PostgresServer(
          uri.getHost(),
          uri.getPort() < 0 ? 5432 : uri.getPort(),
          path.isEmpty() ? "postgres" : path,
          user,
          password,
          null);
    } catch (IllegalArgumentException e) {
      // never echo the URL: it may carry a password
      throw new IllegalArgumentException(
          URL_VARIABLE + " could not be parsed: " + e.getMessage(), e);
    }
  }

  /** The loopback address it listens on. */
  public String host() {
    return host;
  }

  /** The port it listens on. */
  public int port() {
    return port;
  }

  /** The administrative user that creates the test databases and roles. */
  public String superuser() {
    return user;
  }

  /**
   * The administrative user's password, or {@code null} when the server trusts loopback
   * connections.
   */
  public String superuserPassword() {
    return password;
  }

  /** A JDBC URL for {@code database} on this server, without credentials. */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://" + host + ":" + port + "/" + database;
  }

  /** Opens a connection to {@code database} as the administrative user. */
  public Connection connectAsSuperuser(String database) throws SQLException {
    var props = new Properties();
    props.setProperty("user", user);
    if (password != null) {
      props.setProperty("password", password);
    }
    return DriverManager.getConnection(jdbcUrl(database), props);
  }

  /** Opens a connection to the maintenance database (where databases are created and dropped). */
  Connection connectToMaintenanceDatabase() throws SQLException {
    return connectAsSuperuser(maintenanceDatabase);
  }

  /**
   * Whether this server was started by the testkit (and so can be stopped and started by tests).
   */
  public boolean isEmbedded() {
    return embedded != null;
  }

  /** Whether the server is accepting connections, as far as the testkit knows. */
  public synchronized boolean isRunning() {
    return embedded == null || embedded.isRunning();
  }

  /**
   * Stops the embedded server (fast shutdown: connections are terminated) for an outage test. Every
   * test class that shares the server is affected, so call {@link #start()} before the test ends.
   *
   * @throws UnsupportedOperationException when the server is an external one
   */
  public synchronized void stop() {
    requireEmbedded("stop").stopServer();
  }

  /** Starts the embedded server again on the same port, with its data intact. */
  public synchronized void start() {
    requireEmbedded("start").startServer();
  }

  private EmbeddedPostgres requireEmbedded(String action) {
    if (embedded == null) {
      throw new UnsupportedOperationException(
          "Cannot "
              + action
              + " the external PostgreSQL named by "
              + URL_VARIABLE
              + "; outage tests that stop the server need the embedded one (unset "
              + URL_VARIABLE
              + ") or the fault proxy");
    }
    return embedded;
  }

  @Override
  public String toString() {
    return "PostgresServer["
        + host
        + ":"
        + port
        + (embedded != null ? ", embedded" : ", external")
        + "]";
  }
}
