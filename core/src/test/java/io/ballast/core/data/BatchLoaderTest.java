package io.ballast.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.table;

import io.ballast.testkit.PostgresExtension;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Table;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class BatchLoaderTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  static final Table<Record> CUSTOMERS = table(name("customers"));
  static final Field<Long> ID = field(name("id"), Long.class);
  static final Field<String> NAME = field(name("name"), String.class);
  static QueryCounter counter;

  @BeforeAll
  static void seed() throws SQLException {
    PG.execute(
        "create table customers (id bigint primary key, name text not null)",
        "insert into customers select g, 'customer ' || g from generate_series(1, 500) g");
    counter = new QueryCounter(PG.dataSource());
  }

  @BeforeEach
  void reset() {
    counter.statements.clear();
  }

  private BatchLoader<Long, String> loader(int batch) {
    return BatchLoader.of(counter.db, CUSTOMERS, ID, r -> r.get(NAME), batch);
  }

  @Test
  @SuppressWarnings(
      "FutureReturnValueIgnored") // each caller's future of its load's future, awaited below
  void hundredConcurrentLoads_costAtMostCeilOfHundredOverBatchQueries() throws Exception {
    var loader = loader(30);
    var callers = 100;
    var barrier = new CyclicBarrier(callers);
    var pool = Executors.newFixedThreadPool(callers);
    var futures = new ArrayList<CompletableFuture<CompletableFuture<Optional<String>>>>();
    try {
      for (long id = 1; id <= callers; id++) {
        var key = id;
        futures.add(
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    barrier.await(30, TimeUnit.SECONDS);
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                  return loader.load(key);
                },
                pool));
      }
      var loads = new ArrayList<CompletableFuture<Optional<String>>>();
      for (var f : futures) {
        loads.add(f.get(30, TimeUnit.SECONDS));
      }
      loader.dispatch();
      for (int i = 0; i < callers; i++) {
        assertThat(loads.get(i).get(30, TimeUnit.SECONDS)).contains("customer " + (i + 1));
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(counter.statements).hasSize(4); // ceil(100 / 30)
    assertThat(counter.statements).allMatch(s -> s.contains("= any ("));
    assertThat(loader.queries()).isEqualTo(4);
  }

  @Test
  void loadMany_keepsOrder_reportsMissingAsAbsent_andLoadsDuplicatesOnce() {
    var loader = loader(100);
    var names = loader.loadMany(List.of(3L, 999L, 1L, 3L));
    assertThat(names)
        .containsExactly(
            Optional.of("customer 3"),
            Optional.empty(),
            Optional.of("customer 1"),
            Optional.of("customer 3"));
    assertThat(counter.statements).hasSize(1);

    // already loaded in this unit of work: no query at all
    assertThat(loader.loadMany(List.of(1L, 3L)))
        .containsExactly(Optional.of("customer 1"), Optional.of("customer 3"));
    assertThat(counter.statements).hasSize(1);
  }

  @Test
  void aFullBatch_isSentWithoutWaitingForDispatch() {
    var loader = loader(2);
    var a = loader.load(10L);
    assertThat(a).isNotDone();
    var unused = loader.load(11L);
    assertThat(a).isDone();
    assertThat(counter.statements).hasSize(1);
    assertThat(loader.dispatch()).isZero();
  }

  @Test
  void batchSize_isBounded() {
    assertThatThrownBy(() -> loader(0))
        .hasMessage("maxBatchSize must be between 1 and 10000, but was 0");
  }
}
