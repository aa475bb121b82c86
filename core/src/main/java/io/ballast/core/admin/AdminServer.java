package io.ballast.core.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.google.inject.Provider;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.ballast.core.HealthRegistry;
import io.ballast.core.HealthReport;
import io.ballast.core.Lifecycle;
import io.ballast.core.Managed;
import io.ballast.core.ProbeKind;
import io.ballast.core.monitor.QueryMonitor;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP server (JDK {@code HttpServer}, no servlet container), started first by the
 * lifecycle (phase {@code PHASE_ADMIN}) so that {@code /health/live} answers while the rest starts;
 * until every service has started, the other health endpoints answer 503 with {@code "status":
 * "STARTING"} and the service being started (a migration, say). Every body is JSON except {@code
 * /metrics}; health endpoints answer 200 when healthy and 503 when not, naming each check and why
 * it failed. A check that still serves with less (the cache without Redis) is {@code DEGRADED}: the
 * status says so, the answer stays 200.
 *
 * <table>
 *   <caption>Endpoints</caption>
 *   <tr><td>{@code /health}, {@code /health/ready}</td><td>LIVE and READY checks</td></tr>
 *   <tr><td>{@code /health/live}</td><td>LIVE checks (never the database)</td></tr>
 *   <tr><td>{@code /health/deep}</td><td>every check, including ones that write</td></tr>
 *   <tr><td>{@code /health/db}</td><td>the database's and the pool's checks, with details</td></tr>
 *   <tr><td>{@code /health/cache}</td><td>the cache's checks (404 without the cache module)</td></tr>
 *   <tr><td>{@code /health/queries}</td><td>query statistics: totals, percentiles, top patterns, recent slow
 *       queries, N+1 reports; fingerprints only, never literals or bind values</td></tr>
 *   <tr><td>{@code /metrics}</td><td>every module's designed series and the JVM's, through the official
 *       Prometheus client: its text format, or OpenMetrics when the {@code Accept} header asks</td></tr>
 * </table>
 *
 * <p>Bound to 127.0.0.1 unless configured otherwise; with a token, every request needs {@code
 * Authorization: Bearer <token>}.
 */
