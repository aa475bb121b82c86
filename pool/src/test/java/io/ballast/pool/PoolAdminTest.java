package io.ballast.pool;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.admin.AdminModule;
import io.ballast.core.admin.AdminServer;
import io.ballast.core.admin.AdminSettings;
import io.ballast.testkit.LoopbackHttp;
import io.ballast.testkit.PostgresExtension;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.jooq.DSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the pool adds to core's admin endpoints (its check and its metrics), over real HTTP. The
 * endpoints themselves, outages included, are tested in core; the pool's recovery after an outage
 * in {@link PoolModuleTest}.
 */
class PoolAdminTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  static final String TOKEN = "admin-token-0123456789";
  static final ObjectMapper JSON = new ObjectMapper();
  static Ballast app;
  static LoopbackHttp admin;

  @BeforeAll
  static void start() {
    app =
        Ballast.start(
            new CoreModule(
                CoreSettings.builder().healthCheckTimeout(Duration.ofSeconds(1)).build()),
            new PoolModule(
                PoolSettings.builder()
                    .url(PG.databaseUrl())
                    .connectionLimit(3)
                    .poolTimeout(Duration.ofSeconds(5))
                    .connectTimeout(Duration.ofSeconds(1))
                    .build()),
            new AdminModule(AdminSettings.builder().port(0).token(TOKEN).build()));
    admin = new LoopbackHttp(app.get(AdminServer.class).port(), TOKEN);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  static JsonNode json(HttpResponse<String> response) throws IOException {
    return JSON.readTree(response.body());
  }

  @Test
  void readinessAndDbChecks_includeThePool() throws Exception {
    var ready = json(admin.get("/health/ready"));
    assertThat(ready.get("checks").fieldNames())
        .toIterable()
        .containsExactly("db", "deadlocks", "pool");
    assertThat(ready.at("/checks/pool/details/utilisationPercent").isNumber()).isTrue();
    var db = json(admin.get("/health/db"));
    assertThat(db.get("checks").fieldNames())
        .toIterable()
        .containsExactly("db", "db.details", "db.write", "pool");
  }

  @Test
  void metrics_includeThePool() throws Exception {
    app.get(DSLContext.class).fetch("select 1");
    var response = admin.get("/metrics");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("text/plain; version=0.0.4");
    assertThat(response.body())
        .contains("ballast_pool_connections{pool=\"primary\",state=\"active\"} ")
        .contains("ballast_pool_connections{pool=\"primary\",state=\"idle\"} ")
        .contains("ballast_pool_utilisation_ratio{pool=\"primary\"} ")
        .contains("ballast_pool_acquire_seconds_count{pool=\"primary\"} ")
        .contains("ballast_pool_acquire_timeouts_total{pool=\"primary\"} 0")
        .contains("ballast_query_duration_seconds_count{server=\"primary\"} ")
        .doesNotContain("ActiveConnections");
  }
}
