package io.ballast.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.settings.SettingException;
import io.ballast.testkit.Await;
import io.ballast.testkit.LogCapture;
import io.ballast.testkit.PostgresExtension;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Adaptive sizing under a real load that exhausts the initial size: the pool grows to its ceiling
 * while borrowers wait, shrinks back once they stop, and stays fixed when adaptive sizing is off.
 */
class AdaptiveSizingTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  private static Ballast start(PoolSettings settings) {
    return Ballast.start(new CoreModule(CoreSettings.defaults()), new PoolModule(settings));
  }

  /** 8 threads each holding a connection for 50 ms at a time, until stopped. */
  private static final class Load implements AutoCloseable {
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicInteger done = new AtomicInteger();
    final ExecutorService threads = Executors.newFixedThreadPool(8);
    final List<Future<?>> work = new ArrayList<>();

    Load(DataSource ds) {
      for (int t = 0; t < 8; t++) {
        work.add(
            threads.submit(
                (Callable<Void>)
                    () -> {
                      while (!stop.get()) {
                        try (var c = ds.getConnection();
                            var s = c.createStatement()) {
                          s.execute("select pg_sleep(0.05)");
                        }
                        done.incrementAndGet();
                      }
                      return null;
                    }));
      }
    }

    @Override
    public void close() throws Exception {
      stop.set(true);
      for (var f : work) {
        f.get(1, TimeUnit.MINUTES); // a failed borrow fails the test
      }
      threads.shutdownNow();
    }
  }

  private static int serverConnections() throws SQLException {
    try (var c = PG.connect();
        var s = c.createStatement();
        var rs =
            s.executeQuery(
                "select count(*) from pg_stat_activity where application_name = 'ballast' and datname = '"
                    + PG.databaseName()
                    + "'")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  @Test
  void sustainedWaits_growThePoolToItsCeiling_andItShrinksBackWhenQuiet() throws Exception {
    var settings =
        PoolSettings.builder()
            .url(PG.databaseUrl())
            .connectionLimit(2)
            .adaptive(true)
            .growAfter(Duration.ofMillis(20))
            .shrinkAfter(Duration.ofSeconds(1))
            .maxConnectionLimit(6)
            .build();
    try (var logs = new LogCapture();
        var app = start(settings)) {
      var pool = app.get(Pool.class);
      var metrics = app.get(MetricRegistry.class);
      assertThat(pool.snapshot().max()).isEqualTo(2);
      try (var load = new Load(app.get(DataSource.class))) {
        Await.until(
            "the pool grows to 6 connections",
            Duration.ofSeconds(30),
            () -> pool.snapshot().max() == 6 && pool.snapshot().total() == 6);
        assertThat(serverConnections()).isEqualTo(6);
        assertThat(metrics.counter("ballast.pool.primary.Grown").getCount()).isPositive();
        assertThat(metrics.getGauges().get("ballast.pool.primary.MaxConnections").getValue())
            .isEqualTo(6);
        var before = load.done.get();
        Await.until(
            "the load goes on", Duration.ofSeconds(30), () -> load.done.get() > before + 50);
        assertThat(pool.snapshot().max()).as("never past the ceiling").isEqualTo(6);
      }
      assertThat(logs.lines())
          .anyMatch(
              l ->
                  l.startsWith("INFO Pool 'primary' grows to ")
                      && l.contains("ceiling 6 (max_connection_limit)"));
      Await.until(
          "the pool shrinks back to 2 connections",
          Duration.ofSeconds(30),
          () -> pool.snapshot().max() == 2 && pool.snapshot().total() == 2);
      Await.until(
          "the server sees 2 connections", Duration.ofSeconds(10), () -> serverConnections() == 2);
      // in one step, or two when the load's tail still used some of the connections
      assertThat(metrics.counter("ballast.pool.primary.Shrunk").getCount()).isBetween(1L, 2L);
      assertThat(logs.lines())
          .anyMatch(
              l ->
                  l.startsWith("INFO Pool 'primary' shrinks from ")
                      && l.contains(" to 2 connections: no borrower waited over 20 ms"));
    }
  }

  @Test
  void offByDefault_thePoolStaysAtItsSizeUnderTheSameLoad() throws Exception {
    var settings = PoolSettings.builder().url(PG.databaseUrl()).connectionLimit(2).build();
    assertThat(settings.adaptive()).isFalse();
    try (var app = start(settings)) {
      var pool = app.get(Pool.class);
      try (var load = new Load(app.get(DataSource.class))) {
        Await.until(
            "200 statements, most after a wait",
            Duration.ofSeconds(60),
            () -> load.done.get() >= 200);
        assertThat(pool.snapshot().max()).isEqualTo(2);
        assertThat(pool.snapshot().total()).isEqualTo(2);
      }
    }
  }

  @Test
  void theCeiling_comesFromMaxConnectionsAndTheInstances_unlessSet() throws Exception {
    var four = PoolSettings.builder().url(PG.databaseUrl()).connectionLimit(5).instances(4).build();
    assertThat(AdaptiveSizing.ceiling(four, 100)).isEqualTo(20); // 80 % of 100 over 4
    assertThat(AdaptiveSizing.ceiling(four, 0)).isEqualTo(5); // unknown: no growth
    assertThat(AdaptiveSizing.ceiling(PoolSettings.from(four).maxConnectionLimit(8).build(), 100))
        .isEqualTo(8);
    try (var logs = new LogCapture();
        var app =
            start(
                PoolSettings.builder()
                    .url(PG.databaseUrl())
                    .connectionLimit(2)
                    .instances(3)
                    .adaptive(true)
                    .build())) {
      // the test server runs with max_connections = 300: 80 % over 3 instances is 80
      assertThat(logs.lines())
          .anyMatch(
              l ->
                  l.contains(
                      "adaptive sizing from 2 up to 80 connections (80 % of max_connections 300 over 3 instance(s))"));
    }
  }

  @Test
  void settings_fromTheEnvironment_areChecked() {
    var env =
        Map.of(
            "DATABASE_URL", PG.databaseUrl(),
            "DB_CONNECTION_LIMIT", "10",
            "DB_POOL_ADAPTIVE", "true",
            "DB_POOL_GROW_AFTER_MS", "50",
            "DB_POOL_SHRINK_AFTER_SECONDS", "120",
            "DB_POOL_MAX_CONNECTION_LIMIT", "40");
    var settings = PoolSettings.fromEnv(env);
    assertThat(settings.adaptive()).isTrue();
    assertThat(settings.growAfter()).isEqualTo(Duration.ofMillis(50));
    assertThat(settings.shrinkAfter()).isEqualTo(Duration.ofMinutes(2));
    assertThat(settings.maxConnectionLimit()).hasValue(40);
    assertThat(settings.toString())
        .contains("adaptive (grow after 50ms, shrink after 2m, max_connection_limit 40)");
    var low = new java.util.HashMap<>(env);
    low.put("DB_POOL_MAX_CONNECTION_LIMIT", "5");
    assertThatThrownBy(() -> PoolSettings.fromEnv(low))
        .isInstanceOf(SettingException.class)
        .hasMessageContaining(
            "max_connection_limit must be at least connection_limit (10, from DB_CONNECTION_LIMIT), but was 5 (from DB_POOL_MAX_CONNECTION_LIMIT)");
    var bad = new java.util.HashMap<>(env);
    bad.put("DB_POOL_GROW_AFTER_MS", "0");
    assertThatThrownBy(() -> PoolSettings.fromEnv(bad))
        .isInstanceOf(SettingException.class)
        .hasMessageContaining("pool_grow_after")
        .hasMessageContaining("0");
  }
}
