package io.ballast.pool;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.inject.AbstractModule;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.Extensions;
import io.ballast.core.HealthRegistry;
import io.ballast.core.Lifecycle;
import io.ballast.core.Managed;
import io.ballast.core.ProbeCheck;
import io.ballast.core.ProbeKind;
import io.ballast.core.ProbeResult;
import io.ballast.testkit.PostgresExtension;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.jooq.ExecuteContext;
import org.jooq.ExecuteListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An application's own module plugs into Ballast through the extension points, touching no Ballast
 * code.
 */
class ExtensionPointsTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  static final List<String> EVENTS = new CopyOnWriteArrayList<>();

  /** What an application writes: a service, a health check and a jOOQ listener. */
  static final class OutboxModule extends AbstractModule {
    @Override
    protected void configure() {
      Extensions.managed(binder()).addBinding().to(OutboxRelay.class);
      Extensions.probeChecks(binder())
          .addBinding()
          .toInstance(
              ProbeCheck.of("outbox", ProbeKind.READY, () -> ProbeResult.healthy("relay running")));
      Extensions.executeListeners(binder())
          .addBinding()
          .toInstance(
              () ->
                  new ExecuteListener() {
                    @Override
                    public void executeStart(ExecuteContext ctx) {
                      EVENTS.add("sql " + ctx.sql());
                    }
                  });
    }
  }

  /** A service that needs the database at start, so it must start after the pool. */
  static final class OutboxRelay implements Managed {
    private final DataSource dataSource;

    @com.google.inject.Inject
    OutboxRelay(DataSource dataSource) {
      this.dataSource = dataSource;
    }

    @Override
    public String name() {
      return "outbox-relay";
    }

    @Override
    public void start() throws Exception {
      try (var c = dataSource.getConnection()) {
        EVENTS.add("relay started, connection valid: " + c.isValid(1));
      }
    }

    @Override
    public void stop(Duration grace) {
      EVENTS.add("relay stopped");
    }
  }

  @Test
  void applicationModule_contributesManagedHealthCheckAndListener() {
    var app =
        Ballast.start(
            new CoreModule(CoreSettings.defaults()),
            new PoolModule(PoolSettings.builder().url(PG.databaseUrl()).build()),
            new OutboxModule());
    try {
      assertThat(app.get(Lifecycle.class).services())
          .extracting(Managed::name)
          .containsExactly("query-monitor", "pool:primary", "outbox-relay");
      assertThat(EVENTS).contains("relay started, connection valid: true");

      app.get(DSLContext.class).fetch("select 1 as one");
      assertThat(EVENTS).contains("sql select 1 as one");

      var report = app.get(HealthRegistry.class).run(ProbeKind.READY);
      assertThat(report.healthy()).isTrue();
      assertThat(report.checks())
          .extracting(c -> c.name())
          .containsExactly("db", "deadlocks", "outbox", "pool");
    } finally {
      app.close();
    }
    assertThat(EVENTS).last().isEqualTo("relay stopped");
  }
}
