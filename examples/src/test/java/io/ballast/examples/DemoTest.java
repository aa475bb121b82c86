package io.ballast.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.testkit.Await;
import io.ballast.testkit.PostgresExtension;
import io.ballast.testkit.RedisExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class DemoTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(Map<String, String> env, String... args) {
    return Demo.run(
        args,
        env,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void demo_onDatabaseUrl_createsTheSchemaRunsQueriesAndStopsAfterTheDuration()
      throws SQLException {
    var code =
        run(
            Map.of(
                "DATABASE_URL",
                PG.databaseUrl(),
                "BALLAST_ADMIN_PORT",
                "0",
                "REDIS_URL",
                REDIS.url(),
                "CACHE_NAMESPACE",
                REDIS.keyPrefix()),
            "demo",
            "--duration",
            "300ms");
    var text = out.toString(StandardCharsets.UTF_8);
    assertThat(code).as(text + err).isZero();
    assertThat(text)
        .contains(
            "Migrations: set 'app' has 4 applied ([V1 (V1__customers_and_orders.sql),"
                + " V2 (V2__orders_customer_created_index.sql), V3 (V3__customers_attributes_index.sql),"
                + " V4 (V4__tenant_notes.sql)]), 0 pending")
        // the audit module's own set, all applied (its count grows with the module's versions)
        .containsPattern(
            "Migrations: set 'audit' has \\d+ applied \\(\\[V1 \\(V1__audit_log\\.sql\\).*\\]\\), 0 pending")
        .contains("Audit trail of notes, newest first:")
        .containsPattern(
            "#\\d+ DELETE \\{\"id\": \\d+} by (acme|globex)-user of tenant (acme|globex) \\(request "
                + "(acme|globex)-\\d+, database role [a-z]+\\)")
        .containsPattern("UPDATE \\{\"id\": \\d+} by (acme|globex)-user .* changed \\[body]")
        .contains("Audit chain: audit chain intact: ")
        .contains("Seeded: customers (1000 rows), orders (20000 rows)")
        .contains(
            "Jobs (UTC cron, once across instances): [backup '0 2 * * *', maintenance.reindex '0 4 1 * *',"
                + " maintenance.vacuum '0 3 * * 0', retention.archive '30 3 * * 0',"
                + " retention.purge '30 4 1 * *']")
        .contains("Containment query (GIN jsonb_path_ops index): 100 gold customers")
        .contains("Lookup by key: customer 42 is 'customer 42'")
        .contains("Top customers by spend:")
        .contains("Orders, newest first, 2000 per page (keyset pagination):")
        .contains("Listed 20001 orders in 11 pages, each a seek, none an OFFSET")
        .contains(
            "Cache (L1 + Redis): 2000 reads of 100 customers: 100 loads from PostgreSQL, hit ratio 95 % (L1 95 %)")
        .contains(
            "Cache: customer 999999 does not exist; two reads, 1 query (the miss is remembered for 30s)")
        .contains("Cache: after an update and invalidate, customer 7 reads 'customer 7 (renamed)'")
        .contains(
            "Readiness: READY [cache=up, db=up, db.breaker=up, deadlocks=up, migrations=up, pool=up]")
        .contains("Served ")
        .contains("cache hit ratio")
        .contains("Admin server: http://127.0.0.1:")
        .contains("Stopped cleanly.")
        .doesNotContain("DATABASE_URL is not set")
        .doesNotContain("REDIS_URL is not set");
    // the example's indexes: composite with a sort order, and GIN jsonb_path_ops, all valid
    try (var c = PG.connect();
        var s = c.createStatement();
        var rs =
            s.executeQuery(
                "select string_agg(pg_get_indexdef(indexrelid), '; ' order by indexrelid::regclass::text) from pg_index"
                    + " where indexrelid::regclass::text in ('orders_customer_created', 'customers_attributes') and indisvalid")) {
      rs.next();
      assertThat(rs.getString(1))
          .isEqualTo(
              "CREATE INDEX customers_attributes ON public.customers USING gin"
                  + " (attributes jsonb_path_ops); CREATE INDEX orders_customer_created ON public.orders USING btree"
                  + " (customer_id, created_at DESC)");
    }
    try (var c = PG.connect();
        var s = c.createStatement();
        var rs =
            s.executeQuery(
                "select count(*) from orders where customer_id = 42 and total = 19.99")) {
      rs.next();
      assertThat(rs.getLong(1)).isPositive();
    }

    out.reset();
    assertThat(
            run(
                Map.of(
                    "DATABASE_URL",
                    PG.databaseUrl(),
                    "BALLAST_ADMIN_ENABLED",
                    "false",
                    "REDIS_ENABLED",
                    "false"),
                "demo",
                "--duration",
                "0"))
        .isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("Data present: customers (1000 rows)")
        .contains("Cache (L1 only): 2000 reads of 100 customers: 100 loads from PostgreSQL")
        .doesNotContain("REDIS_URL is not set");
  }

  @Test
  void demo_withoutDatabaseUrl_usesTheEmbeddedServer() {
    var code = run(Map.of("BALLAST_ADMIN_PORT", "0"), "demo", "--duration", "0s");
    var text = out.toString(StandardCharsets.UTF_8);
    assertThat(code).as(text + err).isZero();
    assertThat(text)
        .contains("DATABASE_URL is not set: starting an embedded PostgreSQL 16")
        .contains("REDIS_URL is not set: starting an embedded Redis")
        .contains("Cache (L1 + Redis)")
        .contains("/ballast_demo")
        .contains("Stopped cleanly.")
        // the embedded demo connects as its own non-superuser role, so row-level security isolates
        // the tenants
        .contains("Tenant acme sees 2 notes of this run, of tenants [acme]")
        .contains("Tenant globex sees 2 notes of this run, of tenants [globex]")
        .contains("The admin role sees 4 notes of this run; without a context a query sees 0")
        .contains("database role ballast_demo_app")
        .contains("Audit chain: audit chain intact: ");
  }

  @Test
  void demo_servesTheAdminServerWhileRunning() throws Exception {
    int free;
    try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      free = socket.getLocalPort();
    }
    var demo =
        new Thread(
            () ->
                run(
                    Map.of(
                        "DATABASE_URL",
                        PG.databaseUrl(),
                        "BALLAST_ADMIN_PORT",
                        Integer.toString(free),
                        "REDIS_URL",
                        REDIS.url(),
                        "CACHE_NAMESPACE",
                        REDIS.keyPrefix()),
                    "demo",
                    "--duration",
                    "8s"));
    demo.start();
    try {
      var client = java.net.http.HttpClient.newHttpClient();
      var ready =
          new java.util.concurrent.atomic.AtomicReference<java.net.http.HttpResponse<String>>();
      Await.until(
          "the demo's readiness probe answers 200",
          Duration.ofSeconds(30),
          () -> {
            ready.set(
                client.send(
                    java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://127.0.0.1:" + free + "/health/ready"))
                        .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()));
            return ready.get().statusCode() == 200;
          });
      var response = ready.get();
      assertThat(response).isNotNull();
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body())
          .contains("\"migrations\"")
          .contains("\"pool\"")
          .contains("\"db.breaker\"")
          .contains("\"state\" : \"CLOSED\"");
    } finally {
      demo.join(30_000);
    }
  }

  @Test
  void load_runsTheDemoUnderBallastLoad_andWritesTheReport(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws SQLException {
    // a database of its own: the other tests expect to seed theirs
    var database = PG.databaseName() + "_load";
    PG.execute("create database " + database);
    try {
      var code =
          run(
              Map.of(
                  "DATABASE_URL",
                  PG.databaseUrl().replace("/" + PG.databaseName(), "/" + database),
                  "BALLAST_ADMIN_ENABLED",
                  "false",
                  "REDIS_URL",
                  REDIS.url(),
                  "CACHE_NAMESPACE",
                  REDIS.keyPrefix()),
              "load",
              "--rate",
              "50",
              "--duration",
              "3s",
              "--threshold",
              "error_rate<0.1%",
              "--threshold",
              "hit_ratio>10%",
              "--out",
              dir.toString());
      var text = out.toString(StandardCharsets.UTF_8);
      assertThat(code).as(text + err).isZero();
      assertThat(text)
          .contains("io.ballast.examples.DemoScenario, profile load: 150 requests")
          .containsPattern("cache hit ratio: \\d+\\.\\d %")
          .containsPattern("error_rate<0.1% +held");
      assertThat(dir.resolve("load-report.html")).exists();
      assertThat(dir.resolve("load-report.json")).content().contains("select sum(\\\"total\\\")");
    } finally {
      PG.execute("drop database if exists " + database + " with (force)");
    }
  }

  @Test
  void badArguments_printUsageAndExitTwo() {
    assertThat(run(Map.of(), "serve")).isEqualTo(2);
    assertThat(run(Map.of(), "demo", "--duration", "soon")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains(Demo.USAGE)
        .contains(
            "--duration must be a whole number with an optional unit ms, s, m or h, but was soon");
  }

  @Test
  void badSetting_isReportedWithoutAStackTrace() {
    assertThat(run(Map.of("DATABASE_URL", "postgresql://u:secret@h/d?connection_limit=-5"), "demo"))
        .isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "Bad setting: connection_limit must be between 1 and"
                + " 1000, but was -5 (from DATABASE_URL)"
                + System.lineSeparator());
  }

  @Test
  void parseDuration_acceptsUnits() {
    assertThat(Demo.parseDuration("1500ms")).isEqualTo(Duration.ofMillis(1500));
    assertThat(Demo.parseDuration("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(Demo.parseDuration("7")).isEqualTo(Duration.ofSeconds(7));
    assertThat(Demo.parseDuration("-1s")).isNull();
  }

  /**
   * Given both URLs, the demo runs on a primary and a real streaming replica: the readiness lists
   * the replica, its write is read back at once, and reads without a position use the replica.
   */
  @Test
  void demo_onAPrimaryAndAReplica_readsItsOwnWriteAndUsesTheReplica() throws Exception {
    try (var servers = DemoServers.start()) {
      var primary = servers.primary();
      var replica = servers.replica();
      var code =
          run(
              Map.of(
                  "DATABASE_URL",
                  primary.databaseUrl("demo"),
                  "DATABASE_REPLICA_URLS",
                  replica.databaseUrl("demo"),
                  "DB_REPLICA_MAX_LAG_MS",
                  "60000",
                  "DB_REPLICA_MAX_LAG_BYTES",
                  "1000000000",
                  "BALLAST_ADMIN_ENABLED",
                  "false",
                  "REDIS_ENABLED",
                  "false"),
              "demo",
              "--duration",
              "0");
      var text = out.toString(StandardCharsets.UTF_8);
      assertThat(code).as(text + err).isZero();
      assertThat(text)
          .contains(
              "ReplicaSettings{replicas=[replica-1=postgresql://****@127.0.0.1:" + replica.port())
          .contains("Replicas: [replica-1 USABLE]")
          .containsPattern(
              "Replica reads: a write at WAL position [0-9A-F]+/[0-9A-F]+, then 'customer 42 read back on ")
          .contains(
              "Replica reads: 100 reads without a position, 100 on a replica, 0 on the primary")
          .containsPattern("Readiness: READY \\[.*replica:replica-1=up.*\\]")
          .contains("Stopped cleanly.");
    }
  }
}
