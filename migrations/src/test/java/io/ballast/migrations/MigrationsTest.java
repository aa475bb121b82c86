package io.ballast.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.inject.AbstractModule;
import io.ballast.core.HealthRegistry;
import io.ballast.core.LifecycleException;
import io.ballast.core.MigrationSet;
import io.ballast.core.ProbeKind;
import io.ballast.pool.PoolSettings;
import io.ballast.testkit.PostgresExtension;
import java.nio.file.Files;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class MigrationsTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  @RegisterExtension final MigrationFixture db = new MigrationFixture(PG);

  @Test
  void migrate_appliesPendingMigrationsAtStart_statusAndReadinessShowIt() throws SQLException {
    db.file(
            "V1__accounts.sql",
            "create table accounts (id bigint primary key, email text not null);")
        .file("V2__seed.sql", "insert into accounts values (1, 'a@example.com');");
    try (var app = db.start()) {
      assertThat(db.value("select email from accounts where id = 1")).isEqualTo("a@example.com");
      var status = app.get(Migrations.class).status();
      assertThat(status).hasSize(1);
      assertThat(status.get(0).set()).isEqualTo("app");
      assertThat(status.get(0).applied())
          .extracting(MigrationStatus.Entry::label)
          .containsExactly("V1 (V1__accounts.sql)", "V2 (V2__seed.sql)");
      assertThat(status.get(0).pending()).isEmpty();
      assertThat(status.get(0).upToDate()).isTrue();
      var ready = app.get(HealthRegistry.class).run(ProbeKind.READY);
      assertThat(ready.check("migrations").orElseThrow().healthy()).isTrue();
    }
    // a second start finds nothing to do
    try (var app = db.start()) {
      assertThat(app.get(Migrations.class).status().get(0).applied()).hasSize(2);
    }
  }

  @Test
  void validateMode_failsStartListingThePendingVersionsAndAppliesNothing() throws SQLException {
    db.file("V1__a.sql", "create table a (id int);");
    db.start().close();
    db.file("V2__b.sql", "create table b (id int);").file("V3__c.sql", "create table c (id int);");
    assertThatThrownBy(() -> db.start(db.settings().mode(MigrationMode.VALIDATE).build()))
        .isInstanceOf(LifecycleException.class)
        .hasMessageContaining(
            "Migration set 'app' is behind the code: pending V2 (V2__b.sql), V3 (V3__c.sql).");
    assertThat(db.tableExists("b")).isFalse();
  }

  @Test
  void validateMode_startsWhenUpToDate() {
    db.file("V1__a.sql", "create table a (id int);");
    db.start().close();
    try (var app = db.start(db.settings().mode(MigrationMode.VALIDATE).build())) {
      assertThat(app.get(Migrations.class).status().get(0).upToDate()).isTrue();
    }
  }

  @Test
  void offMode_startsButReadinessSaysWhatIsPending() throws SQLException {
    db.file("V1__a.sql", "create table a (id int);");
    try (var app = db.start(db.settings().mode(MigrationMode.OFF).build())) {
      assertThat(db.tableExists("a")).isFalse();
      var check =
          app.get(HealthRegistry.class).run(ProbeKind.READY).check("migrations").orElseThrow();
      assertThat(check.healthy()).isFalse();
      assertThat(check.message()).isEqualTo("app pending: V1 (V1__a.sql)");
    }
  }

  @Test
  void moduleSets_runFirstEachWithItsOwnHistoryTable() throws Exception {
    var moduleDir = Files.createDirectories(db.dir.resolve("module"));
    Files.writeString(moduleDir.resolve("V1__base.sql"), "create table base (id int primary key);");
    var appDir = Files.createDirectories(db.dir.resolve("app"));
    // the application's V1 needs the module's table: it only works if the module's set ran first
    Files.writeString(
        appDir.resolve("V1__child.sql"), "create table child (base_id int references base (id));");
    var module =
        new AbstractModule() {
          @Override
          protected void configure() {
            MigrationsModule.sets(binder())
                .addBinding()
                .toInstance(MigrationSet.of("shipping", "filesystem:" + moduleDir));
          }
        };
    try (var app = db.start(db.settings().locations("filesystem:" + appDir).build(), module)) {
      var status = app.get(Migrations.class).status();
      assertThat(status).extracting(MigrationStatus::set).containsExactly("shipping", "app");
      assertThat(status)
          .extracting(MigrationStatus::historyTable)
          .containsExactly("flyway_schema_history_shipping", "flyway_schema_history");
      assertThat(status.get(0).applied())
          .extracting(MigrationStatus.Entry::label)
          .containsExactly("V1 (V1__base.sql)");
      assertThat(status.get(1).applied())
          .extracting(MigrationStatus.Entry::label)
          .containsExactly("V1 (V1__child.sql)");
    }
    assertThat(
            db.value(
                "select count(*) from flyway_schema_history_shipping where version = '1' and success"))
        .isEqualTo(1L);
  }

  @Test
  void duplicateSetNames_areRefused() {
    db.file("V1__a.sql", "select 1;");
    var module =
        new AbstractModule() {
          @Override
          protected void configure() {
            MigrationsModule.sets(binder())
                .addBinding()
                .toInstance(MigrationSet.of("app", "filesystem:" + db.dir));
          }
        };
    assertThatThrownBy(() -> db.start(db.settings().build(), module))
        .hasStackTraceContaining("A migration set named app already exists");
  }

  @Test
  void missingLocation_failsStartNamingItAndLeavesTheDatabaseAsItWas() throws SQLException {
    var missing = db.dir.resolve("nope");
    assertThatThrownBy(() -> db.start(db.settings().locations("filesystem:" + missing).build()))
        .isInstanceOf(LifecycleException.class)
        .hasMessageContaining("Migration set 'app'")
        .hasMessageContaining(missing.toString());
    assertThat(db.tableExists("flyway_schema_history")).isFalse();
  }

  @Test
  void checksumMismatch_failsStartNamingFileAndVersion_andAppliesNothingMore() throws SQLException {
    db.file("V1__a.sql", "create table a (id int);");
    db.start().close();
    db.file("V1__a.sql", "create table a (id bigint);")
        .file("V2__b.sql", "create table b (id int);");
    assertThatThrownBy(db::start)
        .isInstanceOf(LifecycleException.class)
        .hasMessageContaining("Migration set 'app' is not valid: V1 (")
        .hasMessageContaining("V1__a.sql")
        .hasMessageContaining("checksum mismatch");
    assertThat(db.tableExists("b")).isFalse();
  }

  @Test
  void outOfOrderVersion_failsStartNamingFileAndVersion_andAppliesNothing() throws SQLException {
    db.file("V1__a.sql", "create table a (id int);").file("V3__c.sql", "create table c (id int);");
    db.start().close();
    db.file("V2__b.sql", "create table b (id int);");
    assertThatThrownBy(db::start)
        .isInstanceOf(LifecycleException.class)
        .hasMessageContaining("Migration set 'app' is not valid: V2 (")
        .hasMessageContaining("V2__b.sql");
    assertThat(db.tableExists("b")).isFalse();
  }

  @Test
  void syntaxError_failsStartNamingFileAndVersion_andRollsTheMigrationBack() throws SQLException {
    db.file("V1__a.sql", "create table a (id int);");
    db.start().close();
    db.file("V2__bad.sql", "create table half (id int);\ncreate tabel oops (id int);");
    assertThatThrownBy(db::start)
        .isInstanceOf(LifecycleException.class)
        .hasMessageContaining("Migration set 'app' failed at V2 (V2__bad.sql)")
        .hasMessageContaining("syntax error");
    assertThat(db.tableExists("half")).isFalse();
    assertThat(db.value("select count(*) from flyway_schema_history where version = '2'"))
        .isEqualTo(0L);
  }

  @Test
  void poolOfOneConnection_failsStartSayingToRaiseConnectionLimit() {
    db.file("V1__a.sql", "create table a (id int);");
    var pool =
        PoolSettings.builder()
            .url(PG.databaseUrl())
            .schema(db.schema)
            .connectionLimit(1)
            .poolTimeout(Duration.ofMillis(500))
            .build();
    assertThatThrownBy(() -> db.start(pool, db.settings().build()))
        .isInstanceOf(LifecycleException.class)
        .hasMessageContaining("Migration set 'app' failed")
        .hasMessageContaining("Pool 'primary' exhausted")
        .hasMessageContaining("Raise connection_limit");
  }

  @Test
  void clean_isRefusedUnlessAllowed_andDropsEverythingWhenAllowed() throws SQLException {
    db.file("V1__a.sql", "create table a (id int);");
    try (var app = db.start()) {
      assertThatThrownBy(() -> app.get(Migrations.class).clean())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("clean is disabled: it drops every object in the schema.");
      assertThat(db.tableExists("a")).isTrue();
    }
    try (var app = db.start(db.settings().allowClean(true).build())) {
      app.get(Migrations.class).clean();
      assertThat(db.tableExists("a")).isFalse();
    }
  }

  /**
   * A start that fails inside Flyway (here: a classpath location that does not exist) gives back
   * every connection Flyway took: the pool then closes at once instead of waiting its grace period
   * for a connection nobody will return.
   */
  @Test
  void aStartFailingInsideFlyway_leavesNoConnectionCheckedOut() {
    try (var logs = new io.ballast.testkit.LogCapture()) {
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () ->
                  db.start(
                      db.settings()
                          .locations("classpath:db/no-such-location")
                          .mode(MigrationMode.VALIDATE)
                          .build()))
          .isInstanceOf(io.ballast.core.LifecycleException.class)
          .hasMessageContaining("no-such-location");
      assertThat(logs.lines()).noneMatch(l -> l.contains("still in use"));
    }
  }

  /**
   * With migrations off, a broken location only shows when the status is read, which the readiness
   * probe does again and again: each failing read gives its connection back, so the pool (of 3) is
   * not drained.
   */
  @Test
  void aFailingStatusRead_givesItsConnectionBack_everyTime() {
    try (var app =
        db.start(
            db.settings()
                .locations("classpath:db/no-such-location")
                .mode(MigrationMode.OFF)
                .build())) {
      var migrations = app.get(Migrations.class);
      for (int i = 0; i < 6; i++) {
        assertThatThrownBy(migrations::status).hasMessageContaining("no-such-location");
      }
      assertThat(app.get(org.jooq.DSLContext.class).fetchValue("select count(*) from pg_class"))
          .isNotNull();
      assertThat(app.get(io.ballast.pool.Pool.class).snapshot().active()).isZero();
    }
  }
}
