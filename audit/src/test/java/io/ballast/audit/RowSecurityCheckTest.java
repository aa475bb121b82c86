package io.ballast.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.core.HealthRegistry;
import io.ballast.core.ProbeKind;
import io.ballast.core.ProbeStatus;
import io.ballast.core.settings.AppEnv;
import io.ballast.testkit.PostgresExtension;
import io.ballast.testkit.TestRole;
import java.sql.DriverManager;
import java.util.List;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The start-up check that row-level security binds the application's role, in each failing case.
 */
class RowSecurityCheckTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  private static TestRole app;

  @BeforeAll
  static void migrate() throws Exception {
    app = AuditFixture.appRole(PG, "app");
    try (var started =
        AuditFixture.start(app.databaseUrl(), AuditFixture.manualSealing().build(), 2)) {
      RowSecurity.table("orders")
          .tenantColumn("tenant_id")
          .build()
          .apply(started.get(org.jooq.DSLContext.class));
    }
  }

  private static AuditSettings.Builder production() {
    return AuditSettings.builder(AppEnv.PRODUCTION);
  }

  private static List<String> problemsAs(TestRole role, String... declared) throws Exception {
    try (var c = DriverManager.getConnection(role.jdbcUrl(), role.name(), role.password())) {
      return RowSecurityCheck.problems(DSL.using(c, SQLDialect.POSTGRES), List.of(declared));
    }
  }

  private static Throwable rootCause(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }

  @Test
  void aRoleWithoutBypassThatOwnsOnlyForcedTables_passes_andStartsInProduction() throws Exception {
    assertThat(problemsAs(app)).isEmpty();
    try (var started = AuditFixture.start(app.databaseUrl(), production().build(), 2)) {
      var report = started.get(HealthRegistry.class).run(ProbeKind.DEEP, "audit"::equals);
      var check = report.check("audit").orElseThrow();
      assertThat(check.status()).as(check.message()).isEqualTo(ProbeStatus.UP);
    }
  }

  @Test
  void superuser_isRefusedInProduction_namingTheFix() {
    assertThatThrownBy(() -> AuditFixture.start(PG.databaseUrl(), production().build(), 2))
        .satisfies(
            e ->
                assertThat(rootCause(e))
                    .isInstanceOf(RowSecurityException.class)
                    .hasMessageContaining(
                        "role "
                            + PG.username()
                            + " is a superuser, and superusers bypass every row-level "
                            + "security policy; connect as a role without SUPERUSER"));
  }

  @Test
  void superuser_isWarnedAboutElsewhere_andTheDeepCheckSaysSo() {
    try (var started =
        AuditFixture.start(PG.databaseUrl(), AuditFixture.manualSealing().build(), 2)) {
      var check =
          started
              .get(HealthRegistry.class)
              .run(ProbeKind.DEEP, "audit"::equals)
              .check("audit")
              .orElseThrow();
      assertThat(check.status()).as(check.message()).isEqualTo(ProbeStatus.DEGRADED);
      assertThat(check.message()).contains("is a superuser");
    }
  }

  @Test
  void bypassRls_isAProblem() throws Exception {
    var bypass = PG.createRole("bypass");
    PG.execute("alter role " + bypass.name() + " bypassrls");
    assertThat(problemsAs(bypass))
        .containsExactly(
            "role "
                + bypass.name()
                + " has BYPASSRLS, which skips every "
                + "row-level security policy; fix: ALTER ROLE "
                + bypass.name()
                + " NOBYPASSRLS");
  }

  @Test
  void owningAProtectedTableWithoutForce_isAProblem_untilForced() throws Exception {
    try (var c = DriverManager.getConnection(app.jdbcUrl(), app.name(), app.password());
        var s = c.createStatement()) {
      s.execute("create table loose (id int primary key, tenant_id text)");
      s.execute("alter table loose enable row level security");
      assertThat(problemsAs(app))
          .containsExactly(
              "role "
                  + app.name()
                  + " owns table public.loose, which has "
                  + "row-level security but not FORCE, so its policies do not apply to this role; fix: ALTER TABLE "
                  + "public.loose FORCE ROW LEVEL SECURITY");
      assertThatThrownBy(() -> AuditFixture.start(app.databaseUrl(), production().build(), 2))
          .satisfies(
              e ->
                  assertThat(rootCause(e))
                      .isInstanceOf(RowSecurityException.class)
                      .hasMessageContaining("public.loose"));
      s.execute("alter table loose force row level security");
      assertThat(problemsAs(app)).isEmpty();
      s.execute("drop table loose");
    }
  }

  @Test
  void aDeclaredTableWithoutRls_orMissing_isAProblem() throws Exception {
    assertThat(problemsAs(app, "plain_items", "public.orders", "nowhere"))
        .containsExactly(
            "table public.plain_items is declared protected (BALLAST_RLS_TABLES) but has no row-level security; fix: "
                + "ALTER TABLE public.plain_items ENABLE ROW LEVEL SECURITY and add a policy "
                + "(RowSecurity.table(\"public.plain_items\")...)",
            "table nowhere is declared protected (BALLAST_RLS_TABLES) but does not exist for role "
                + app.name()
                + " (check its schema and the search_path)");
  }
}
