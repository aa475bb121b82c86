package io.ballast.benchmarks;

import io.ballast.testkit.PostgresServer;
import java.sql.SQLException;
import java.util.UUID;

/**
 * The database a benchmark runs on: a fresh database on the server named by {@code
 * BALLAST_BENCH_PG_URL} (a superuser URL, e.g. {@code
 * postgresql://postgres@127.0.0.1:5432/postgres}) or, when unset, on an embedded PostgreSQL 16.
 * Dropped again by {@link #drop()}.
 */
final class BenchDatabase {
  static final String URL_VARIABLE = "BALLAST_BENCH_PG_URL";

  private final PostgresServer server;
  private final String name;

  private BenchDatabase(PostgresServer server, String name) {
    this.server = server;
    this.name = name;
  }

  static BenchDatabase create() throws SQLException {
    var url = System.getenv(URL_VARIABLE);
    if (url != null && !url.isBlank()) {
      System.setProperty("ballast.test.pg.url", url);
    }
    var server = PostgresServer.shared();
    var name = "bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (var c = server.connectAsSuperuser("postgres");
        var s = c.createStatement()) {
      s.execute("create database " + name);
    }
    return new BenchDatabase(server, name);
  }

  /**
   * The database {@code name} on the benchmark server, created when missing: for data that takes
   * minutes to load and is shared by the trials and forks of one run. {@link #existed()} says
   * whether it was there already.
   */
  static BenchDatabase named(String name) throws SQLException {
    var url = System.getenv(URL_VARIABLE);
    if (url != null && !url.isBlank()) {
      System.setProperty("ballast.test.pg.url", url);
    }
    var server = PostgresServer.shared();
    try (var c = server.connectAsSuperuser("postgres");
        var s = c.createStatement()) {
      var rs = s.executeQuery("select 1 from pg_database where datname = '" + name + "'");
      if (!rs.next()) {
        s.execute("create database " + name);
        return new BenchDatabase(server, name);
      }
    }
    var existing = new BenchDatabase(server, name);
    existing.existed = true;
    return existing;
  }

  private boolean existed;

  /** Whether {@link #named} found the database already there. */
  boolean existed() {
    return existed;
  }

  /** A {@code DATABASE_URL}-style URL for the database. */
  String databaseUrl() {
    var password = server.superuserPassword() == null ? "" : ":" + server.superuserPassword();
    return "postgresql://"
        + server.superuser()
        + password
        + "@"
        + server.host()
        + ":"
        + server.port()
        + "/"
        + name;
  }

  String jdbcUrl() {
    return server.jdbcUrl(name);
  }

  String user() {
    return server.superuser();
  }

  String password() {
    return server.superuserPassword();
  }

  /** A HikariCP pool of {@code size} connections on the database, as a raw baseline uses it. */
  com.zaxxer.hikari.HikariDataSource hikari(int size) {
    var config = new com.zaxxer.hikari.HikariConfig();
    config.setJdbcUrl(jdbcUrl());
    config.setUsername(user());
    config.setPassword(password());
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(size);
    return new com.zaxxer.hikari.HikariDataSource(config);
  }

  void execute(String... statements) throws SQLException {
    try (var c = server.connectAsSuperuser(name);
        var s = c.createStatement()) {
      for (var sql : statements) {
        s.execute(sql);
      }
    }
  }

  /**
   * Drops the databases made by {@link #named} whose names start with {@code prefix} (letters,
   * digits and underscores), on the server of {@code BALLAST_BENCH_PG_URL}.
   */
  static void dropNamed(String prefix) throws SQLException {
    if (!prefix.matches("[a-z0-9_]+")) {
      throw new IllegalArgumentException("not a database name prefix: " + prefix);
    }
    var url = System.getenv(URL_VARIABLE);
    if (url == null || url.isBlank()) {
      return; // an embedded server lives and dies with its fork
    }
    System.setProperty("ballast.test.pg.url", url);
    var names = new java.util.ArrayList<String>();
    try (var c = PostgresServer.shared().connectAsSuperuser("postgres");
        var s = c.createStatement()) {
      var rs =
          s.executeQuery(
              "select datname from pg_database where starts_with(datname, '" + prefix + "')");
      while (rs.next()) {
        names.add(rs.getString(1));
      }
      for (var name : names) {
        s.execute("drop database if exists " + name + " with (force)");
      }
    }
  }

  void drop() throws SQLException {
    try (var c = server.connectAsSuperuser("postgres");
        var s = c.createStatement()) {
      s.execute("drop database if exists " + name + " with (force)");
    }
  }
}
