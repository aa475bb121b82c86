package io.ballast.pool;

import com.codahale.metrics.MetricRegistry;
import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.ballast.core.Extensions;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The primary PostgreSQL pool (HikariCP). Binds:
 *
 * <ul>
 *   <li>{@link PoolSettings}, the instance given;
 *   <li>{@link Pool}, the running pool: snapshot, sizing check;
 *   <li>{@link DataSource}, over which core's {@code DSLContext} runs;
 *   <li>a {@code Managed} (phase {@code PHASE_POOL}) that opens the pool at start, checks its size
 *       against the server's {@code max_connections}, and closes it at stop after in-flight work
 *       drains;
 *   <li>a READY health check {@code db};
 *   <li>with {@code DATABASE_DIRECT_URL}, the {@code @Direct DataSource}: unpooled sessions on the
 *       database without PgBouncer, for migrations;
 *   <li>HikariCP's metrics in the shared registry as {@code ballast.pool.<name>.*} (Wait, Usage,
 *       TotalConnections, ActiveConnections, IdleConnections, PendingConnections,
 *       ConnectionTimeoutRate, …) plus {@code ballast.pool.<name>.UtilisationPercent}.
 * </ul>
 *
 * <p>Needs {@code CoreModule}. Opens nothing until the lifecycle starts.
 */
public final class PoolModule extends AbstractModule {
  private final PoolSettings settings;

  /** The module, with {@code settings}. */
  public PoolModule(PoolSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  @Override
  protected void configure() {
    bind(PoolSettings.class).toInstance(settings);
    bind(Pool.class).to(ManagedPool.class);
    bind(DataSource.class).to(ManagedPool.class);
    Extensions.managed(binder()).addBinding().to(PoolService.class);
    Extensions.probeChecks(binder()).addBinding().to(PoolProbe.class);
    settings
        .direct()
        .ifPresent(
            direct ->
                Extensions.directDataSource(binder())
                    .setBinding()
                    .toInstance(new DirectDataSource(direct)));
  }

  @Provides
  @Singleton
  ManagedPool managedPool(
      PoolSettings settings, MetricRegistry metrics, PrometheusRegistry prometheus) {
    return new ManagedPool(settings, metrics, new PoolMetrics().register(prometheus));
  }
}
