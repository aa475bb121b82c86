package io.ballast.benchmarks;

import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.table;

import com.zaxxer.hikari.HikariDataSource;
import io.ballast.core.data.BatchLoader;
import io.ballast.core.data.Pagination;
import io.ballast.core.data.Upsert;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.SQLDialect;
import org.jooq.Table;
import org.jooq.impl.DSL;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Ballast's data-access helpers against the naive way, each pair in the same run, one thread:
 *
 * <ul>
 *   <li>a 100-row page at a depth of 1 000 000 rows: keyset ({@code pageKeysetDeep}) vs OFFSET
 *       ({@code pageOffsetDeep}), and the first page ({@code pageFirst}) as the yardstick;
 *   <li>1 000 rows written: {@code upsertBatch} ({@link Upsert#all}) vs {@code upsertRowByRow}
 *       (select, then update or insert, per row, in one transaction);
 *   <li>100 rows loaded by id: {@code loadBatch} ({@link BatchLoader}) vs {@code loadPerId}.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class DataAccessBenchmark {
  static final int EVENTS = 1_000_100;
  static final int DEPTH = 1_000_000;
  static final int PAGE = 100;
  static final int UPSERT_ROWS = 1_000;
  static final int LOAD_IDS = 100;

  private static final Table<Record> EVENTS_TABLE = table(name("events"));
  private static final Field<Long> ID = field(name("id"), Long.class);
  private static final Field<String> PAYLOAD = field(name("payload"), String.class);
  private static final Table<Record> ACCOUNTS = table(name("accounts"));
  private static final Field<Long> ACCOUNT_ID = field(name("id"), Long.class);
  private static final Field<Integer> BALANCE = field(name("balance"), Integer.class);

  private BenchDatabase database;
  private HikariDataSource hikari;
  private DSLContext db;
  private Pagination pagination;
  private String deepCursor;
  private Upsert<Record> upsert;
  private int round;

  @Setup(Level.Trial)
  public void setUp() throws SQLException {
    database = BenchDatabase.create();
    database.execute(
        "create table events (id bigint primary key, payload text not null)",
        "insert into events select g, md5(g::text) from generate_series(1, " + EVENTS + ") g",
        "create table accounts (id bigint primary key, balance int not null)",
        "insert into accounts select g, 0 from generate_series(1, " + (UPSERT_ROWS / 2) + ") g",
        "vacuum analyze events",
        "vacuum analyze accounts");
    hikari = database.hikari(2);
    db = DSL.using(hikari, SQLDialect.POSTGRES);
    pagination =
        Pagination.withSecret(
            "benchmark-secret-of-at-least-32-chars!".getBytes(StandardCharsets.UTF_8));
    // walk to depth 1 000 000 with the largest pages, to get a real cursor there
    String cursor = null;
    for (int seen = 0; seen < DEPTH; seen += Pagination.MAX_PAGE_SIZE) {
      cursor =
          pagination
              .fetch(
                  db,
                  db.select(ID, PAYLOAD).from(EVENTS_TABLE),
                  Pagination.MAX_PAGE_SIZE,
                  cursor,
                  ID)
              .nextCursor();
    }
    deepCursor = cursor;
    upsert = Upsert.into(ACCOUNTS).onConflict(ACCOUNT_ID).updating(BALANCE).build();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws SQLException {
    hikari.close();
    database.drop();
  }

  @Benchmark
  public Object pageFirst() {
    return pagination.fetch(db, db.select(ID, PAYLOAD).from(EVENTS_TABLE), PAGE, null, ID);
  }

  @Benchmark
  public Object pageKeysetDeep() {
    return pagination.fetch(db, db.select(ID, PAYLOAD).from(EVENTS_TABLE), PAGE, deepCursor, ID);
  }

  @Benchmark
  public Object pageOffsetDeep() {
    return db.select(ID, PAYLOAD).from(EVENTS_TABLE).orderBy(ID).limit(PAGE).offset(DEPTH).fetch();
  }

  private List<Record> accountRows() {
    var rows = new ArrayList<Record>(UPSERT_ROWS);
    round++;
    for (long id = 1; id <= UPSERT_ROWS; id++) {
      var r = db.newRecord(ACCOUNT_ID, BALANCE);
      r.set(ACCOUNT_ID, id);
      r.set(BALANCE, round);
      rows.add(r);
    }
    return rows;
  }

  @Benchmark
  public int upsertBatch() {
    return upsert.all(db, accountRows());
  }

  @Benchmark
  public int upsertRowByRow() {
    var rows = accountRows();
    return db.transactionResult(
        cfg -> {
          var tx = cfg.dsl();
          int written = 0;
          for (var row : rows) {
            var id = row.get(ACCOUNT_ID);
            var found = tx.fetchOptional(ACCOUNTS, ACCOUNT_ID.eq(id));
            written +=
                found.isPresent()
                    ? tx.update(ACCOUNTS)
                        .set(BALANCE, row.get(BALANCE))
                        .where(ACCOUNT_ID.eq(id))
                        .execute()
                    : tx.insertInto(ACCOUNTS, ACCOUNT_ID, BALANCE)
                        .values(id, row.get(BALANCE))
                        .execute();
          }
          return written;
        });
  }

  private List<Long> randomIds() {
    var ids = new ArrayList<Long>(LOAD_IDS);
    for (int i = 0; i < LOAD_IDS; i++) {
      ids.add(1 + ThreadLocalRandom.current().nextLong(EVENTS));
    }
    return ids;
  }

  @Benchmark
  public Object loadBatch() {
    return BatchLoader.of(db, EVENTS_TABLE, ID, r -> r.get(PAYLOAD), 500).loadMany(randomIds());
  }

  @Benchmark
  public Object loadPerId() {
    var values = new ArrayList<String>(LOAD_IDS);
    for (var id : randomIds()) {
      values.add(db.select(PAYLOAD).from(EVENTS_TABLE).where(ID.eq(id)).fetchOne(PAYLOAD));
    }
    return values;
  }
}
