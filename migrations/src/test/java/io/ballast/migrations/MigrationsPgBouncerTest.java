package io.ballast.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.settings.AppEnv;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.testkit.PgBouncer;
import io.ballast.testkit.PostgresExtension;
import java.nio.file.Files;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Migrations behind a real PgBouncer in transaction mode: their locks are session-level advisory
 * locks, so without a direct URL start fails saying why (and migrates nothing); with {@code
 * DATABASE_DIRECT_URL} they run on the database itself, two instances at once, and leave no lock on
 * any server session.
 */
class MigrationsPgBouncerTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  private static MigrationSettings migrations(String table, String createdTable) throws Exception {
    var dir = Files.createTempDirectory("ballast-pgb-migrations-");
    Files.writeString(
        dir.resolve("V1__table.sql"), "create table " + createdTable + " (id bigint primary key);");
    Files.writeString(dir.resolve("V2__row.sql"), "insert into " + createdTable + " values (1);");
    return MigrationSettings.builder(AppEnv.DEVELOPMENT)
        .locations("filesystem:" + dir)
        .historyTable(table)
        .build();
  }

  private static boolean exists(String table) throws SQLException {
    try (var c = PG.connect();
        var s = c.createStatement();
        var rs = s.executeQuery("select to_regclass('public." + table + "') is not null")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  private static long advisoryLocks() throws SQLException {
    try (var c = PG.connect();
        var s = c.createStatement();
        var rs = s.executeQuery("select count(*) from pg_locks where locktype = 'advisory'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @ParameterizedTest(name = "pgbouncer={0}")
  @ValueSource(booleans = {true, false})
  void throughTransactionPooling_withoutADirectUrl_startFailsSayingWhy_andMigratesNothing(
      boolean flag) throws Exception {
    var table = "pgb_refused_" + flag;
    try (var bouncer =
        PgBouncer.builder(PG).poolMode(PgBouncer.PoolMode.TRANSACTION).poolSize(2).start()) {
      var pool =
          PoolSettings.builder()
              .url(bouncer.databaseUrl(PG.username(), PG.password()))
              .pgbouncer(flag)
              .connectionLimit(3)
              .build();
      var settings = migrations("history_refused_" + flag, table);
      assertThatThrownBy(
              () ->
                  Ballast.start(
                          new CoreModule(CoreSettings.defaults()),
                          new PoolModule(pool),
                          new MigrationsModule(settings))
                      .close())
          .hasStackTraceContaining("Migrations cannot run through PgBouncer in transaction mode")
          .hasStackTraceContaining("Set DATABASE_DIRECT_URL");
      assertThat(exists(table)).isFalse();
      assertThat(advisoryLocks()).isZero();
    }
  }

  @Test
  void withADirectUrl_twoInstancesAtOnceMigrateOnTheDatabaseItself_andLeaveNoLockBehind()
      throws Exception {
    try (var bouncer =
        PgBouncer.builder(PG).poolMode(PgBouncer.PoolMode.TRANSACTION).poolSize(2).start()) {
      var env =
          Map.of(
              "DATABASE_URL",
              bouncer.databaseUrl(PG.username(), PG.password()),
              "DATABASE_DIRECT_URL",
              PG.databaseUrl(),
              "DB_PGBOUNCER",
              "true",
              "DB_CONNECTION_LIMIT",
              "3");
      var pool = PoolSettings.fromEnv(env);
      assertThat(pool.direct()).isPresent();
      assertThat(pool.toString()).contains("direct=postgresql://****@");
      var settings = migrations("history_direct", "pgb_direct");
      var threads = Executors.newFixedThreadPool(2);
      try {
        var started = new ArrayList<Future<Ballast>>();
        for (int i = 0; i < 2; i++) {
          started.add(
              threads.submit(
                  (Callable<Ballast>)
                      () ->
                          Ballast.start(
                              new CoreModule(CoreSettings.defaults()),
                              new PoolModule(pool),
                              new MigrationsModule(settings))));
        }
        var apps = new ArrayList<Ballast>();
        for (var f : started) {
          apps.add(f.get(2, TimeUnit.MINUTES));
        }
        try {
          for (var app : apps) {
            // the application itself works through the bouncer
            var db = app.get(DSLContext.class);
            assertThat(db.fetchSingle("select count(*) from pgb_direct").get(0, Long.class))
                .isEqualTo(1L);
          }
          try (var c = PG.connect();
              var s = c.createStatement();
              var rs =
                  s.executeQuery(
                      "select count(*), count(distinct version) from history_direct where success")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(2);
            assertThat(rs.getInt(2)).isEqualTo(2);
          }
          assertThat(advisoryLocks()).isZero();
        } finally {
          apps.forEach(Ballast::close);
        }
      } finally {
        threads.shutdownNow();
      }
    }
  }

  @Test
  void theDirectUrl_inheritsCredentials_andNeverShowsThePassword() {
    var pool =
        PoolSettings.fromEnv(
            Map.of(
                "DATABASE_URL",
                "postgresql://app:pa%23ss@bouncer:6432/shop?pgbouncer=true",
                "DATABASE_DIRECT_URL",
                "postgresql://db:5432/shop"));
    var direct = pool.direct().orElseThrow();
    assertThat(direct.hosts()).containsExactly("db");
    assertThat(direct.username()).isEqualTo("app");
    assertThat(direct.password()).isEqualTo("pa#ss");
    assertThat(direct.pgbouncer()).isFalse();
    assertThat(pool.toString())
        .doesNotContain("pa#ss")
        .contains("direct=postgresql://****@db:5432/shop");
  }
}
