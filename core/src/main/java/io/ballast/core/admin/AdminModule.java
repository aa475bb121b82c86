package io.ballast.core.admin;

import com.google.inject.AbstractModule;
import com.google.inject.Provider;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.ballast.core.Extensions;
import io.ballast.core.HealthRegistry;
import io.ballast.core.Lifecycle;
import io.ballast.core.monitor.QueryMonitor;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Objects;

/**
 * The admin HTTP server: health, query statistics and Prometheus metrics (see {@link AdminServer}).
 * Binds {@link AdminSettings} and {@link AdminServer}, and adds the server to the lifecycle
 * (started first, phase {@code PHASE_ADMIN}, so liveness answers during migrations; readiness is
 * {@code STARTING} until every service has started). Needs {@code CoreModule}. Opens no port until
 * the lifecycle starts.
 *
 * <pre>{@code
 * Ballast.start(new CoreModule(CoreSettings.fromEnv()), new PoolModule(PoolSettings.fromEnv()),
 *     new AdminModule(AdminSettings.fromEnv()));   // http://127.0.0.1:8081/health
 * }</pre>
 */
public final class AdminModule extends AbstractModule {
  private final AdminSettings settings;

  /** The module, with {@code settings}. */
  public AdminModule(AdminSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  @Override
  protected void configure() {
    bind(AdminSettings.class).toInstance(settings);
    Extensions.managed(binder()).addBinding().to(AdminServer.class);
  }

  @Provides
  @Singleton
  AdminServer adminServer(
      HealthRegistry health,
      QueryMonitor monitor,
      PrometheusRegistry metrics,
      Provider<Lifecycle> lifecycle) {
    return new AdminServer(settings, health, monitor, metrics, lifecycle);
  }
}
