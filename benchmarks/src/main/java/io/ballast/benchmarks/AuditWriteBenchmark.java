package io.ballast.benchmarks;

import io.ballast.audit.ActingContext;
import io.ballast.audit.AuditModule;
import io.ballast.audit.AuditSettings;
import io.ballast.audit.RequestContext;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.settings.AppEnv;
import io.ballast.migrations.MigrationSettings;
import io.ballast.migrations.MigrationsModule;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jooq.DSLContext;
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
 * Writes to an audited table against the same writes to the same table unaudited, in one run,
 * through Ballast's {@code DSLContext} with the audit module installed and an acting context open
 * in every variant (so the only difference is the audit trigger, its audit rows and their sealing
 * into the hash chain, which runs in the background as in production):
 *
 * <ul>
 *   <li>{@code INSERT_ONE} / {@code UPDATE_ONE}: one row per statement, autocommit (Ballast's
 *       implicit transaction);
 *   <li>{@code INSERT_BATCH} / {@code UPDATE_BATCH}: 1 000 rows per statement.
 * </ul>
 *
 * <p>{@code PLAIN} runs before and after {@code AUDITED} (A-B-A); {@code ROW_TRIGGER} is the same
 * table audited the way supa_audit and audit-trigger do it (a row-level trigger writing one audit
 * row per changed row, {@code db/bench-audit/V2__row_trigger_baseline.sql}). {@link AuditReport}
 * reports the ratios. At the end of each {@code AUDITED} trial the rows still unsealed are counted
 * (the sealer keeps up when that number stays about what one second of writing produces) and
 * written to {@code ballast-audit-backlog.txt} in the temporary directory for the report.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(2)
@Fork(2)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 4, time = 3)
public class AuditWriteBenchmark {
  static final int SEEDED = 100_000;
  static final int BATCH = 1_000;

  /** Where each audited trial appends "op unsealed-rows audited-rows". */
  static final Path BACKLOG =
      Path.of(System.getProperty("java.io.tmpdir"), "ballast-audit-backlog.txt");

  /** The statement shape. */
  public enum Op {
    INSERT_ONE,
    UPDATE_ONE,
    INSERT_BATCH,
    UPDATE_BATCH
  }

  /** The table written, in run order. */
  public enum Target {
    PLAIN,
    AUDITED,
    ROW_TRIGGER,
    PLAIN_AGAIN
  }

  @Param public Op op;

  @Param public Target target;

  private BenchDatabase database;
  private Ballast ballast;
  private DSLContext db;
  private String table;
  private final AtomicLong nextId = new AtomicLong(SEEDED);

  @Setup(Level.Trial)
  public void setUp() throws SQLException {
    database = BenchDatabase.create();
    // -jvmArgsAppend -Dballast.bench.sealing=false takes sealing out, to tell its cost from the
    // trigger's
    ballast =
        startAudited(
            database,
            4,
            Boolean.parseBoolean(System.getProperty("ballast.bench.sealing", "true"))
                ? Duration.ofSeconds(1)
                : Duration.ofHours(1));
    db =
        RequestContext.as(
            ballast.get(DSLContext.class),
            ActingContext.builder().userId("bench").tenantId("t1").requestId("bench-run").build());
    if (!Boolean.parseBoolean(System.getProperty("ballast.bench.audit.keyIndex", "true"))) {
      // -jvmArgsAppend -Dballast.bench.audit.keyIndex=false: what the write path costs without the
      // index that finds a record's change sets (for the record lookup's price)
      database.execute("drop index ballast_audit.log_key_hashes_idx");
    }
    table =
        switch (target) {
          case AUDITED -> "bench_audited";
          case ROW_TRIGGER -> "bench_rowtrigger";
          default -> "bench_plain";
        };
  }

  /**
   * Ballast on {@code database} with the pool, the benchmark's migrations ({@code db/bench-audit})
   * and the audit module, sealing every {@code sealInterval}.
   */
  static Ballast startAudited(BenchDatabase database, int connections, Duration sealInterval) {
    return Ballast.start(
        new CoreModule(CoreSettings.defaults()),
        new PoolModule(
            PoolSettings.builder()
                .url(database.databaseUrl())
                .connectionLimit(connections)
                .build()),
        new MigrationsModule(
            MigrationSettings.builder(AppEnv.DEVELOPMENT)
                .locations("classpath:db/bench-audit")
                .build()),
        new AuditModule(
            AuditSettings.builder(AppEnv.DEVELOPMENT)
                .rlsCheck(AuditSettings.RlsCheck.WARN)
                .key("benchmark-key-of-at-least-32-characters")
                .sealInterval(sealInterval)
                .build()));
  }

  @TearDown(Level.Trial)
  public void tearDown() throws SQLException, IOException {
    if (target == Target.AUDITED) {
      var counts =
          ballast
              .get(DSLContext.class)
              .fetchOne(
                  "select (select coalesce(sum(coalesce(l.row_count, 1)), 0) from ballast_audit.log l, "
                      + "ballast_audit.chain_state s where (l.txid, l.id) > (s.last_txid, s.last_id)), "
                      + "(select coalesce(sum(coalesce(row_count, 1)), 0) from ballast_audit.log)");
      Files.writeString(
          BACKLOG,
          op + " " + counts.get(0, Long.class) + " " + counts.get(1, Long.class) + "\n",
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    }
    ballast.close();
    database.drop();
  }

  @Benchmark
  public int write() {
    var random = ThreadLocalRandom.current();
    return switch (op) {
      case INSERT_ONE ->
          db.execute(
              "insert into " + table + " (id, tenant_id, n, payload) values (?, 't1', 0, ?)",
              nextId.incrementAndGet(),
              "x".repeat(64));
      case UPDATE_ONE ->
          db.execute("update " + table + " set n = n + 1 where id = ?", 1 + random.nextInt(SEEDED));
      case INSERT_BATCH -> {
        long first = nextId.getAndAdd(BATCH) + 1;
        yield db.execute(
            "insert into "
                + table
                + " (id, tenant_id, n, payload) select g, 't1', 0, repeat('x', 64) "
                + "from generate_series(?::bigint, ?::bigint) g",
            first,
            first + BATCH - 1);
      }
      case UPDATE_BATCH -> {
        // threads take disjoint halves of the seeded rows, so batch updates never wait on each
        // other's row locks
        long half = Thread.currentThread().getId() % 2;
        long first = half * (SEEDED / 2) + 1 + random.nextInt(SEEDED / 2 - BATCH);
        yield db.execute(
            "update " + table + " set n = n + 1 where id between ? and ?",
            first,
            first + BATCH - 1);
      }
    };
  }
}
