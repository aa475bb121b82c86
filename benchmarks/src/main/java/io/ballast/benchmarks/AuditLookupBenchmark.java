package io.ballast.benchmarks;

import io.ballast.audit.AuditLog;
import io.ballast.audit.AuditTable;
import io.ballast.core.Ballast;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The first page (20 entries) of one record's audit trail, {@link AuditLog#forRecord}, among 10
 * million audited rows written in 1 000-row statements (change sets), through Ballast:
 *
 * <ul>
 *   <li>{@code ONE_STATEMENT}: a record written by one of those bulk inserts;
 *   <li>{@code HOT}: a record also changed by 200 bulk updates of 1 000 rows each (201 change sets
 *       hold it).
 * </ul>
 *
 * <p>Loading the rows takes minutes, so the database ({@code bench_audit_lookup_<rows>}) is kept
 * for the trials and forks of a run; {@link AuditReport} drops it at the end. {@code
 * -Dballast.bench.audit.rows=…} changes the row count (a multiple of 1 000).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Threads(1)
@Fork(2)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class AuditLookupBenchmark {
  static final int ROWS = Integer.getInteger("ballast.bench.audit.rows", 10_000_000);
  static final String DATABASE_PREFIX = "bench_audit_lookup_";
  static final String DATABASE = DATABASE_PREFIX + ROWS;
  static final int HOT_KEY = 4_242;
  static final int ONE_STATEMENT_KEY = ROWS - 2_222;

  /** Which record's trail. */
  public enum Key {
    ONE_STATEMENT,
    HOT
  }

  @Param public Key key;

  private Ballast ballast;
  private AuditLog audit;
  private Map<String, Integer> recordKey;

  @Setup(Level.Trial)
  public void setUp() throws SQLException {
    var database = BenchDatabase.named(DATABASE);
    ballast = AuditWriteBenchmark.startAudited(database, 2, Duration.ofHours(1));
    audit = ballast.get(AuditLog.class);
    if (!database.existed()) {
      database.execute(
          "create table bench_history (id bigint primary key, tenant_id text not null, n int not null,"
              + " payload text not null)");
      audit.enable(AuditTable.of("bench_history").build());
      database.execute(
          "do $$ begin for i in 0.."
              + (ROWS / 1_000 - 1)
              + " loop insert into bench_history select g, 't1', 0, md5(g::text) || md5((g + 1)::text)"
              + " from generate_series(i * 1000 + 1, i * 1000 + 1000) g;"
              + " if i % 500 = 499 then commit; end if; end loop; end $$",
          "do $$ begin for i in 1..200 loop"
              + " update bench_history set n = n + 1 where id between 4001 and 5000; end loop; end $$",
          "vacuum analyze");
    }
    recordKey = Map.of("id", key == Key.HOT ? HOT_KEY : ONE_STATEMENT_KEY);
    var first = audit.forRecord("bench_history", recordKey, 20, null).items();
    if (first.size() != (key == Key.HOT ? 20 : 1)) {
      throw new IllegalStateException("unexpected trail of " + recordKey + ": " + first.size());
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    ballast.close();
  }

  @Benchmark
  public int firstPage() {
    return audit.forRecord("bench_history", recordKey, 20, null).items().size();
  }
}
