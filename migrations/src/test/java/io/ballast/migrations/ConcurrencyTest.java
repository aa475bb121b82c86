package io.ballast.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.ballast.core.Ballast;
import io.ballast.testkit.PostgresExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Several instances starting at once, and CREATE INDEX CONCURRENTLY among their migrations. */
class ConcurrencyTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  @RegisterExtension final MigrationFixture db = new MigrationFixture(PG);

  @Test
  void threeInstancesRacing_applyEachMigrationExactlyOnceAndAllComeUp() throws Exception {
    db.file("V1__tables.sql", "create table runs (n int); create table items (id int, sku text);")
        .file("V2__count.sql", "insert into runs values (1);")
        .file("V3__items_sku.sql", "create index concurrently items_sku on items (sku);")
        .file("V4__count_again.sql", "insert into runs values (2);");
    var instances = 3;
    var barrier = new CyclicBarrier(instances);
    var pool = Executors.newFixedThreadPool(instances);
    try {
      var started = new ArrayList<Future<Ballast>>();
      for (int i = 0; i < instances; i++) {
        started.add(
            pool.submit(
                () -> {
                  barrier.await(30, TimeUnit.SECONDS);
                  return db.start();
                }));
      }
      // a hang (the advisory-lock deadlock with CONCURRENTLY) fails here instead of hanging the
      // build
      List<Ballast> apps =
          assertTimeoutPreemptively(
              Duration.ofMinutes(2),
              () -> {
                var list = new ArrayList<Ballast>();
                for (var f : started) {
                  list.add(f.get());
                }
                return list;
              });
      for (var app : apps) {
        assertThat(app.get(Migrations.class).status().get(0).upToDate()).isTrue();
        app.close();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(db.value("select count(*) from runs")).isEqualTo(2L);
    assertThat(
            db.value(
                "select string_agg(version || ':' || success, ',' order by installed_rank)"
                    + " from flyway_schema_history where version <> '0'"))
        .isEqualTo("1:true,2:true,3:true,4:true");
    assertThat(
            db.value(
                "select indisvalid from pg_index where indexrelid = to_regclass('"
                    + db.schema
                    + ".items_sku')"))
        .isEqualTo(true);
  }
}