public final class AdminServer implements Managed {
  private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);

  private final AdminSettings settings;
  private final HealthRegistry health;
  private final QueryMonitor monitor;
  private final PrometheusRegistry prometheus;
  private final ObjectMapper json =
      new ObjectMapper()
          .registerModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
  private final ExpositionFormats formats = ExpositionFormats.init();
  private HttpServer server;
  private ExecutorService executor;

  private final Provider<Lifecycle> lifecycle;

  AdminServer(
      AdminSettings settings,
      HealthRegistry health,
      QueryMonitor monitor,
      PrometheusRegistry prometheus,
      Provider<Lifecycle> lifecycle) {
    this.lifecycle = lifecycle;
    this.settings = settings;
    this.health = health;
    this.monitor = monitor;
    this.prometheus = prometheus;
  }

  @Override
  public String name() {
    return "admin-server";
  }

  @Override
  public int phase() {
    return PHASE_ADMIN;
  }

  /** The port bound, once started (useful with port 0). */
  public int port() {
    if (server == null) {
      throw new IllegalStateException("the admin server is not running");
    }
    return server.getAddress().getPort();
  }

  @Override
  public void start() throws IOException {
    if (!settings.enabled()) {
      LOG.info("Admin server disabled ({}=false)", AdminSettings.ENABLED_VARIABLE);
      return;
    }
    server = HttpServer.create(new InetSocketAddress(settings.bind(), settings.port()), 32);
    executor =
        Executors.newFixedThreadPool(
            4,
            r -> {
              var t = new Thread(r, "ballast-admin");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
    LOG.info(
        "Admin server listening on http://{}:{}{}",
        settings.bind(),
        port(),
        settings.token() == null ? "" : " (bearer token required)");
  }

  @Override
  public void stop(Duration grace) {
    if (server != null) {
      server.stop(0);
      executor.shutdownNow();
      server = null;
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!authorised(exchange)) {
        exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer");
        send(exchange, 401, Map.of("error", "missing or wrong bearer token"));
        return;
      }
      var method = exchange.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().add("Allow", "GET, HEAD");
        send(exchange, 405, Map.of("error", "method " + method + " not allowed"));
        return;
      }
      var path = exchange.getRequestURI().getPath().replaceAll("/+$", "");
      var state = lifecycle.get().state();
      if (state == Lifecycle.State.STARTING
          && path.startsWith("/health")
          && !path.equals("/health/live")) {
        starting(exchange);
        return;
      }
      switch (path) {
        case "/health", "/health/ready" -> health(exchange, health.run(ProbeKind.READY));
        case "/health/live" -> health(exchange, health.run(ProbeKind.LIVE));
        case "/health/deep" -> health(exchange, health.run(ProbeKind.DEEP));
        case "/health/db" ->
            health(
                exchange, health.run(ProbeKind.DEEP, named("db", "pool", "migrations", "indexes")));
        case "/health/cache" ->
            scoped(exchange, named("cache", "redis"), "the cache module is not installed");
        case "/health/queries" -> queries(exchange);
        case "/metrics" -> metrics(exchange);
        default ->
            send(
                exchange,
                404,
                Map.of(
                    "error",
                    "no endpoint " + path,
                    "endpoints",
                    List.of(
                        "/health",
                        "/health/live",
                        "/health/ready",
                        "/health/deep",
                        "/health/db",
                        "/health/cache",
                        "/health/queries",
                        "/metrics")));
      }
    } catch (RuntimeException e) {
      LOG.warn("Admin request {} failed", exchange.getRequestURI().getPath(), e);
    }
  }

  /**
   * Readiness (and every check but liveness) while the other services start: 503, naming the one
   * starting.
   */
  private void starting(HttpExchange exchange) throws IOException {
    var body = new LinkedHashMap<String, Object>();
    body.put("status", "STARTING");
    var now = lifecycle.get().starting();
    body.put("message", now == null ? "starting" : "starting: " + now);
    send(exchange, 503, body);
  }

  private boolean authorised(HttpExchange exchange) {
    if (settings.token() == null) {
      return true;
    }
    var header = exchange.getRequestHeaders().getFirst("Authorization");
    var expected = ("Bearer " + settings.token()).getBytes(StandardCharsets.UTF_8);
    return header != null
        && MessageDigest.isEqual(expected, header.getBytes(StandardCharsets.UTF_8));
  }

  private static Predicate<String> named(String... prefixes) {
    return name -> {
      for (var p : prefixes) {
        if (name.equals(p) || name.startsWith(p + ".") || name.startsWith(p + ":")) {
          return true;
        }
      }
      return false;
    };
  }

  private void scoped(HttpExchange exchange, Predicate<String> names, String whenNone)
      throws IOException {
    if (health.names().stream().noneMatch(names)) {
      send(exchange, 404, Map.of("error", "no such checks: " + whenNone));
      return;
    }
    health(exchange, health.run(ProbeKind.DEEP, names));
  }

  private void health(HttpExchange exchange, HealthReport report) throws IOException {
    var body = new LinkedHashMap<String, Object>();
    body.put("status", report.status());
    body.put("kind", report.kind());
    var checks = new LinkedHashMap<String, Object>();
    for (var c : report.checks()) {
      var check = new LinkedHashMap<String, Object>();
      check.put("status", c.status());
      check.put("kind", c.kind());
      check.put("message", c.message());
      check.put("durationMs", c.duration().toNanos() / 1e6);
      if (!c.details().isEmpty()) {
        check.put("details", c.details());
      }
      checks.put(c.name(), check);
    }
    body.put("checks", checks);
    send(exchange, report.healthy() ? 200 : 503, body);
  }

  private void queries(HttpExchange exchange) throws IOException {
    var body = new LinkedHashMap<String, Object>();
    body.put("statistics", monitor.statistics());
    body.put("recentSlowQueries", monitor.recentSlowQueries());
    body.put("recentNPlusOne", monitor.recentNPlusOne());
    body.put("patternMetrics", monitor.patternMetricNames());
    send(exchange, 200, body);
  }

  /**
   * The Prometheus text format, or OpenMetrics when the scraper's {@code Accept} header asks for
   * it. A scraper that prefers the protobuf format (Prometheus with native histograms) gets
   * OpenMetrics or text instead, which it also accepts: the protobuf writer is not on the class
   * path.
   */
  private void metrics(HttpExchange exchange) throws IOException {
    var accept = exchange.getRequestHeaders().getFirst("Accept");
    var writer = formats.findWriter(accept);
    if (!writer.isAvailable()) {
      var openMetrics = formats.getOpenMetricsTextFormatWriter();
      writer = openMetrics.accepts(accept) ? openMetrics : formats.getPrometheusTextFormatWriter();
    }
    var out = new ByteArrayOutputStream();
    writer.write(out, prometheus.scrape());
    exchange.getResponseHeaders().add("Content-Type", writer.getContentType());
    respond(exchange, 200, out.toByteArray());
  }

  private void send(HttpExchange exchange, int status, Object body) throws IOException {
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    respond(exchange, status, json.writerWithDefaultPrettyPrinter().writeValueAsBytes(body));
  }

  private static void respond(HttpExchange exchange, int status, byte[] bytes) throws IOException {
    var head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      exchange.getResponseBody().write(bytes);
    }
  }
}
