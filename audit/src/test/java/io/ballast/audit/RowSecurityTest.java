package io.ballast.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.core.Ballast;
import io.ballast.testkit.PostgresExtension;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.jooq.DSLContext;
import org.jooq.exception.DataAccessException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Row-level security against a real PostgreSQL, as a non-superuser application role that owns the
 * tables.
 */
class RowSecurityTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  private static final List<String> TENANTS = List.of("acme", "globex", "initech", "umbrella");
  private static final ActingContext ADMIN =
      ActingContext.builder().userId("root-user").role("admin").build();

  private static Ballast app;
  private static DSLContext db;

  /** order id → tenant, as written. */
  private static final Map<Long, String> OWNERS = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    var role = AuditFixture.appRole(PG, "app");
    app = AuditFixture.start(role.databaseUrl(), AuditFixture.manualSealing().build(), 3);
    db = app.get(DSLContext.class);
    RowSecurity.table("orders").tenantColumn("tenant_id").build().apply(db);
    RowSecurity.table("public.notes").ownerColumn("owner_id").adminRole(null).build().apply(db);
    for (int i = 0; i < 400; i++) {
      var tenant = TENANTS.get(i % TENANTS.size());
      var id =
          RequestContext.as(db, ActingContext.of("seed", tenant))
              .fetchOne(
                  "insert into orders (tenant_id, owner_id, amount) values (?, 'seed', ?) returning id",
                  tenant,
                  i)
              .get(0, Long.class);
      OWNERS.put(id, tenant);
    }
    for (var user : List.of("ann", "bob")) {
      for (int i = 0; i < 3; i++) {
        RequestContext.as(db, ActingContext.of(user, "acme"))
            .execute("insert into notes (owner_id, body) values (?, ?)", user, user + " note " + i);
      }
    }
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
  }

  private static long count(DSLContext dsl, String table) {
    return dsl.fetchOne("select count(*) from " + table).get(0, Long.class);
  }

  @Test
  void tenantIsolation_eachTenantSeesOnlyItsRows() {
    for (var tenant : TENANTS) {
      var asTenant = RequestContext.as(db, ActingContext.of("u", tenant));
      var seen = asTenant.fetch("select distinct tenant_id from orders").getValues(0, String.class);
      assertThat(seen).containsExactly(tenant);
      assertThat(count(asTenant, "orders")).isEqualTo(100);
    }
  }

  @Test
  void ownerIsolation_eachUserSeesOnlyTheirNotes_evenWithinOneTenant() {
    var ann = RequestContext.as(db, ActingContext.of("ann", "acme"));
    assertThat(ann.fetch("select distinct owner_id from notes").getValues(0, String.class))
        .containsExactly("ann");
    assertThat(count(ann, "notes")).isEqualTo(3);
    assertThat(ann.execute("update notes set body = 'mine now' where owner_id = 'bob'")).isZero();
  }

  @Test
  void adminRole_seesEveryTenant_butOnlyWhereThePolicyNamesIt() {
    var admin = RequestContext.as(db, ADMIN);
    assertThat(count(admin, "orders")).isEqualTo(OWNERS.size());
    assertThat(count(admin, "notes")).isZero(); // notes has no admin role
  }

  @Test
  void withoutAContext_noRowsAreVisible_andWritesAreRefused() {
    assertThat(count(db, "orders")).isZero();
    assertThat(count(db, "notes")).isZero();
    assertThat(db.execute("update orders set amount = 0")).isZero();
    assertThat(db.execute("delete from orders")).isZero();
    assertThatThrownBy(
            () ->
                db.execute(
                    "insert into orders (tenant_id, owner_id, amount) values ('acme', 'x', 1)"))
        .isInstanceOf(DataAccessException.class)
        .hasMessageContaining("new row violates row-level security policy for table \"orders\"");
    assertThat(count(RequestContext.as(db, ADMIN), "orders")).isEqualTo(OWNERS.size());
  }

  @Test
  void aTenantCannotWriteAnotherTenantsRows() {
    var acme = RequestContext.as(db, ActingContext.of("u", "acme"));
    assertThatThrownBy(
            () ->
                acme.execute(
                    "insert into orders (tenant_id, owner_id, amount) values ('globex', 'u', 1)"))
        .hasMessageContaining("new row violates row-level security policy");
    assertThat(acme.execute("update orders set amount = -1 where tenant_id = 'globex'")).isZero();
    assertThat(acme.execute("delete from orders where tenant_id = 'globex'")).isZero();
    assertThatThrownBy(
            () ->
                acme.transaction(
                    cfg ->
                        cfg.dsl()
                            .execute(
                                "update orders set tenant_id = 'globex' where id = (select min(id) from orders)")))
        .hasMessageContaining("new row violates row-level security policy");
    assertThat(count(RequestContext.as(db, ActingContext.of("u", "globex")), "orders"))
        .isEqualTo(100);
  }

  @Test
  void ddl_enablesAndForcesRlsWithOnePolicy() {
    assertThat(
            RowSecurity.table("app.orders")
                .tenantColumn("tenant_id", "uuid")
                .ownerColumn("owner_id", "bigint")
                .adminRole("support")
                .build()
                .ddl())
        .containsExactly(
            "alter table \"app\".\"orders\" enable row level security",
            "alter table \"app\".\"orders\" force row level security",
            "drop policy if exists ballast_rls on \"app\".\"orders\"",
            "create policy ballast_rls on \"app\".\"orders\" for all using ((\"tenant_id\" = nullif(current_setting("
                + "'ballast.tenant_id', true), '')::uuid and \"owner_id\" = nullif(current_setting('ballast.user_id', true), "
                + "'')::bigint) or nullif(current_setting('ballast.role', true), '') = 'support') with check ((\"tenant_id\" "
                + "= nullif(current_setting('ballast.tenant_id', true), '')::uuid and \"owner_id\" = nullif(current_setting("
                + "'ballast.user_id', true), '')::bigint) or nullif(current_setting('ballast.role', true), '') = 'support')");
    assertThatThrownBy(() -> RowSecurity.table("orders").build())
        .hasMessage(
            "row-level security for table orders needs a tenant column, an owner column, or both");
    assertThatThrownBy(() -> RowSecurity.table("orders; drop table x"))
        .hasMessageStartingWith("table must be an SQL identifier");
    assertThatThrownBy(
            () -> RowSecurity.table("orders").tenantColumn("tenant_id", "text); drop table x; --"))
        .hasMessageStartingWith("column type must be an SQL type name");
    assertThatThrownBy(() -> RowSecurity.table("orders").tenantColumn("nope").build().apply(db))
        .hasMessageContaining("cannot protect table orders: it has no column nope");
  }

  /**
   * ≥ 100 000 reads across tenants on a reused pool of 3: not one row of another tenant, none
   * missing.
   */
  @Test
  void randomizedReadsAcrossTenants_leakNoRow() throws Exception {
    var ids = new ArrayList<>(new TreeSet<>(OWNERS.keySet()));
    long minId = ids.get(0);
    long maxId = ids.get(ids.size() - 1);
    var leaks = new ConcurrentLinkedQueue<String>();
    var reads = new AtomicLong();
    var rows = new AtomicLong();
    int threads = 4;
    var executor = Executors.newFixedThreadPool(threads);
    try {
      var futures = new ArrayList<Future<?>>();
      for (int t = 0; t < threads; t++) {
        futures.add(
            executor.submit(
                () -> {
                  var random = ThreadLocalRandom.current();
                  for (int unit = 0; unit < 2_500; unit++) {
                    var tenant = TENANTS.get(random.nextInt(TENANTS.size()));
                    var acting = ActingContext.of("reader-" + unit, tenant);
                    try (var scope = RequestContext.open(acting)) {
                      if (unit % 10 == 0) {
                        read(
                            db, tenant, minId, maxId, random, leaks, reads,
                            rows); // autocommit: implicit transaction
                      } else {
                        db.transaction(
                            cfg -> {
                              for (int i = 0; i < 11; i++) {
                                read(cfg.dsl(), tenant, minId, maxId, random, leaks, reads, rows);
                              }
                            });
                      }
                    }
                  }
                  return null;
                }));
      }
      for (var f : futures) {
        f.get();
      }
    } finally {
      executor.shutdownNow();
    }
    assertThat(reads.get()).isGreaterThanOrEqualTo(100_000);
    assertThat(rows.get()).isGreaterThan(reads.get()); // reads did return rows
    assertThat(leaks).isEmpty();
  }

  private static void read(
      DSLContext dsl,
      String tenant,
      long minId,
      long maxId,
      ThreadLocalRandom random,
      ConcurrentLinkedQueue<String> leaks,
      AtomicLong reads,
      AtomicLong rows) {
    long lo = random.nextLong(minId, maxId + 1);
    long hi = Math.min(maxId, lo + 20);
    var result = dsl.fetch("select id, tenant_id from orders where id between ? and ?", lo, hi);
    var expected = new TreeSet<Long>();
    for (long id = lo; id <= hi; id++) {
      if (tenant.equals(OWNERS.get(id))) {
        expected.add(id);
      }
    }
    var seen = new TreeSet<Long>();
    for (var r : result) {
      seen.add(r.get(0, Long.class));
      if (!tenant.equals(r.get(1, String.class))) {
        leaks.add(tenant + " saw order " + r.get(0) + " of " + r.get(1));
      }
    }
    if (!seen.equals(expected)) {
      leaks.add(tenant + " saw " + seen + " in [" + lo + ", " + hi + "], expected " + expected);
    }
    reads.incrementAndGet();
    rows.addAndGet(result.size());
  }
}
