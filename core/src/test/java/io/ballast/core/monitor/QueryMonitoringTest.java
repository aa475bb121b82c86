package io.ballast.core.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.table;

import com.codahale.metrics.MetricRegistry;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.settings.AppEnv;
import io.ballast.testkit.LogCapture;
import io.ballast.testkit.PostgresExtension;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The query monitor on real statements through Ballast's DSLContext, on a real PostgreSQL (through
 * an unpooled driver {@link DataSource}: the monitor is core's, whatever pool provides the
 * connections).
 */
class QueryMonitoringTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  static final Field<Long> ID = field(name("id"), Long.class);

  @BeforeAll
  static void schema() throws SQLException {
    PG.execute(
        "create table items (id bigint primary key, name text not null)",
        "insert into items select g, 'item ' || g from generate_series(1, 100) g");
  }

  private static Ballast start(MonitorSettings monitor) {
    return Ballast.start(
        new CoreModule(CoreSettings.builder().monitor(monitor).build()),
        binder -> binder.bind(DataSource.class).toInstance(PG.dataSource()));
  }

  private static double exact(List<Double> sorted, double percentile) {
    return sorted.get(Math.max(0, (int) Math.ceil(percentile / 100 * sorted.size()) - 1));
  }

  @Test
  void percentiles_matchExactOnesFromTheDurationsOfAKnownWorkload_within5Percent() {
    try (var app = start(MonitorSettings.defaults(AppEnv.PRODUCTION))) {
      var db = app.get(DSLContext.class);
      var random = new Random(3);
      var measured = new ArrayList<Double>();
      // one transaction: one connection for every statement, so the test's timings do not include
      // opening a connection of the unpooled data source
      db.transaction(
          tx -> {
            for (int i = 0; i < 120; i++) {
              var seconds = (5 + random.nextInt(45)) / 1000.0;
              var start = System.nanoTime();
              tx.dsl().execute("select pg_sleep(?)", seconds);
              measured.add((System.nanoTime() - start) / 1e6);
            }
          });
      measured.sort(null);
      var stats = app.get(QueryMonitor.class).statistics();
      var pattern =
          stats.topByCount().stream()
              .filter(p -> p.fingerprint().equals("select pg_sleep(?)"))
              .findFirst()
              .orElseThrow();
      assertThat(pattern.count()).isEqualTo(120);
      // the monitor times execution only; the test also times rendering and borrowing: well under 5
      // %
      assertThat(pattern.latency().p50())
          .isCloseTo(exact(measured, 50), within(exact(measured, 50) * 0.05));
      assertThat(pattern.latency().p95())
          .isCloseTo(exact(measured, 95), within(exact(measured, 95) * 0.05));
      assertThat(pattern.latency().p99())
          .isCloseTo(exact(measured, 99), within(exact(measured, 99) * 0.05));
      assertThat(stats.perSecond()).isPositive();
    }
  }

  @Test
  void inListsOfAnyLength_areOnePattern_andEachPatternHasATimer() {
    try (var app = start(MonitorSettings.defaults(AppEnv.PRODUCTION))) {
      var db = app.get(DSLContext.class);
      db.select(ID).from(table(name("items"))).where(ID.in(1L, 2L)).fetch();
      db.select(ID).from(table(name("items"))).where(ID.in(1L, 2L, 3L, 4L)).fetch();
      var stats = app.get(QueryMonitor.class).statistics();
      var pattern =
          stats.topByCount().stream().filter(p -> p.fingerprint().contains("in (?...)")).toList();
      assertThat(pattern).hasSize(1);
      assertThat(pattern.get(0).fingerprint())
          .isEqualTo("select \"id\" from \"items\" where \"id\" in (?...)");
      assertThat(pattern.get(0).count()).isEqualTo(2);
      var timerName =
          app.get(QueryMonitor.class).patternMetricNames().get(pattern.get(0).fingerprint());
      var timer = app.get(MetricRegistry.class).timer(timerName);
      assertThat(timer.getCount()).isEqualTo(2);
      // the timer's snapshot is the monitor's window: nanoseconds, like every Dropwizard timer
      assertThat(timer.getSnapshot().size()).isEqualTo(2);
      assertThat(timer.getSnapshot().getMedian()).isBetween(1_000.0, 1_000_000_000.0);
      assertThat(timer.getSnapshot().getMax())
          .isGreaterThanOrEqualTo((long) timer.getSnapshot().getMedian());
    }
  }

  @Test
  void slowQueries_areLoggedWithFingerprintDurationAndRows_butNeverBindValues() {
    var monitor =
        MonitorSettings.builder(AppEnv.PRODUCTION).slowWarn(Duration.ofMillis(50)).build();
    try (var logs = new LogCapture();
        var app = start(monitor)) {
      var db = app.get(DSLContext.class);
      db.fetch("select pg_sleep(0.08), ? as email", "alice@example.com");
      db.fetch("select 1");
      var slow = app.get(QueryMonitor.class).recentSlowQueries();
      assertThat(slow).hasSize(1);
      assertThat(slow.get(0).fingerprint()).isEqualTo("select pg_sleep(?), ? as email");
      assertThat(slow.get(0).rows()).isEqualTo(1);
      assertThat(slow.get(0).millis()).isGreaterThanOrEqualTo(80);
      assertThat(logs.lines())
          .anyMatch(
              l ->
                  l.startsWith("WARN Slow query: ")
                      && l.contains(" ms, 1 rows, class standard")
                      && l.endsWith(": select pg_sleep(?), ? as email"));
      assertThat(logs.lines()).noneMatch(l -> l.contains("alice@example.com"));
      assertThat(app.get(QueryMonitor.class).statistics().slow()).isEqualTo(1);
      assertThat(app.get(MetricRegistry.class).counter("ballast.core.queries.slow").getCount())
          .isEqualTo(1);
    }
  }

  @Test
  void bindValues_appearOnlyWhenADevelopmentSettingAsksForThem() {
    var monitor =
        MonitorSettings.builder(AppEnv.DEVELOPMENT)
            .slowWarn(Duration.ofMillis(20))
            .logBindValues(true)
            .build();
    try (var logs = new LogCapture();
        var app = start(monitor)) {
      app.get(DSLContext.class).fetch("select pg_sleep(0.03), ? as email", "bob@example.com");
      assertThat(logs.lines())
          .anyMatch(l -> l.contains("Slow query") && l.contains("binds [bob@example.com]"));
    }
  }

  @Test
  void nPlusOne_inATransactionOrUnitOfWork_isReportedOnceWithTheCount() {
    var monitor = MonitorSettings.builder(AppEnv.PRODUCTION).nPlusOneThreshold(5).build();
    try (var logs = new LogCapture();
        var app = start(monitor)) {
      var db = app.get(DSLContext.class);
      var queries = app.get(QueryMonitor.class);
      db.transaction(
          cfg -> {
            for (long id = 1; id <= 9; id++) {
              cfg.dsl().select(ID).from(table(name("items"))).where(ID.eq(id)).fetch();
            }
          });
      assertThat(queries.recentNPlusOne()).hasSize(1);
      assertThat(queries.recentNPlusOne().get(0).count()).isEqualTo(6);
      assertThat(queries.recentNPlusOne().get(0).fingerprint())
          .isEqualTo("select \"id\" from \"items\" where \"id\" = ?");
      assertThat(logs.lines())
          .filteredOn(l -> l.contains("N+1 suspected"))
          .hasSize(1)
          .allMatch(l -> l.contains("ran 6 times in one transaction"));

      // outside any transaction or unit of work: no report
      for (long id = 1; id <= 9; id++) {
        db.select(ID).from(table(name("items"))).where(ID.eq(id)).fetch();
      }
      assertThat(queries.recentNPlusOne()).hasSize(1);

      try (var unit = queries.unitOfWork()) {
        for (int i = 0; i < 7; i++) {
          db.fetch("select name from items where id = ?", i);
        }
      }
      assertThat(queries.recentNPlusOne()).hasSize(2);
      assertThat(
              app.get(MetricRegistry.class).counter("ballast.core.queries.n_plus_one").getCount())
          .isEqualTo(2);
    }
  }

  @Test
  void failedStatements_areCounted() {
    try (var app = start(MonitorSettings.defaults(AppEnv.PRODUCTION))) {
      var db = app.get(DSLContext.class);
      try {
        db.execute("select * from no_such_table");
      } catch (org.jooq.exception.DataAccessException expected) {
        // counted below
      }
      assertThat(app.get(QueryMonitor.class).statistics().failed()).isEqualTo(1);
      assertThat(app.get(MetricRegistry.class).counter("ballast.core.queries.failed").getCount())
          .isEqualTo(1);
    }
  }
}
