package io.ballast.benchmarks;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.ballast.cache.CacheRegion;
import io.ballast.cache.CacheSettings;
import io.ballast.cache.Caches;
import io.ballast.cache.RedisCacheModule;
import io.ballast.cache.RegionSettings;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.testkit.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * One thread reading a product by id, cycling over 1 024 ids, in each variant:
 *
 * <ul>
 *   <li>{@code RAW_CAFFEINE}: {@code Cache.getIfPresent} on a plain bounded Caffeine cache, the
 *       floor;
 *   <li>{@code RAW_CAFFEINE_STATS}: the same with {@code recordStats()}, the bookkeeping a service
 *       needs for hit ratios and that Ballast's L1 does too;
 *   <li>{@code BALLAST_L1}: {@code CacheRegion.get(key)} answered by L1;
 *   <li>{@code RAW_LETTUCE}: a Lettuce {@code GET} of the very bytes Ballast stored, the L2
 *       baseline;
 *   <li>{@code BALLAST_L2}: {@code CacheRegion.get(key)} on a region without L1, so every read is a
 *       Redis hit (GET, unwrap, JSON decode);
 *   <li>{@code POSTGRES}: the same read from PostgreSQL through Ballast's {@code DSLContext}.
 * </ul>
 *
 * <p>The raw variants run before and after the Ballast one they are compared with (A-B-A), so a
 * drift over the run cancels. {@link CacheReport} turns the latencies into ratios.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
public class CacheReadBenchmark {
  static final int KEYS = 1024;
  static final String REDIS_URL_VARIABLE = "BALLAST_BENCH_REDIS_URL";

  /** What a read goes through, in run order. */
  public enum Path {
    RAW_CAFFEINE,
    RAW_CAFFEINE_STATS,
    BALLAST_L1,
    RAW_CAFFEINE_STATS_AGAIN,
    RAW_CAFFEINE_AGAIN,
    RAW_LETTUCE,
    BALLAST_L2,
    RAW_LETTUCE_AGAIN,
    POSTGRES
  }

  /** The cached value: a small row, as a typical read path caches. */
  public record Product(long id, String name, int priceCents) {}

  @Param public Path path;

  private BenchDatabase database;
  private Ballast app;
  private RedisClient rawClient;
  private StatefulRedisConnection<String, byte[]> rawConnection;
  private RedisCommands<String, byte[]> raw;
  private Cache<String, Product> caffeine;
  private CacheRegion<Product> withL1;
  private CacheRegion<Product> withoutL1;
  private DSLContext db;
  private final String[] ids = new String[KEYS];
  private final String[] redisKeys = new String[KEYS];
  private int next;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    var url = System.getenv(REDIS_URL_VARIABLE);
    if (url != null && !url.isBlank()) {
      System.setProperty("ballast.test.redis.url", url);
    }
    var redis = RedisServer.shared();
    database = BenchDatabase.create();
    var namespace = "bench:" + System.nanoTime() + ":";
    app =
        Ballast.start(
            new CoreModule(CoreSettings.defaults()),
            new PoolModule(
                PoolSettings.builder().url(database.databaseUrl()).connectionLimit(2).build()),
            new RedisCacheModule(
                CacheSettings.builder().redisUrl(redis.url()).namespace(namespace).build()));
    db = app.get(DSLContext.class);
    db.execute(
        "create table product (id bigint primary key, name text not null, price_cents int not null)");
    db.execute(
        "insert into product select g, 'product ' || g, g * 100 from generate_series(1, "
            + KEYS
            + ") g");
    db.execute("analyze product");
    var caches = app.get(Caches.class);
    withL1 = caches.region(RegionSettings.builder("products", Product.class).longTtl().build());
    withoutL1 =
        caches.region(
            RegionSettings.builder("products-l2", Product.class).longTtl().l1MaxSize(0).build());
    caffeine =
        path.name().startsWith("RAW_CAFFEINE_STATS")
            ? Caffeine.newBuilder().maximumSize(10_000).recordStats().build()
            : Caffeine.newBuilder().maximumSize(10_000).build();
    rawClient = RedisClient.create(redis.url());
    rawConnection = rawClient.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
    raw = rawConnection.sync();
    for (int i = 0; i < KEYS; i++) {
      ids[i] = Integer.toString(i + 1);
      var product = read(ids[i]);
      caffeine.put(ids[i], product);
      withL1.put(ids[i], product);
      withoutL1.put(ids[i], product);
      redisKeys[i] = namespace + "c:products-l2:" + ids[i];
      if (raw.get(redisKeys[i]) == null) {
        throw new IllegalStateException("expected Ballast's entry under " + redisKeys[i]);
      }
    }
  }

  private Product read(String id) {
    var r =
        db.fetchOne("select id, name, price_cents from product where id = ?", Long.parseLong(id));
    return new Product(r.get(0, Long.class), r.get(1, String.class), r.get(2, Integer.class));
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    rawConnection.close();
    rawClient.shutdown();
    app.close();
    database.drop();
  }

  @Benchmark
  public Object read() {
    var i = next = (next + 1) & (KEYS - 1);
    return switch (path) {
      case RAW_CAFFEINE, RAW_CAFFEINE_AGAIN, RAW_CAFFEINE_STATS, RAW_CAFFEINE_STATS_AGAIN ->
          caffeine.getIfPresent(ids[i]);
      case BALLAST_L1 -> withL1.get(ids[i]);
      case RAW_LETTUCE, RAW_LETTUCE_AGAIN -> raw.get(redisKeys[i]);
      case BALLAST_L2 -> withoutL1.get(ids[i]);
      case POSTGRES -> read(ids[i]);
    };
  }
}
