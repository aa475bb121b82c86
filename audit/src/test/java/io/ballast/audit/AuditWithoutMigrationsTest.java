package io.ballast.audit;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.LifecycleException;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.testkit.PostgresExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The audit module contributes its schema as a migration set through core's extension point and
 * does not depend on the migrations module; without it (or an applied set) start-up fails saying
 * what to install.
 */
class AuditWithoutMigrationsTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  @Test
  void withoutTheAuditSchema_startFailsNamingTheMigrationsModule() {
    assertThatThrownBy(
            () ->
                Ballast.start(
                        new CoreModule(CoreSettings.defaults()),
                        new PoolModule(
                            PoolSettings.builder()
                                .url(PG.databaseUrl())
                                .connectionLimit(2)
                                .build()),
                        new AuditModule(AuditFixture.manualSealing().build()))
                    .close())
        .isInstanceOf(LifecycleException.class)
        .hasMessageContaining(
            "The audit schema ballast_audit does not exist: install MigrationsModule "
                + "(ballast-migrations)");
  }
}
