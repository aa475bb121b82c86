package io.ballast.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.table;

import io.ballast.testkit.PostgresExtension;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Table;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class UpsertTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  static final Table<Record> ACCOUNTS = table(name("accounts"));
  static final Field<Long> ID = field(name("id"), Long.class);
  static final Field<String> EMAIL = field(name("email"), String.class);
  static final Field<Integer> BALANCE = field(name("balance"), Integer.class);
  static final Field<Integer> HITS = field(name("hits"), Integer.class);
  static QueryCounter counter;

  @BeforeAll
  static void schema() throws SQLException {
    PG.execute(
        "create table accounts (id bigint primary key, email text not null, balance int not null,"
            + " hits int not null default 0)");
    counter = new QueryCounter(PG.dataSource());
  }

  @BeforeEach
  void empty() throws SQLException {
    PG.execute("truncate accounts");
    counter.statements.clear();
  }

  private Record row(long id, String email, int balance) {
    var r = counter.db.newRecord(ID, EMAIL, BALANCE);
    r.set(ID, id);
    r.set(EMAIL, email);
    r.set(BALANCE, balance);
    return r;
  }

  @Test
  void one_insertsThenUpdatesTheConflictingRow_returningItAsStored() {
    var upsert = Upsert.into(ACCOUNTS).onConflict(ID).updating(EMAIL, BALANCE).build();
    var inserted = upsert.one(counter.db, row(1, "a@example.com", 10));
    assertThat(inserted.get(EMAIL)).isEqualTo("a@example.com");
    assertThat(inserted.get(HITS)).isZero(); // the whole row comes back, defaults included
    var updated = upsert.one(counter.db, row(1, "b@example.com", 20));
    assertThat(updated.get(EMAIL)).isEqualTo("b@example.com");
    assertThat(updated.get(BALANCE)).isEqualTo(20);
    assertThat(counter.db.fetchCount(ACCOUNTS)).isEqualTo(1);
    assertThat(counter.statements.stream().filter(s -> s.startsWith("insert")))
        .allMatch(s -> s.contains("on conflict (\"id\") do update set"));
  }

  @Test
  void all_writesThousandsOfRowsInAFewStatements_lastDuplicateWins() {
    var upsert = Upsert.into(ACCOUNTS).onConflict(ID).updating(EMAIL, BALANCE).build();
    var rows = new ArrayList<Record>();
    for (long id = 1; id <= 5000; id++) {
      rows.add(row(id, "u" + id + "@example.com", (int) id));
    }
    rows.add(row(7, "seven-again@example.com", 777)); // repeats a key: the later row wins
    assertThat(upsert.all(counter.db, rows)).isEqualTo(5000);
    assertThat(counter.count("insert")).isEqualTo(5); // 1 000 rows per statement
    assertThat(counter.db.fetchValue(DSL.select(EMAIL).from(ACCOUNTS).where(ID.eq(7L))))
        .isEqualTo("seven-again@example.com");

    // a second pass updates them all
    rows.replaceAll(r -> row(r.get(ID), r.get(EMAIL), r.get(BALANCE) + 1));
    upsert.all(counter.db, rows);
    assertThat(counter.db.fetchValue(DSL.select(DSL.sum(BALANCE)).from(ACCOUNTS)).intValue())
        .isEqualTo(5000 * 5001 / 2 + 5000 - 7 + 777);
  }

  @Test
  void concurrentWriters_onTheSameKeys_neitherLoseUpdatesNorDeadlock() throws Exception {
    var storedHits = field(name("accounts", "hits"), Integer.class);
    var upsert =
        Upsert.into(ACCOUNTS)
            .onConflict(ID)
            .updating(EMAIL)
            .set(HITS, storedHits.plus(DSL.excluded(HITS)))
            .build();
    var writers = 4;
    var rounds = 15;
    var keys = 300;
    var barrier = new CyclicBarrier(writers);
    var pool = Executors.newFixedThreadPool(writers);
    try {
      var done = new ArrayList<CompletableFuture<Void>>();
      for (int w = 0; w < writers; w++) {
        var seed = w;
        done.add(
            CompletableFuture.runAsync(
                () -> {
                  var random = new Random(seed);
                  try {
                    barrier.await(30, TimeUnit.SECONDS);
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                  for (int round = 0; round < rounds; round++) {
                    var rows = new ArrayList<Record>();
                    for (long id = 1; id <= keys; id++) {
                      var r = counter.db.newRecord(ID, EMAIL, BALANCE, HITS);
                      r.set(ID, id);
                      r.set(EMAIL, "w" + seed + "@example.com");
                      r.set(BALANCE, 0);
                      r.set(HITS, 1);
                      rows.add(r);
                    }
                    Collections.shuffle(rows, random); // every writer in a different order
                    upsert.all(counter.db, rows);
                  }
                },
                pool));
      }
      for (var f : done) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(counter.db.fetchCount(ACCOUNTS)).isEqualTo(keys);
    assertThat(counter.db.fetch("select distinct hits from accounts").getValues(0, Integer.class))
        .containsExactly(writers * rounds);
  }

  @Test
  void builder_requiresAnExplicitConflictTargetAndUpdate() {
    assertThatThrownBy(() -> Upsert.into(ACCOUNTS).updating(EMAIL).build())
        .hasMessage("name the conflict target with onConflict(…)");
    assertThatThrownBy(() -> Upsert.into(ACCOUNTS).onConflict(ID).build())
        .hasMessage("name the columns to update with updating(…) or set(…)");
    var upsert = Upsert.into(ACCOUNTS).onConflict(ID).updating(EMAIL).build();
    assertThatThrownBy(() -> upsert.all(counter.db, List.of(counter.db.newRecord(EMAIL))))
        .hasMessage("rows must include the conflict column id");
  }
}
