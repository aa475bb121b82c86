package io.ballast.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.settings.AppEnv;
import io.ballast.migrations.MigrationMode;
import io.ballast.migrations.MigrationSettings;
import io.ballast.migrations.MigrationsModule;
import io.ballast.pool.Pool;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.testkit.PgBouncer;
import io.ballast.testkit.PostgresExtension;
import io.ballast.testkit.TestRole;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.jooq.DSLContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The acting context behind a real PgBouncer in transaction mode, with a server pool smaller than
 * the application's. Regression: without {@code pgbouncer=true}, pgjdbc's server-side prepared
 * BEGIN/COMMIT failed behind the bouncer, a transaction was never ended, and the next borrower read
 * inside it, under another tenant's transaction-local context (11 800 leaked rows in 100 000
 * reads). With the flag, or without it now that the pool detects the bouncer and never lends a
 * connection inside a transaction: not one row of another tenant, and no failed read.
 */
class PgBouncerContextTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  private static final List<String> TENANTS = List.of("acme", "globex");
  private static TestRole role;

  @BeforeAll
  static void schemaAndRows() throws Exception {
    role = AuditFixture.appRole(PG, "app");
    try (var app =
        AuditFixture.start(role.databaseUrl(), AuditFixture.manualSealing().build(), 2)) {
      var db = app.get(DSLContext.class);
      RowSecurity.table("orders").tenantColumn("tenant_id").build().apply(db);
      for (int i = 0; i < 200; i++) {
        var tenant = TENANTS.get(i % 2);
        RequestContext.as(db, ActingContext.of("seed", tenant))
            .execute(
                "insert into orders (tenant_id, owner_id, amount) values (?, 'seed', ?)",
                tenant,
                i);
      }
    }
  }

  @ParameterizedTest(name = "pgbouncer={0}")
  @ValueSource(booleans = {true, false})
  void mixedReadsOfTwoTenantsAndNoContext_leakNothing_withOrWithoutTheFlag(boolean flag)
      throws Exception {
    try (var bouncer =
            PgBouncer.builder(PG)
                .poolMode(PgBouncer.PoolMode.TRANSACTION)
                .poolSize(2)
                .user(role.name(), role.password())
                .start();
        var app =
            Ballast.start(
                new CoreModule(CoreSettings.defaults()),
                new PoolModule(
                    PoolSettings.builder()
                        .url(bouncer.databaseUrl(role.name(), role.password()))
                        .connectionLimit(6)
                        .pgbouncer(flag)
                        .build()),
                new MigrationsModule(
                    MigrationSettings.builder(AppEnv.DEVELOPMENT).mode(MigrationMode.OFF).build()),
                new AuditModule(AuditFixture.manualSealing().build()))) {
      assertThat(app.get(Pool.class).pgbouncerMode()).isTrue();
      var db = app.get(DSLContext.class);
      var leaks = new ConcurrentLinkedQueue<String>();
      var failures = new ConcurrentLinkedQueue<String>();
      var reads = new AtomicLong();
      var executor = Executors.newFixedThreadPool(6);
      try {
        var futures = new ArrayList<Future<?>>();
        for (int t = 0; t < 6; t++) {
          futures.add(
              executor.submit(
                  () -> {
                    var random = ThreadLocalRandom.current();
                    for (int unit = 0; unit < 1_500; unit++) {
                      var pick = random.nextInt(3);
                      var tenant = pick < 2 ? TENANTS.get(pick) : null;
                      try {
                        if (tenant == null) {
                          read(
                              db, null,
                              leaks); // no context: RLS shows nothing, whatever ran before on the
                          // connection
                        } else if (unit % 3 == 0) {
                          read(
                              RequestContext.as(db, ActingContext.of("u" + unit, tenant)),
                              tenant,
                              leaks);
                        } else {
                          try (var scope =
                              RequestContext.open(ActingContext.of("u" + unit, tenant))) {
                            db.transaction(
                                cfg -> {
                                  for (int i = 0; i < 4; i++) {
                                    read(cfg.dsl(), tenant, leaks);
                                  }
                                });
                          }
                        }
                        reads.incrementAndGet();
                      } catch (RuntimeException e) {
                        failures.add(e.toString());
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
      assertThat(failures).as("failed units (prepared-statement errors and the like)").isEmpty();
      assertThat(leaks).as("rows of another tenant").isEmpty();
      assertThat(reads.get()).isEqualTo(9_000);
    }
  }

  private static void read(DSLContext dsl, String tenant, ConcurrentLinkedQueue<String> leaks) {
    var seen =
        dsl.fetch(
                "select tenant_id from orders where amount % 7 = ?",
                ThreadLocalRandom.current().nextInt(7))
            .getValues(0, String.class);
    for (var t : seen) {
      if (!t.equals(tenant)) {
        leaks.add((tenant == null ? "a read with no context" : tenant) + " saw a row of " + t);
      }
    }
    if (tenant != null && seen.isEmpty()) {
      leaks.add(tenant + " saw none of its rows");
    }
  }
}
