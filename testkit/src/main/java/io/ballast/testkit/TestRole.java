package io.ballast.testkit;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * A login role created by {@link PostgresExtension#createRole} for one test class, dropped with its
 * database.
 *
 * @param name the role's name (unique on the server: it carries the test database's suffix)
 * @param password the role's password
 * @param host the server's host
 * @param port the server's port
 * @param database the test database the role may use
 */
public record TestRole(String name, String password, String host, int port, String database) {

  /** A {@code postgresql://} URL for this role, in the form {@code DATABASE_URL} takes. */
  public String databaseUrl() {
    return "postgresql://"
        + URLEncoder.encode(name, StandardCharsets.UTF_8)
        + ":"
        + URLEncoder.encode(password, StandardCharsets.UTF_8)
        + "@"
        + host
        + ":"
        + port
        + "/"
        + database;
  }

  /** A JDBC URL without credentials. */
  public String jdbcUrl() {
    return "jdbc:postgresql://" + host + ":" + port + "/" + database;
  }

  @Override
  public String toString() {
    return "TestRole[" + name + "@" + host + ":" + port + "/" + database + "]";
  }
}
