package io.ballast.testkit;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Gives a test class its own, freshly created database on a real PostgreSQL ({@link
 * PostgresServer#shared()}), dropped after the class with every role the class created.
 *
 * <pre>{@code
 * class OrdersTest {
 *   @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
 *
 *   @Test void insertsAnOrder() throws SQLException {
 *     try (var c = PG.connect()) { ... }
 *   }
 * }
 * }</pre>
 *
 * <p>Register it in a {@code static} field: the database lives for the whole class. Thread-safe
 * after {@code beforeAll}.
 */
public final class PostgresExtension implements BeforeAllCallback, AfterAllCallback {
  private final List<String> roles = new ArrayList<>();
  private PostgresServer server;
  private String database;
  private String suffix;
  private int depth;

  @Override
  public synchronized void beforeAll(ExtensionContext context) throws SQLException {
    if (depth++ > 0) {
      return; // a @Nested class shares its outer class's database
    }
    server = PostgresServer.shared();
    suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    var base =
        context
            .getRequiredTestClass()
            .getSimpleName()
            .toLowerCase(Locale.ROOT)
            .replaceAll("[^a-z0-9]", "");
    database = "t_" + base.substring(0, Math.min(base.length(), 40)) + "_" + suffix;
    try (var c = server.connectToMaintenanceDatabase();
        var s = c.createStatement()) {
      s.execute("CREATE DATABASE " + database);
    }
  }

  @Override
  public synchronized void afterAll(ExtensionContext context) throws SQLException {
    if (--depth > 0 || database == null) {
      return;
    }
    if (!server.isRunning()) {
      server.start(); // a test stopped the shared server and failed before restarting it
    }
    try (var c = server.connectToMaintenanceDatabase();
        var s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
      for (var role : roles) {
        s.execute("DROP ROLE IF EXISTS " + role);
      }
    } finally {
      roles.clear();
      database = null;
    }
  }

  /** The server this class's database lives on. */
  public PostgresServer server() {
    return requireStarted();
  }

  /** The name of this class's database. */
  public String databaseName() {
    requireStarted();
    return database;
  }

  /** The JDBC URL of this class's database, without credentials. */
  public String jdbcUrl() {
    return requireStarted().jdbcUrl(database);
  }

  /** The administrative user's name. */
  public String username() {
    return requireStarted().superuser();
  }

  /** The administrative user's password, or {@code null}. */
  public String password() {
    return requireStarted().superuserPassword();
  }

  /**
   * This class's database as a {@code postgresql://} URL, in the form {@code DATABASE_URL} takes.
   */
  public String databaseUrl() {
    var s = requireStarted();
    var userInfo =
        URLEncoder.encode(s.superuser(), StandardCharsets.UTF_8)
            + (s.superuserPassword() == null
                ? ""
                : ":" + URLEncoder.encode(s.superuserPassword(), StandardCharsets.UTF_8));
    return "postgresql://" + userInfo + "@" + s.host() + ":" + s.port() + "/" + database;
  }

  /** Opens a connection to this class's database as the administrative user. */
  public Connection connect() throws SQLException {
    return requireStarted().connectAsSuperuser(database);
  }

  /** An unpooled {@link DataSource} for this class's database, for test set-up and assertions. */
  public DataSource dataSource() {
    var s = requireStarted();
    var ds = new PGSimpleDataSource();
    ds.setServerNames(new String[] {s.host()});
    ds.setPortNumbers(new int[] {s.port()});
    ds.setDatabaseName(database);
    ds.setUser(s.superuser());
    if (s.superuserPassword() != null) {
      ds.setPassword(s.superuserPassword());
    }
    return ds;
  }

  /** Runs each statement on this class's database as the administrative user. */
  public void execute(String... statements) throws SQLException {
    try (var c = connect();
        var s = c.createStatement()) {
      for (var sql : statements) {
        s.execute(sql);
      }
    }
  }

  /**
   * Creates a login role that may connect to this class's database and create objects in its {@code
   * public} schema, and is none of superuser, CREATEROLE, CREATEDB or BYPASSRLS (the application
   * role row-level security needs).
   *
   * @param name the role's base name; the created role is {@code name_<suffix>}
   * @param attributes extra {@code CREATE ROLE} attributes, e.g. {@code "BYPASSRLS"}
   */
  public synchronized TestRole createRole(String name, String... attributes) throws SQLException {
    requireStarted();
    if (!name.matches("[a-z][a-z0-9_]{0,30}")) {
      throw new IllegalArgumentException(
          "role name must match [a-z][a-z0-9_]{0,30}, but was " + name);
    }
    var role = name + "_" + suffix;
    var password = UUID.randomUUID().toString();
    var extra = attributes.length == 0 ? "" : " " + String.join(" ", attributes);
    try (var c = server.connectToMaintenanceDatabase();
        var s = c.createStatement()) {
      s.execute(
          "CREATE ROLE "
              + role
              + " LOGIN PASSWORD '"
              + password
              + "' NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"
              + extra);
      s.execute("GRANT CONNECT, TEMPORARY ON DATABASE " + database + " TO " + role);
    }
    roles.add(role);
    execute("GRANT USAGE, CREATE ON SCHEMA public TO " + role);
    return new TestRole(role, password, server.host(), server.port(), database);
  }

  private PostgresServer requireStarted() {
    if (database == null) {
      throw new IllegalStateException(
          "PostgresExtension is not active: register it with @RegisterExtension on a "
              + "static field and use it from test methods or @BeforeAll");
    }
    return server;
  }
}
