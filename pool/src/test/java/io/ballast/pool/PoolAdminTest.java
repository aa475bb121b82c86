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
import io.ballast.testkit.Await;
import io.ballast.testkit.FaultProxy;
import io.ballast.testkit.PostgresExtension;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.jooq.DSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the pool adds to core's admin endpoints (its check, its metrics, readiness through an outage
 * of a pooled database), over real HTTP. The endpoints themselves are tested in core.
 */
class PoolAdminTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  static final String TOKEN = "admin-token-0123456789";
  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static final ObjectMapper JSON = new ObjectMapper();
  static FaultProxy proxy;
  static Ballast app;
  static int port;

  @BeforeAll
  static void start() {
    proxy = FaultProxy.to(PG.server().host(), PG.server().port());
    var url =
        "postgresql://"
            + PG.username()
            + "@"
            + proxy.host()
            + ":"
            + proxy.port()
            + "/"
            + PG.databaseName();
    app =
        Ballast.start(
            new CoreModule(
                CoreSettings.builder().healthCheckTimeout(Duration.ofSeconds(1)).build()),
            new PoolModule(
                PoolSettings.builder()
                    .url(url)
                    .connectionLimit(3)
                    .poolTimeout(Duration.ofSeconds(5))
                    .connectTimeout(Duration.ofSeconds(1))
                    .build()),
            new AdminModule(AdminSettings.builder().port(0).token(TOKEN).build()));
    port = app.get(AdminServer.class).port();
  }

  @AfterAll
  static void stop() {
    app.close();
    proxy.close();
  }

  /** After an outage test, HikariCP refills in the background: wait (bounded) until ready again. */
  @BeforeEach
  void healthy() throws Exception {
    Await.until(
        "ready again",
        Duration.ofSeconds(20),
        () -> get("/health/ready", TOKEN).statusCode() == 200);
  }

  static HttpResponse<String> get(String path, String token)
      throws IOException, InterruptedException {
    var request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(10));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(HttpResponse<String> response) throws IOException {
    return JSON.readTree(response.body());
  }

  @Test
  void readinessAndDbChecks_includeThePool() throws Exception {
    var ready = json(get("/health/ready", TOKEN));
    assertThat(ready.get("checks").fieldNames())
        .toIterable()
        .containsExactly("db", "deadlocks", "pool");
    assertThat(ready.at("/checks/pool/details/utilisationPercent").isNumber()).isTrue();
    var db = json(get("/health/db", TOKEN));
    assertThat(db.get("checks").fieldNames())
        .toIterable()
        .containsExactly("db", "db.details", "db.write", "pool");
  }

  @Test
  void databaseCut_makesReadinessFail503SayingWhich_whileLivenessStays200() throws Exception {
    proxy.cut();
    try {
      var ready = get("/health/ready", TOKEN);
      assertThat(ready.statusCode()).isEqualTo(503);
      var body = json(ready);
      assertThat(body.get("status").asText()).isEqualTo("DOWN");
      assertThat(body.at("/checks/db/status").asText()).isEqualTo("DOWN");
      assertThat(body.at("/checks/db/message").asText()).isNotBlank();
      assertThat(body.at("/checks/deadlocks/status").asText()).isEqualTo("UP");
      assertThat(get("/health/live", TOKEN).statusCode()).isEqualTo(200);
    } finally {
      proxy.restore();
    }
  }

  @Test
  void metrics_includeThePool() throws Exception {
    app.get(DSLContext.class).fetch("select 1");
    var response = get("/metrics", TOKEN);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("text/plain; version=0.0.4");
    assertThat(response.body())
        .contains("ballast_pool_primary_ActiveConnections")
        .contains("ballast_core_queries_all")
        .contains("ballast_core_queries_slow")
        .contains("jvm_memory_used_bytes")
        .contains("# TYPE");
  }
}
