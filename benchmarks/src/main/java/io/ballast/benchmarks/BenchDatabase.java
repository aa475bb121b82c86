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

  void drop() throws SQLException {
    try (var c = server.connectAsSuperuser("postgres");
        var s = c.createStatement()) {
      s.execute("drop database if exists " + name + " with (force)");
    }
  }
}
