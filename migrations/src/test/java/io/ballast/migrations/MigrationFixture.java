package io.ballast.migrations;

import com.google.inject.Module;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.testkit.PostgresExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A schema of its own per test, migration files in a folder of their own, and a way to start the
 * application on them. Register it on an instance field: {@code @RegisterExtension final
 * MigrationFixture db = new MigrationFixture(PG);}
 */
final class MigrationFixture implements BeforeEachCallback, AfterEachCallback {
  private static final AtomicInteger SCHEMAS = new AtomicInteger();

  final PostgresExtension pg;
  String schema;
  Path dir;

  MigrationFixture(PostgresExtension pg) {
    this.pg = pg;
  }

  @Override
  public void beforeEach(ExtensionContext context) throws SQLException, IOException {
    schema = "m" + SCHEMAS.incrementAndGet();
    dir = Files.createTempDirectory("ballast-migrations-");
    pg.execute("drop schema if exists " + schema + " cascade", "create schema " + schema);
  }

  /** Writes a migration file into the folder. */
  MigrationFixture file(String name, String sql) {
    try {
      Files.writeString(dir.resolve(name), sql);
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  MigrationSettings.Builder settings() {
    return MigrationSettings.builder(io.ballast.core.settings.AppEnv.DEVELOPMENT)
        .locations("filesystem:" + dir);
  }

  Ballast start(MigrationSettings settings, Module... extra) {
    return start(
        PoolSettings.builder().url(pg.databaseUrl()).schema(schema).connectionLimit(3).build(),
        settings,
        extra);
  }

  Ballast start(PoolSettings pool, MigrationSettings settings, Module... extra) {
    var modules =
        new ArrayList<Module>(
            List.of(
                new CoreModule(CoreSettings.defaults()),
                new PoolModule(pool),
                new MigrationsModule(settings)));
    modules.addAll(List.of(extra));
    return Ballast.start(modules);
  }

  Ballast start() {
    return start(settings().build());
  }

  /** The single value of a query in this schema. */
  Object value(String sql) throws SQLException {
    try (var c = pg.connect();
        var s = c.createStatement()) {
      s.execute("set search_path = " + schema);
      try (var rs = s.executeQuery(sql)) {
        return rs.next() ? rs.getObject(1) : null;
      }
    }
  }

  boolean tableExists(String table) throws SQLException {
    return value("select to_regclass('" + schema + "." + table + "')") != null;
  }

  /**
   * Drops the schema and the folder. Sessions a failed test left behind (a migration stuck on a
   * lock, say) are terminated first, so a regression fails its test instead of hanging the build on
   * this drop.
   */
  @Override
  public void afterEach(ExtensionContext context) throws SQLException, IOException {
    pg.execute(
        "select pg_terminate_backend(pid) from pg_stat_activity"
            + " where datname = current_database() and pid <> pg_backend_pid()",
        "drop schema if exists " + schema + " cascade");
    try (var files = Files.walk(dir)) {
      for (var f : (Iterable<Path>) files.sorted(java.util.Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(f);
      }
    }
  }
}
