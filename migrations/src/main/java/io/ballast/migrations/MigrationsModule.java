package io.ballast.migrations;

import com.google.inject.AbstractModule;
import com.google.inject.Binder;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.multibindings.Multibinder;
import io.ballast.core.Extensions;
import io.ballast.core.MigrationSet;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Objects;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Flyway at start-up. Binds:
 *
 * <ul>
 *   <li>{@link MigrationSettings}, the instance given;
 *   <li>{@link Migrations}: status, invalid-index detection and repair, history repair, clean;
 *   <li>a {@code Managed} (phase {@code PHASE_MIGRATIONS}, after the pool) that migrates or
 *       validates every {@link MigrationSet} in order when the lifecycle starts;
 *   <li>the multibinder {@link #sets(Binder)} through which modules contribute their own sets;
 *   <li>a READY check {@code migrations} and a DEEP check {@code indexes}.
 * </ul>
 *
 * <p>Needs {@code CoreModule} and a {@link DataSource} (from {@code PoolModule}). Does no I/O
 * itself. When the pool is given {@code DATABASE_DIRECT_URL}, migrations run on that direct
 * connection instead (their locks are session-level advisory locks). Behind a transaction-pooling
 * PgBouncer without it, start fails saying so rather than leave a lock on a shared server session.
 */
public final class MigrationsModule extends AbstractModule {
  private final MigrationSettings settings;

  /** The module, with {@code settings}. */
  public MigrationsModule(MigrationSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /**
   * The migration sets modules contribute (the application's own set comes from {@link
   * MigrationSettings}).
   */
  public static Multibinder<MigrationSet> sets(Binder binder) {
    return Extensions.migrationSets(binder);
  }

  @Override
  protected void configure() {
    bind(MigrationSettings.class).toInstance(settings);
    sets(binder());
    bind(Migrations.class).to(FlywayMigrations.class);
    Extensions.managed(binder()).addBinding().to(FlywayMigrations.class);
    Extensions.probeChecks(binder()).addBinding().to(MigrationsProbe.class);
    Extensions.probeChecks(binder()).addBinding().to(IndexesProbe.class);
  }

  @Provides
  @Singleton
  FlywayMigrations flywayMigrations(
      DataSource dataSource,
      @io.ballast.core.Direct java.util.Optional<DataSource> direct,
      Set<MigrationSet> sets,
      PrometheusRegistry prometheus) {
    var migrations = new FlywayMigrations(dataSource, direct, settings, sets);
    GaugeWithCallback.builder()
        .name("ballast_migrations_invalid_indexes")
        .help(
            "INVALID indexes (a failed CREATE INDEX CONCURRENTLY) the last listing found: at"
                + " start, by the DEEP check indexes or a repair; NaN before the first")
        .callback(cb -> cb.call(migrations.lastInvalidIndexCount()))
        .register(prometheus);
    return migrations;
  }

  @Provides
  @Singleton
  MigrationsProbe migrationsProbe(FlywayMigrations migrations) {
    return new MigrationsProbe(migrations);
  }

  @Provides
  @Singleton
  IndexesProbe indexesProbe(FlywayMigrations migrations) {
    return new IndexesProbe(migrations);
  }
}
