package io.ballast.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.ballast.core.HealthRegistry;
import io.ballast.core.LifecycleException;
import io.ballast.core.ProbeKind;
import io.ballast.testkit.PostgresExtension;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Index builds in migrations: CONCURRENTLY does not block writes, and a failed build is found and
 * repaired.
 */
class IndexBuildTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  @RegisterExtension final MigrationFixture db = new MigrationFixture(PG);

  /** What a writer saw while an index migration ran. */
  record Observation(boolean sawBuild, long insertsDuringBuild, long samplesWithBlockedInserts) {}

  /**
   * Migrates {@code indexSql} on a table of a million rows while a writer inserts rows one by one
   * and a sampler watches pg_stat_progress_create_index (is a build running?) and pg_stat_activity
   * (is an insert waiting on a lock?).
   */
  private Observation migrateWhileWriting(String indexSql) throws Exception {
    db.file(
        "V1__events.sql",
        "create table events (id bigserial primary key, payload text not null);\n"
            + "insert into events (payload) select md5(g::text) from generate_series(1, 1000000) g;");
    db.start().close();
    db.file("V2__events_payload.sql", indexSql);

    var stop = new AtomicBoolean();
    var inserts = new AtomicLong();
    var writer =
        new Thread(
            () -> {
              try (var c = PG.connect();
                  var ps =
                      c.prepareStatement(
                          "insert into " + db.schema + ".events (payload) values (?)")) {
                while (!stop.get()) {
                  ps.setString(1, "w");
                  ps.executeUpdate();
                  inserts.incrementAndGet();
                }
              } catch (SQLException e) {
                throw new IllegalStateException(e);
              }
            },
            "writer");
    var sawBuild = new AtomicBoolean();
    var blocked = new AtomicLong();
    var firstBuildInserts = new AtomicLong(-1);
    var lastBuildInserts = new AtomicLong(-1);
    // an insert waiting to extend the table ('extend') waits for another insert, not for the build:
    // not counted
    var sampling = PG.connect();
    var ps =
        sampling.prepareStatement(
            "select (select count(*) from pg_stat_progress_create_index where relid = to_regclass(?)),"
                + " (select count(*) from pg_stat_activity where wait_event_type = 'Lock' and wait_event <> 'extend'"
                + " and query like 'insert into "
                + db.schema
                + ".events%')");
    ps.setString(1, db.schema + ".events");
    var sampler = Executors.newSingleThreadScheduledExecutor();
    var unusedSamples =
        sampler.scheduleWithFixedDelay(
            () -> {
              try (var rs = ps.executeQuery()) {
                rs.next();
                if (rs.getLong(1) > 0) {
                  sawBuild.set(true);
                  firstBuildInserts.compareAndSet(-1, inserts.get());
                  lastBuildInserts.set(inserts.get());
                }
                if (rs.getLong(2) > 0) {
                  blocked.incrementAndGet();
                }
              } catch (SQLException e) {
                throw new IllegalStateException(e);
              }
            },
            0,
            5,
            TimeUnit.MILLISECONDS);
    writer.start();
    try {
      assertTimeoutPreemptively(Duration.ofMinutes(2), () -> db.start().close());
    } finally {
      stop.set(true);
      writer.join(10_000);
      sampler.shutdown();
      sampler.awaitTermination(10, TimeUnit.SECONDS);
      sampling.close();
    }
    return new Observation(
        sawBuild.get(), lastBuildInserts.get() - firstBuildInserts.get(), blocked.get());
  }

  @Test
  void createIndexConcurrently_letsInsertsThroughWhileItBuilds() throws Exception {
    var seen = migrateWhileWriting("create index concurrently events_payload on events (payload);");
    assertThat(seen.sawBuild()).as("the sampler saw the build running").isTrue();
    assertThat(seen.insertsDuringBuild()).as("inserts committed during the build").isPositive();
    assertThat(seen.samplesWithBlockedInserts())
        .as("samples with an insert waiting on a lock")
        .isZero();
    assertThat(
            db.value(
                "select indisvalid from pg_index where indexrelid = to_regclass('"
                    + db.schema
                    + ".events_payload')"))
        .isEqualTo(true);
  }

  @Test
  void plainCreateIndex_blocksInserts_soTheSamplerCanTell() throws Exception {
    // the control: without CONCURRENTLY, the same sampler sees inserts wait for the build
    var seen = migrateWhileWriting("create index events_payload on events (payload);");
    assertThat(seen.sawBuild()).isTrue();
    assertThat(seen.samplesWithBlockedInserts()).isPositive();
  }

  @Test
  void failedConcurrentBuild_leavesAnInvalidIndex_thatIsReportedAndRepaired() throws SQLException {
    db.file(
            "V1__users.sql",
            "create table users (id int primary key, email text not null);\n"
                + "insert into users values (1, 'a@example.com'), (2, 'a@example.com'), (3, 'b@example.com');")
        .file(
            "V2__users_email.sql",
            "create unique index concurrently if not exists users_email on users (email);");

    assertThatThrownBy(db::start)
        .isInstanceOf(LifecycleException.class)
        .hasMessageContaining("Migration set 'app' failed at V2 (V2__users_email.sql)")
        .hasMessageContaining("could not create unique index");
    assertThat(
            db.value(
                "select indisvalid from pg_index where indexrelid = to_regclass('"
                    + db.schema
                    + ".users_email')"))
        .isEqualTo(false);

    // the usual way out: repair the history, start again, and IF NOT EXISTS "succeeds" over the
    // invalid index
    try (var app = db.start(db.settings().mode(MigrationMode.OFF).build())) {
      var ready =
          app.get(HealthRegistry.class).run(ProbeKind.READY).check("migrations").orElseThrow();
      assertThat(ready.healthy()).isFalse();
      assertThat(ready.message()).isEqualTo("app failed: V2 (V2__users_email.sql)");
      app.get(Migrations.class).repairHistory();
    }
    try (var app = db.start()) {
      var migrations = app.get(Migrations.class);
      assertThat(migrations.status().get(0).upToDate()).isTrue();
      assertThat(migrations.invalidIndexes())
          .extracting(InvalidIndex::qualifiedName)
          .containsExactly(db.schema + ".users_email");
      var deep = app.get(HealthRegistry.class).run(ProbeKind.DEEP).check("indexes").orElseThrow();
      assertThat(deep.healthy()).isFalse();
      assertThat(deep.message())
          .isEqualTo(
              "INVALID indexes: "
                  + db.schema
                  + ".users_email; repair with"
                  + " Migrations.repairInvalidIndexes()");

      assertThatThrownBy(migrations::repairInvalidIndexes)
          .isInstanceOf(MigrationException.class)
          .hasMessageStartingWith(
              "Could not rebuild index "
                  + db.schema
                  + ".users_email (CREATE UNIQUE INDEX"
                  + " CONCURRENTLY users_email ON "
                  + db.schema
                  + ".users USING btree (email)): ")
          .hasMessageContaining("It is INVALID again");

      PG.execute("delete from " + db.schema + ".users where id = 2");
      assertThat(migrations.repairInvalidIndexes())
          .extracting(InvalidIndex::name)
          .containsExactly("users_email");
      assertThat(migrations.invalidIndexes()).isEmpty();
      assertThat(
              db.value(
                  "select indisvalid from pg_index where indexrelid = to_regclass('"
                      + db.schema
                      + ".users_email')"))
          .isEqualTo(true);
      assertThat(
              app.get(HealthRegistry.class)
                  .run(ProbeKind.DEEP)
                  .check("indexes")
                  .orElseThrow()
                  .healthy())
          .isTrue();
    }
  }
}
