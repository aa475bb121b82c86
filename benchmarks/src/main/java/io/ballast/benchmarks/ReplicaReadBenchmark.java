package io.ballast.benchmarks;

import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.pool.ReplicaModule;
import io.ballast.pool.ReplicaSettings;
import io.ballast.pool.ReplicaState;
import io.ballast.pool.Replicas;
import io.ballast.pool.WalPosition;
import io.ballast.testkit.MachinePostgres;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
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
 * What routing reads to a streaming replica costs, on a primary and a replica started from the
 * machine's PostgreSQL on loopback (both on this machine's cores), 2 threads, through Ballast:
 *
 * <ul>
 *   <li>{@code PRIMARY}: a one-row lookup by key through the application's {@code DSLContext} on
 *       the primary, the baseline (and {@code PRIMARY_AGAIN} after the routed variants, A-B-A);
 *   <li>{@code REPLICA}: the same lookup through {@code Replicas.read}, no position: one read-only
 *       transaction on the replica;
 *   <li>{@code REPLICA_WITH_POSITION}: the same with a position the replica has replayed (the
 *       read-your-writes check from the monitor's state, no extra round trip);
 *   <li>{@code WRITE}, {@code WRITE_IN_UNIT}, {@code WRITE_AGAIN}: a one-row update on the primary,
 *       plain and as a {@code UnitOfWork} of that one write whose position is then read (what a
 *       read after it, or a cookie, costs: one round trip to the primary).
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(2)
@Fork(2)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 4, time = 3)
public class ReplicaReadBenchmark {
  static final int ROWS = 10_000;

  /** The variants, in run order (A-B-A for reads and for writes). */
  public enum Path {
    PRIMARY,
    REPLICA,
    REPLICA_WITH_POSITION,
    PRIMARY_AGAIN,
    WRITE,
    WRITE_IN_UNIT,
    WRITE_AGAIN
  }

  @Param({
    "PRIMARY",
    "REPLICA",
    "REPLICA_WITH_POSITION",
    "PRIMARY_AGAIN",
    "WRITE",
    "WRITE_IN_UNIT",
    "WRITE_AGAIN"
  })
  public Path path;

  private static MachinePostgres primary;
  private static MachinePostgres replica;

  private Ballast app;
  private DSLContext db;
  private Replicas replicas;
  private WalPosition replayed;

  private static synchronized void servers() throws Exception {
    if (primary != null) {
      return;
    }
    primary = MachinePostgres.builder().start();
    replica = primary.startReplica();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  replica.close();
                  primary.close();
                }));
    primary.execute(
        "postgres",
        "create table accounts (id bigint primary key, name text not null, balance bigint not null)",
        "insert into accounts select g, 'account ' || g, g from generate_series(1, " + ROWS + ") g",
        "vacuum analyze accounts");
  }

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    servers();
    var poolSettings =
        PoolSettings.builder().url(primary.databaseUrl("postgres")).connectionLimit(4).build();
    app =
        Ballast.start(
            new CoreModule(CoreSettings.defaults()),
            new PoolModule(poolSettings),
            new ReplicaModule(
                ReplicaSettings.builder(poolSettings)
                    .replica(replica.databaseUrl("postgres") + "?connection_limit=4")
                    .maxLag(Duration.ofSeconds(30))
                    .maxLagBytes(1L << 32)
                    .build()));
    db = app.get(DSLContext.class);
    replicas = app.get(Replicas.class);
    var position = replicas.primaryPosition();
    var deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!(replicas.states().get(0).status() == ReplicaState.Status.USABLE
        && position.replayedBy(replicas.states().get(0).replayed()))) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the replica did not catch up: " + replicas.states());
      }
      Thread.sleep(20);
    }
    replayed = position;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    app.close();
  }

  private static long id() {
    return 1L + ThreadLocalRandom.current().nextInt(ROWS);
  }

  private static String lookup(DSLContext r, long id) {
    return r.fetchSingle("select name from accounts where id = ?", id).get(0, String.class);
  }

  @Benchmark
  public Object run() {
    var id = id();
    return switch (path) {
      case PRIMARY, PRIMARY_AGAIN -> lookup(db, id);
      case REPLICA -> replicas.read(r -> lookup(r, id));
      case REPLICA_WITH_POSITION -> replicas.read(replayed, r -> lookup(r, id));
      case WRITE, WRITE_AGAIN ->
          db.execute("update accounts set balance = balance + 1 where id = ?", id);
      case WRITE_IN_UNIT -> {
        try (var unit = replicas.unitOfWork()) {
          db.execute("update accounts set balance = balance + 1 where id = ?", id);
          yield unit.position();
        }
      }
    };
  }
}
