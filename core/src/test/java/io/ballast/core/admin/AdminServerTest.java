package io.ballast.core.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.testkit.Await;
import io.ballast.testkit.FaultProxy;
import io.ballast.testkit.LoopbackHttp;
import io.ballast.testkit.PostgresExtension;
import java.io.IOException;
import java.net.InetAddress;
import java.net.http.HttpResponse;
import java.time.Duration;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The admin endpoints over real HTTP, with a real database behind them through a fault proxy (an
 * unpooled driver {@link DataSource}: the endpoints are core's, whatever pool provides the
 * connections; the pool's own checks and metrics are tested in the pool module).
 */
class AdminServerTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  static final String TOKEN = "admin-token-0123456789";
  static final ObjectMapper JSON = new ObjectMapper();
  static FaultProxy proxy;
  static Ballast app;
  static LoopbackHttp admin;

  @BeforeAll
  static void start() {
    proxy = FaultProxy.to(PG.server().host(), PG.server().port());
    var dataSource = new PGSimpleDataSource();
    dataSource.setServerNames(new String[] {proxy.host()});
    dataSource.setPortNumbers(new int[] {proxy.port()});
    dataSource.setDatabaseName(PG.databaseName());
    dataSource.setUser(PG.username());
    dataSource.setPassword(PG.password());
    dataSource.setConnectTimeout(2);
    dataSource.setSocketTimeout(5);
    app =
        Ballast.start(
            new CoreModule(
                CoreSettings.builder().healthCheckTimeout(Duration.ofSeconds(1)).build()),
            binder -> binder.bind(DataSource.class).toInstance(dataSource),
            new AdminModule(AdminSettings.builder().port(0).token(TOKEN).build()));
    admin = new LoopbackHttp(app.get(AdminServer.class).port(), TOKEN);
  }

  @AfterAll
  static void stop() {
    app.close();
    proxy.close();
  }

  /** After an outage test, wait (bounded) until the database answers through the proxy again. */
  @BeforeEach
  void healthy() throws Exception {
    Await.until(
        "ready again",
        Duration.ofSeconds(20),
        () -> admin.get("/health/ready").statusCode() == 200);
  }

  static JsonNode json(HttpResponse<String> response) throws IOException {
    return JSON.readTree(response.body());
  }

  @Test
  void healthEndpoints_answer200WithEveryCheckWhenHealthy() throws Exception {
    var ready = admin.get("/health/ready");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.headers().firstValue("Content-Type")).contains("application/json");
    var body = json(ready);
    assertThat(body.get("status").asText()).isEqualTo("UP");
    assertThat(body.get("checks").fieldNames()).toIterable().containsExactly("db", "deadlocks");
    assertThat(body.at("/checks/db/details/latencyMs").isNumber()).isTrue();

    assertThat(admin.get("/health").statusCode()).isEqualTo(200);
    var live = json(admin.get("/health/live"));
    assertThat(live.get("checks").fieldNames()).toIterable().containsExactly("deadlocks");

    var deep = json(admin.get("/health/deep"));
    assertThat(deep.at("/checks/db.write/status").asText()).isEqualTo("UP");
    assertThat(deep.at("/checks/db.details/details/serverVersion").asText()).startsWith("16");
    assertThat(deep.at("/checks/db.details/details/cacheHitRatio").asDouble()).isBetween(0.0, 1.0);
    assertThat(deep.at("/checks/db.details/details/maxConnections").asInt()).isPositive();

    var db = json(admin.get("/health/db"));
    assertThat(db.get("checks").fieldNames())
        .toIterable()
        .containsExactly("db", "db.details", "db.write");
    var cache = admin.get("/health/cache");
    assertThat(cache.statusCode()).isEqualTo(404);
    assertThat(json(cache).get("error").asText())
        .isEqualTo("no such checks: the cache module is not installed");
  }

  @Test
  void databaseCut_makesReadinessFail503SayingWhich_whileLivenessStays200() throws Exception {
    proxy.cut();
    try {
      var ready = admin.get("/health/ready");
      assertThat(ready.statusCode()).isEqualTo(503);
      var body = json(ready);
      assertThat(body.get("status").asText()).isEqualTo("DOWN");
      assertThat(body.at("/checks/db/status").asText()).isEqualTo("DOWN");
      assertThat(body.at("/checks/db/message").asText()).isNotBlank();
      assertThat(body.at("/checks/deadlocks/status").asText()).isEqualTo("UP");
      assertThat(admin.get("/health/live").statusCode()).isEqualTo(200);
    } finally {
      proxy.restore();
    }
  }

  @Test
  void hungDatabase_cannotHangTheEndpoint_theCheckTimesOut() throws Exception {
    // a black hole answers nothing, ever: the check blocks on the network until its time limit
    proxy.blackhole();
    try {
      var start = System.nanoTime();
      var ready = admin.get("/health/ready");
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(json(ready).at("/checks/db/message").asText())
          .isEqualTo("timed out after 1000 ms");
      // bounded, not a benchmark: without the time limit this request would wait for the driver's
      // socket timeout (5 s) or forever
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
    } finally {
      proxy.restore();
    }
  }

  @Test
  void metrics_arePrometheusTextWithQueryAndJvmMetrics() throws Exception {
    app.get(DSLContext.class).fetch("select 1 where 7 = 7");
    var response = admin.get("/metrics");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("text/plain; version=0.0.4");
    assertThat(response.body())
        .contains("# TYPE ballast_query_duration_seconds histogram")
        .contains("ballast_query_duration_seconds_bucket{server=\"primary\",le=\"0.001\"}")
        .contains("ballast_query_duration_seconds_sum{server=\"primary\"}")
        .contains("# TYPE ballast_query_pattern_duration_seconds summary")
        .containsPattern(
            "ballast_query_pattern_duration_seconds\\{pattern=\"[0-9a-f]{8}\",quantile=\"0.95\"}")
        .containsPattern(
            "ballast_query_pattern_info\\{fingerprint=\"select \\? where \\? = \\?\",pattern=\"[0-9a-f]{8}\"} 1")
        .contains("# HELP ballast_query_slow_total Statements slower than")
        .contains("jvm_memory_used_bytes")
        .doesNotContain("Generated from Dropwizard");
  }

  @Test
  void metrics_toAScraperPreferringProtobuf_answerInATextFormatItAlsoAccepts() throws Exception {
    // what Prometheus sends with native histograms enabled: protobuf first
    var response =
        admin.getAccepting(
            "/metrics",
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
                + "encoding=delimited;q=0.9,application/openmetrics-text;version=1.0.0;q=0.8,"
                + "text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("application/openmetrics-text");
    assertThat(response.body()).contains("# TYPE ballast_query_duration_seconds histogram");
  }

  @Test
  void metrics_answerInOpenMetricsWhenTheScraperAsksForIt() throws Exception {
    app.get(DSLContext.class).fetch("select 1");
    var response =
        admin.getAccepting(
            "/metrics", "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("application/openmetrics-text");
    assertThat(response.body())
        .contains("# UNIT ballast_query_duration_seconds seconds")
        .contains("# TYPE ballast_query_slow counter")
        .endsWith("# EOF\n");
  }

  @Test
  void queries_serveStatisticsWithFingerprintsButNeverLiteralsOrBindValues() throws Exception {
    var db = app.get(DSLContext.class);
    db.fetch("select 'literal-secret-value' as a");
    db.fetch("select ? as b", "bind-secret-value");
    var response = admin.get("/health/queries");
    assertThat(response.statusCode()).isEqualTo(200);
    var body = json(response);
    assertThat(body.at("/statistics/total").asLong()).isPositive();
    assertThat(body.at("/statistics/overall/p95").isNumber()).isTrue();
    assertThat(response.body())
        .contains("select ? as a")
        .contains("select ? as b")
        .doesNotContain("literal-secret-value")
        .doesNotContain("bind-secret-value");
  }

  @Test
  void token_isRequiredWhenConfigured() throws Exception {
    var none = admin.get("/health", null);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate")).contains("Bearer");
    assertThat(admin.get("/metrics", "wrong-token-0123456789").statusCode()).isEqualTo(401);
    assertThat(admin.get("/health").statusCode()).isEqualTo(200);
  }

  @Test
  void unknownPathsAndMethods_areRefusedClearly() throws Exception {
    var missing = admin.get("/nope");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(json(missing).get("error").asText()).isEqualTo("no endpoint /nope");
    var post = admin.post("/health");
    assertThat(post.statusCode()).isEqualTo(405);
  }

  @Test
  void server_bindsToLoopbackByDefault() throws Exception {
    assertThat(AdminSettings.defaults().bind()).isEqualTo("127.0.0.1");
    assertThat(AdminSettings.defaults().port()).isEqualTo(8081);
    assertThat(InetAddress.getByName(AdminSettings.defaults().bind()).isLoopbackAddress()).isTrue();
    assertThat(AdminSettings.builder().token(TOKEN).build().toString()).doesNotContain(TOKEN);
  }
}
