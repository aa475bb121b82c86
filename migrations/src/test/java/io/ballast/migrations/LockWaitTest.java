package io.ballast.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ballast.core.LifecycleException;
import io.ballast.core.admin.AdminModule;
import io.ballast.core.admin.AdminSettings;
import io.ballast.testkit.Await;
import io.ballast.testkit.PostgresExtension;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * Regression: starting while an application transaction held a lock on a table that a migration
 * needed, start-up waited as long as the lock was held (for ever if it never ended), logging
 * nothing, with no liveness served. Now each attempt waits at most the statement lock timeout, the
 * wait is logged with the holder, liveness answers meanwhile, and the whole wait is bounded.
 */
class LockWaitTest {
  /** A literal in the holder's statement; it must never reach a log. */
  static final String HOLDER_LITERAL = "card-4111-secret";

  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  @RegisterExtension final MigrationFixture db = new MigrationFixture(PG);

  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger(FlywayMigrations.class);
  private Connection holder;
  private int holderPid;

  @BeforeEach
  void tableAndAHolder() throws Exception {
    logs.start();
    logger.addAppender(logs);
    db.file(
        "V1__orders.sql",
        "create table orders (id int primary key, note text);\n"
            + "insert into orders select g, 'n' || g from generate_series(1, 1000) g;");
    db.start().close();
    holder = PG.connect();
    try (var s = holder.createStatement()) {
      s.execute("set search_path = " + db.schema);
      holder.setAutoCommit(false);
      try (var rs = s.executeQuery("select pg_backend_pid()")) {
        rs.next();
        holderPid = rs.getInt(1);
      }
      // last, so pg_stat_activity shows it as the holder's query
      s.execute(
          "update orders set note = '"
              + HOLDER_LITERAL
              + "' where id = 1"); // an application transaction left open
    }
  }

  @AfterEach
  void release() throws Exception {
    logger.detachAppender(logs);
    if (!holder.isClosed()) {
      holder.rollback();
      holder.close();
    }
  }

  private boolean logged(String text) {
    return logs.list.stream().anyMatch(e -> e.getFormattedMessage().contains(text));
  }

  @Test
  void
      concurrentIndexWaitingForAnOpenTransaction_logsTheHolder_servesLiveness_andFinishesOnceItEnds()
          throws Exception {
    db.file("V2__orders_note.sql", "create index concurrently orders_note_idx on orders (note);");
    int port;
    try (var socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    var settings =
        db.settings()
            .statementLockTimeout(Duration.ofMillis(500))
            .lockTimeout(Duration.ofSeconds(60))
            .build();
    var starting =
        CompletableFuture.supplyAsync(
            () -> db.start(settings, new AdminModule(AdminSettings.builder().port(port).build())));
    try {
      Await.until(
          "the wait is logged with its holder",
          Duration.ofSeconds(20),
          () -> logged("pid " + holderPid));
      assertThat(logs.list)
          .anyMatch(
              e ->
                  e.getFormattedMessage().startsWith("Migration set 'app': V2 (")
                      && e.getFormattedMessage()
                          .contains("is waiting for older transactions to end")
                      && e.getFormattedMessage().contains("pid " + holderPid + " (user "));
      assertThat(logs.list)
          .as("the holder's query (and its literals) is never logged")
          .noneMatch(e -> e.getFormattedMessage().contains(HOLDER_LITERAL));
      var http = HttpClient.newHttpClient();
      var live =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/live"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(live.statusCode()).as(live.body()).isEqualTo(200);
      var ready =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(ready.body())
          .contains("\"status\" : \"STARTING\"")
          .contains("starting: migrations");
      assertThat(starting).isNotDone();

      holder.commit();
      try (var app = starting.get(30, TimeUnit.SECONDS)) {
        assertThat(
                db.value(
                    "select indisvalid from pg_index where indexrelid = to_regclass('orders_note_idx')"))
            .isEqualTo(Boolean.TRUE);
        assertThat(app.get(Migrations.class).invalidIndexes()).isEmpty();
        // nothing the attempts set is left on the pool's connections
        try (var c = app.get(javax.sql.DataSource.class).getConnection();
            var s = c.createStatement();
            var rs =
                s.executeQuery(
                    "select current_setting('lock_timeout'), current_setting('application_name')")) {
          rs.next();
          assertThat(rs.getString(1)).isEqualTo("0");
          assertThat(rs.getString(2)).isEqualTo("ballast");
        }
        var readyNow =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
        assertThat(readyNow.statusCode()).isEqualTo(200);
      }
    } finally {
      if (!starting.isDone()) {
        holder.rollback();
      }
      starting
          .handle(
              (app, e) -> {
                if (app != null) {
                  app.close();
                }
                return null;
              })
          .get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void lockNeverReleased_failsTheStartWithinItsBudget_namingTheHolder() {
    db.file("V2__orders_flag.sql", "alter table orders add column flag boolean;");
    var settings =
        db.settings()
            .statementLockTimeout(Duration.ofMillis(300))
            .lockTimeout(Duration.ofSeconds(3))
            .build();
    var t0 = System.nanoTime();
    assertThatThrownBy(() -> db.start(settings).close())
        .isInstanceOf(LifecycleException.class)
        .hasMessageContaining(
            "Migration set 'app' could not take the locks it needs: V2 (V2__orders_flag.sql) waited")
        .hasMessageContaining("a lock on orders held by pid " + holderPid + " (user ")
        .hasMessageContaining(
            "start-up waits at most 3 s (BALLAST_MIGRATIONS_LOCK_TIMEOUT_SECONDS)");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(15));
    assertThat(logged("is waiting for a lock on orders held by pid " + holderPid)).isTrue();
    assertThat(logs.list)
        .as("the holder's query (and its literals) is never logged")
        .noneMatch(e -> e.getFormattedMessage().contains(HOLDER_LITERAL));
  }
}
