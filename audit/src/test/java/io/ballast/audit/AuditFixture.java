package io.ballast.audit;

import com.google.inject.Module;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.settings.AppEnv;
import io.ballast.migrations.MigrationSettings;
import io.ballast.migrations.MigrationsModule;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.testkit.PostgresExtension;
import io.ballast.testkit.TestRole;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts the application of the audit tests: core, pool, migrations (the test tables) and the audit
 * module.
 */
final class AuditFixture {
  private AuditFixture() {}

  /** A role like an application's: no superuser, no BYPASSRLS; it may create the audit schema. */
  static TestRole appRole(PostgresExtension pg, String name, String... attributes)
      throws SQLException {
    var role = pg.createRole(name, attributes);
    pg.execute("grant create on database " + pg.databaseName() + " to " + role.name());
    return role;
  }

  /** Settings that leave sealing to the test. */
  static AuditSettings.Builder manualSealing() {
    return AuditSettings.builder(AppEnv.DEVELOPMENT).sealInterval(Duration.ofHours(1));
  }

  static Ballast start(String databaseUrl, AuditSettings settings, int poolSize, Module... extra) {
    var modules =
        new ArrayList<Module>(
            List.of(
                new CoreModule(CoreSettings.defaults()),
                new PoolModule(
                    PoolSettings.builder().url(databaseUrl).connectionLimit(poolSize).build()),
                new MigrationsModule(
                    MigrationSettings.builder(AppEnv.DEVELOPMENT)
                        .locations("classpath:db/audit-test")
                        .build()),
                new AuditModule(settings)));
    modules.addAll(List.of(extra));
    return Ballast.start(modules);
  }
}
