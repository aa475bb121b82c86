package io.ballast.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.HealthRegistry;
import io.ballast.core.ProbeKind;
import io.ballast.core.ProbeStatus;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.testkit.OutageDrill;
import io.ballast.testkit.PostgresExtension;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.Map;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Regression: PostgreSQL stopped for 20 s under load, then started: with default settings the
 * breaker went on refusing every query for about 10 s more (it waited out its 30 s open state),
 * trial calls waited the pool's timeout, and one refusal read "breaker 'db' is CLOSED and does not
 * permit calls". With default settings now: callers fail fast while it is down, nobody waits a pool
 * timeout, and queries succeed again within seconds of the server accepting connections, without a
 * restart.
 */
class OutageRecoveryTest {
  private static final Logger LOG = LoggerFactory.getLogger(OutageRecoveryTest.class);

  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  @Test
  void serverStoppedUnderLoad_failsFastThenRecoversWithinSecondsOfComingBack_withDefaultSettings()
      throws Exception {
    var server = PG.server();
    // as in DatabaseBreakerTest: a server named by BALLAST_TEST_PG_URL is shared and never stopped
    // by tests
    org.junit.jupiter.api.Assumptions.assumeTrue(
        server.isEmbedded(),
        "only the embedded PostgreSQL is stopped by "
            + "tests; an external one (BALLAST_TEST_PG_URL) is shared and never stopped");
    var defaults = PoolSettings.fromEnv(Map.of("DATABASE_URL", PG.databaseUrl()));
    try (var app =
        Ballast.start(
            new CoreModule(CoreSettings.defaults()),
            new PoolModule(defaults),
            new ResilienceModule(ResilienceSettings.fromEnv(Map.of())))) {
      var db = app.get(DSLContext.class);
      var breaker = app.get(DatabaseGuard.class).breaker();
      var result =
          OutageDrill.builder(() -> db.fetchValue("select 1"))
              .threads(8)
              .down(Duration.ofSeconds(8))
              .run(server::stop, server::start);
      LOG.info("Outage drill, default settings: {}", result.summary());

      assertThat(result.successesAfter()).isPositive();
      assertThat(breaker.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
      // the goal is 5 s (benchmarks/results/outage-recovery.md reports the figure); asserted
      // generously
      assertThat(result.recovery()).as(result.summary()).isLessThan(Duration.ofSeconds(8));
      assertThat(OutageDrill.Result.quantile(result.whileDown(), 0.99))
          .as(result.summary())
          .isLessThan(Duration.ofMillis(250));
      assertThat(result.longestWait())
          .as("no caller waits the pool timeout (%s): %s", defaults.poolTimeout(), result.summary())
          .isLessThan(Duration.ofSeconds(3));
      assertThat(result.calls())
          .noneMatch(
              c ->
                  c.failure() != null
                      && String.valueOf(c.failure().getMessage()).contains("is CLOSED"));
      assertThat(app.get(HealthRegistry.class).run(ProbeKind.READY).status())
          .isEqualTo(ProbeStatus.UP);
    }
  }
}
