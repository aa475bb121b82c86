package io.ballast.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import io.ballast.core.Ballast;
import io.ballast.testkit.PostgresExtension;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.exception.DataAccessException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RequestContextTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  private static final String SETTINGS =
      "select current_setting('ballast.user_id', true) as user_id, "
          + "current_setting('ballast.tenant_id', true) as tenant_id, current_setting('ballast.role', true) as role, "
          + "current_setting('ballast.client_ip', true) as client_ip, current_setting('ballast.request_id', true) as request_id";

  private static Ballast app;
  private static DSLContext db;

  @BeforeAll
  static void start() throws Exception {
    var role = AuditFixture.appRole(PG, "app");
    app = AuditFixture.start(role.databaseUrl(), AuditFixture.manualSealing().build(), 2);
    db = app.get(DSLContext.class);
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
  }

  private static Record settings(DSLContext dsl) {
    return dsl.fetchOne(SETTINGS);
  }

  private static String empty(String s) {
    return s == null ? "" : s;
  }

  private static long applied() {
    return app.get(MetricRegistry.class).counter("ballast.audit.context.applied").getCount();
  }

  @Test
  void autocommitStatement_seesEveryField() {
    var acting =
        ActingContext.builder()
            .userId("u1")
            .tenantId("t1")
            .role("member")
            .clientIp("10.1.2.3")
            .requestId("req-1")
            .build();
    try (var scope = RequestContext.open(acting)) {
      var r = settings(db);
      assertThat(r.get("user_id", String.class)).isEqualTo("u1");
      assertThat(r.get("tenant_id", String.class)).isEqualTo("t1");
      assertThat(r.get("role", String.class)).isEqualTo("member");
      assertThat(r.get("client_ip", String.class)).isEqualTo("10.1.2.3");
      assertThat(r.get("request_id", String.class)).isEqualTo("req-1");
    }
  }

  @Test
  void transaction_appliesTheContextOnceBeforeItsFirstStatement() {
    try (var scope = RequestContext.open(ActingContext.of("u2", "t2"))) {
      long before = applied();
      var seen =
          db.transactionResult(
              cfg -> {
                var tx = cfg.dsl();
                var xid = tx.fetchValue("select txid_current()");
                var r = settings(tx);
                var sameTx = tx.fetchValue("select txid_current()");
                assertThat(sameTx).isEqualTo(xid);
                return r.get("tenant_id", String.class)
                    + "/"
                    + settings(tx).get("user_id", String.class);
              });
      assertThat(seen).isEqualTo("t2/u2");
      assertThat(applied() - before).isEqualTo(1);
    }
  }

  @Test
  void explicitForm_appliesItsContextWhateverTheThreadHasOpen() {
    var tenantA = RequestContext.as(db, ActingContext.of("ua", "a"));
    assertThat(settings(tenantA).get("tenant_id", String.class)).isEqualTo("a");
    try (var scope = RequestContext.open(ActingContext.of("ub", "b"))) {
      assertThat(settings(tenantA).get("tenant_id", String.class)).isEqualTo("a");
      assertThat(settings(db).get("tenant_id", String.class)).isEqualTo("b");
      var inTx = tenantA.transactionResult(cfg -> settings(cfg.dsl()).get("user_id", String.class));
      assertThat(inTx).isEqualTo("ua");
    }
  }

  @Test
  void afterTheScopeCloses_aStatementSeesNoContext_andNothingIsLeftOnTheSession() throws Exception {
    try (var scope = RequestContext.open(ActingContext.of("u3", "t3"))) {
      assertThat(settings(db).get("tenant_id", String.class)).isEqualTo("t3");
      db.transaction(cfg -> cfg.dsl().fetch(SETTINGS));
    }
    assertThat(RequestContext.current()).isEmpty();
    for (int i = 0; i < 4; i++) { // every connection of the pool of 2, several times
      var r = settings(db);
      assertThat(empty(r.get("user_id", String.class))).isEmpty();
      assertThat(empty(r.get("tenant_id", String.class))).isEmpty();
    }
    // straight from the pool, under Ballast's listeners: no session-level value either
    try (var c = app.get(DataSource.class).getConnection();
        var s = c.createStatement();
        var rs =
            s.executeQuery(
                "select current_setting('ballast.tenant_id', true), "
                    + "(select count(*) from pg_settings where name like 'ballast.%' and source = 'session')")) {
      rs.next();
      assertThat(empty(rs.getString(1))).isEmpty();
      assertThat(rs.getLong(2)).isZero();
    }
  }

  @Test
  void scopesNest_andCloseInReverseOrder() {
    var outer = RequestContext.open(ActingContext.of("outer", "t"));
    var inner = RequestContext.open(ActingContext.of("inner", "t"));
    assertThat(settings(db).get("user_id", String.class)).isEqualTo("inner");
    assertThatThrownBy(outer::close)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("must be closed in reverse order");
    inner.close();
    assertThat(settings(db).get("user_id", String.class)).isEqualTo("outer");
    outer.close();
    assertThat(RequestContext.current()).isEmpty();
  }

  @Test
  void failingStatementInItsImplicitTransaction_rollsBack_andLeavesTheConnectionInAutocommit()
      throws Exception {
    try (var scope = RequestContext.open(ActingContext.of("u4", "t4"))) {
      assertThatThrownBy(() -> db.execute("select 1 / 0"))
          .isInstanceOf(DataAccessException.class)
          .hasMessageContaining("division by zero");
      assertThat(settings(db).get("tenant_id", String.class)).isEqualTo("t4");
    }
    for (int i = 0; i < 4; i++) {
      try (var c = app.get(DataSource.class).getConnection()) {
        assertThat(c.getAutoCommit()).isTrue();
      }
    }
  }

  @Test
  void implicitTransactionCommitsTheWrite() {
    db.execute("create table if not exists implicit_writes (id int primary key, who text)");
    try (var scope = RequestContext.open(ActingContext.of("writer", "t5"))) {
      db.execute(
          "insert into implicit_writes values (1, current_setting('ballast.user_id', true))");
    }
    assertThat(db.fetchValue("select who from implicit_writes where id = 1")).isEqualTo("writer");
  }

  @Test
  void rolledBackSavepoint_doesNotTakeTheContextWithIt() {
    try (var scope = RequestContext.open(ActingContext.of("u6", "t6"))) {
      var after =
          db.transactionResult(
              cfg -> {
                try {
                  cfg.dsl()
                      .transaction(
                          nested -> {
                            assertThat(settings(nested.dsl()).get("tenant_id", String.class))
                                .isEqualTo("t6");
                            throw new IllegalStateException("roll the savepoint back");
                          });
                } catch (IllegalStateException expected) {
                  // the savepoint, and the settings made in it, are gone
                }
                return settings(cfg.dsl()).get("tenant_id", String.class);
              });
      assertThat(after).isEqualTo("t6");
    }
  }

  /**
   * Thousands of interleaved units of work on a pool of 2: each sees its own context and nothing
   * else.
   */
  @Test
  void interleavedUnitsOfWork_onASmallPool_neverSeeAnotherContext() throws Exception {
    int threads = 8;
    int units = 500;
    var mismatches = Collections.newSetFromMap(new ConcurrentHashMap<String, Boolean>());
    var done = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        futures.add(
            pool.submit(
                () -> {
                  var random = ThreadLocalRandom.current();
                  for (int i = 0; i < units; i++) {
                    var tenant = "tenant-" + random.nextInt(20);
                    var user = "user-" + thread + "-" + i;
                    var acting =
                        ActingContext.builder()
                            .userId(user)
                            .tenantId(tenant)
                            .requestId(thread + ":" + i)
                            .build();
                    switch (i % 4) {
                      case 0 -> {
                        try (var scope = RequestContext.open(acting)) {
                          check(settings(db), acting, mismatches);
                        }
                      }
                      case 1 -> {
                        try (var scope = RequestContext.open(acting)) {
                          db.transaction(
                              cfg -> {
                                check(settings(cfg.dsl()), acting, mismatches);
                                check(settings(cfg.dsl()), acting, mismatches);
                              });
                        }
                      }
                      case 2 -> check(settings(RequestContext.as(db, acting)), acting, mismatches);
                      default -> {
                        var r = settings(db); // no context at all
                        if (!empty(r.get("user_id", String.class)).isEmpty()
                            || !empty(r.get("tenant_id", String.class)).isEmpty()) {
                          mismatches.add(
                              "no context, but saw " + r.get("user_id") + "/" + r.get("tenant_id"));
                        }
                      }
                    }
                    done.incrementAndGet();
                  }
                  return null;
                }));
      }
      for (var f : futures) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(done.get()).isEqualTo(threads * units);
    assertThat(mismatches).isEmpty();
  }

  private static void check(Record r, ActingContext acting, java.util.Set<String> mismatches) {
    if (!acting.userId().equals(r.get("user_id", String.class))
        || !acting.tenantId().equals(r.get("tenant_id", String.class))
        || !acting.requestId().equals(r.get("request_id", String.class))) {
      mismatches.add(
          acting
              + " saw "
              + r.get("user_id")
              + "/"
              + r.get("tenant_id")
              + "/"
              + r.get("request_id"));
    }
  }

  @Test
  void actingContext_refusesBadValues() {
    assertThatThrownBy(() -> ActingContext.builder().tenantId("t").build())
        .hasMessage("user_id of an acting context must be set");
    assertThatThrownBy(() -> ActingContext.builder().userId(""))
        .hasMessage(
            "user_id of an acting context must be 1 to 256 characters long, but was 0 characters long");
    assertThatThrownBy(() -> ActingContext.builder().tenantId("a\nb"))
        .hasMessage(
            "tenant_id of an acting context must not contain control characters, but had one at index 1");
    assertThatThrownBy(() -> RequestContext.open(null))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
