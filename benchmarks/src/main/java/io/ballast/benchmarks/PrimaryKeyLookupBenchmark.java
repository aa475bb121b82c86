package io.ballast.benchmarks;

import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.table;

import com.zaxxer.hikari.HikariDataSource;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.resilience.ResilienceModule;
import io.ballast.resilience.ResilienceSettings;
import java.math.BigDecimal;
import java.sql.SQLException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Record3;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Primary-key lookups of one row on a seeded table of 100 000 rows, from 4 threads, through a
 * HikariCP pool of 8 connections in every variant:
 *
 * <ul>
 *   <li>{@code RAW_JDBC}: a {@code PreparedStatement} on HikariCP, the baseline;
 *   <li>{@code PLAIN_JOOQ}: {@code DSL.using(hikari, POSTGRES)} with jOOQ's defaults;
 *   <li>{@code BALLAST}: the {@code DSLContext} bound by {@code CoreModule} + {@code PoolModule};
 *   <li>{@code BALLAST_RESILIENCE}: the same with {@code ResilienceModule} (the database breaker on
 *       every query).
 * </ul>
 *
 * <p>{@link RatioReport} runs this and reports each variant's throughput as a ratio to {@code
 * RAW_JDBC}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(4)
@Fork(1)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
public class PrimaryKeyLookupBenchmark {
  static final int ROWS = 100_000;
  static final int POOL_SIZE = 8;

  private static final Table<Record> ACCOUNTS = table(name("accounts"));
  private static final Field<Long> ID = field(name("id"), Long.class);
  private static final Field<String> NAME = field(name("name"), String.class);
  private static final Field<BigDecimal> BALANCE = field(name("balance"), BigDecimal.class);

  /**
   * What the lookups go through, in run order. {@code PLAIN_JOOQ_AGAIN} repeats {@code PLAIN_JOOQ}
   * after {@code BALLAST} (an A-B-A design): on a shared machine throughput drifts over a run, and
   * comparing Ballast with the mean of the runs before and after it cancels a steady drift; the gap
   * between the two shows how large it was.
   */
  public enum Impl {
    RAW_JDBC,
    PLAIN_JOOQ,
    BALLAST,
    PLAIN_JOOQ_AGAIN,
    /**
     * Ballast with the resilience module (breaker and classification on every query), then Ballast
     * again.
     */
    BALLAST_RESILIENCE,
    BALLAST_AGAIN
  }

  @Param public Impl impl;

  private BenchDatabase database;
  private HikariDataSource hikari;
  private DSLContext dsl;
  private Ballast ballast;

  @Setup(Level.Trial)
  public void setUp() throws SQLException {
    database = BenchDatabase.create();
    database.execute(
        "create table accounts (id bigint primary key, name text not null, balance numeric(12,2) not null)",
        "insert into accounts select g, 'account ' || g, g % 1000 from generate_series(1, "
            + ROWS
            + ") g",
        "analyze accounts");
    switch (impl) {
      case RAW_JDBC -> hikari = hikari();
      case PLAIN_JOOQ, PLAIN_JOOQ_AGAIN -> {
        hikari = hikari();
        dsl = DSL.using(hikari, SQLDialect.POSTGRES);
      }
      case BALLAST, BALLAST_AGAIN -> {
        ballast =
            Ballast.start(
                new CoreModule(CoreSettings.defaults()),
                new PoolModule(
                    PoolSettings.builder()
                        .url(database.databaseUrl())
                        .connectionLimit(POOL_SIZE)
                        .build()));
        dsl = ballast.get(DSLContext.class);
      }
      case BALLAST_RESILIENCE -> {
        ballast =
            Ballast.start(
                new CoreModule(CoreSettings.defaults()),
                new PoolModule(
                    PoolSettings.builder()
                        .url(database.databaseUrl())
                        .connectionLimit(POOL_SIZE)
                        .build()),
                new ResilienceModule(ResilienceSettings.defaults()));
        dsl = ballast.get(DSLContext.class);
      }
      default -> throw new AssertionError(impl);
    }
  }

  private HikariDataSource hikari() {
    return database.hikari(POOL_SIZE);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws SQLException {
    if (ballast != null) {
      ballast.close();
    }
    if (hikari != null) {
      hikari.close();
    }
    database.drop();
  }

  @Benchmark
  public Object lookup() throws SQLException {
    long id = 1 + ThreadLocalRandom.current().nextLong(ROWS);
    if (impl == Impl.RAW_JDBC) {
      try (var c = hikari.getConnection();
          var ps = c.prepareStatement("select id, name, balance from accounts where id = ?")) {
        ps.setLong(1, id);
        try (var rs = ps.executeQuery()) {
          rs.next();
          return new Account(rs.getLong(1), rs.getString(2), rs.getBigDecimal(3));
        }
      }
    }
    Record3<Long, String, BigDecimal> r =
        dsl.select(ID, NAME, BALANCE).from(ACCOUNTS).where(ID.eq(id)).fetchOne();
    return new Account(r.value1(), r.value2(), r.value3());
  }

  /** The row, materialised the same way in every variant. */
  record Account(long id, String name, BigDecimal balance) {}
}
