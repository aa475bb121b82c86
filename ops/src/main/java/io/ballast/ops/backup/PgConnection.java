package io.ballast.ops.backup;

import io.ballast.pool.PoolSettings;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

/**
 * Where the backup tools connect: host, port, database, user and password, with the TLS settings of
 * the URL. The password is handed to JDBC in properties and to the tools in a password file, never
 * on a command line; {@link #toString()} leaves it out.
 */
record PgConnection(
    String host, int port, String database, String user, String password, Map<String, String> tls) {
  PgConnection {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(user, "user");
    tls = Map.copyOf(tls);
  }

  /** From the pool's settings (the first host of a multi-host URL). */
  static PgConnection of(PoolSettings settings) {
    var tls = new LinkedHashMap<String, String>();
    settings
        .driverProperties()
        .forEach(
            (k, v) -> {
              if (k.startsWith("ssl")) {
                tls.put(k, v);
              }
            });
    return new PgConnection(
        settings.hosts().get(0),
        settings.ports().get(0),
        settings.database(),
        settings.username(),
        settings.password(),
        tls);
  }

  /** The same server and credentials, another database. */
  PgConnection withDatabase(String name) {
    return new PgConnection(host, port, name, user, password, tls);
  }

  /** A new JDBC connection (unpooled: a dump's snapshot and a scratch database need their own). */
  Connection open() throws SQLException {
    var props = new Properties();
    props.setProperty("user", user);
    if (password != null) {
      props.setProperty("password", password);
    }
    props.setProperty("ApplicationName", "ballast-backup");
    props.setProperty("connectTimeout", "10");
    tls.forEach(props::setProperty);
    return DriverManager.getConnection(
        "jdbc:postgresql://" + host + ":" + port + "/" + database, props);
  }

  /**
   * The libpq environment of a tool: {@code PGHOST}, {@code PGPORT}, {@code PGUSER}, {@code
   * PGDATABASE}, the TLS variables, and {@code PGPASSFILE} when a password file is given.
   */
  Map<String, String> environment(String passFile) {
    var env = new LinkedHashMap<String, String>();
    env.put("PGHOST", host);
    env.put("PGPORT", Integer.toString(port));
    env.put("PGUSER", user);
    env.put("PGDATABASE", database);
    env.put("PGAPPNAME", "ballast-backup");
    env.put("PGCONNECT_TIMEOUT", "10");
    if (passFile != null) {
      env.put("PGPASSFILE", passFile);
    }
    tls.forEach(
        (k, v) -> {
          switch (k) {
            case "sslmode" -> env.put("PGSSLMODE", v);
            case "sslrootcert" -> env.put("PGSSLROOTCERT", v);
            case "sslcert" -> env.put("PGSSLCERT", v);
            case "sslkey" -> env.put("PGSSLKEY", v);
            default -> {
              // other driver settings have no libpq counterpart
            }
          }
        });
    return env;
  }

  /** The line of a libpq password file for this connection, {@code :} and {@code \} escaped. */
  String passFileLine() {
    return String.join(
        ":", escape(host), Integer.toString(port), "*", escape(user), escape(password));
  }

  private static String escape(String value) {
    return value.replace("\\", "\\\\").replace(":", "\\:");
  }

  @Override
  public String toString() {
    return user + "@" + host + ":" + port + "/" + database;
  }
}
