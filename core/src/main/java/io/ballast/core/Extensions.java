package io.ballast.core;

import com.google.inject.Binder;
import com.google.inject.multibindings.Multibinder;
import com.google.inject.multibindings.OptionalBinder;
import org.jooq.ExecuteListenerProvider;
import org.jooq.TransactionListenerProvider;

/**
 * The extension points of Ballast, as Guice multibinders. Any module, Ballast's or the
 * application's, adds to them from its {@code configure()}:
 *
 * <pre>{@code
 * protected void configure() {
 *   Extensions.managed(binder()).addBinding().to(OutboxRelay.class);
 *   Extensions.probeChecks(binder()).addBinding().toInstance(ProbeCheck.of("outbox", ProbeKind.READY, relay::check));
 *   Extensions.executeListeners(binder()).addBinding().toInstance(() -> new TenantTagger());
 * }
 * }</pre>
 */
public final class Extensions {
  private Extensions() {}

  /** Services started and stopped by the {@link Lifecycle}. */
  public static Multibinder<Managed> managed(Binder binder) {
    return Multibinder.newSetBinder(binder, Managed.class);
  }

  /** Health checks run by the {@link HealthRegistry}. */
  public static Multibinder<ProbeCheck> probeChecks(Binder binder) {
    return Multibinder.newSetBinder(binder, ProbeCheck.class);
  }

  /**
   * jOOQ execute listeners added to the one {@code Configuration} core builds, ordered by {@link
   * ListenerStage} and within a stage in binding order.
   */
  public static Multibinder<ExecuteListenerProvider> executeListeners(Binder binder) {
    return Multibinder.newSetBinder(binder, ExecuteListenerProvider.class);
  }

  /**
   * jOOQ transaction listeners added to the one {@code Configuration} core builds, ordered by
   * {@link ListenerStage} and within a stage in binding order.
   */
  public static Multibinder<TransactionListenerProvider> transactionListeners(Binder binder) {
    return Multibinder.newSetBinder(binder, TransactionListenerProvider.class);
  }

  /**
   * Migration sets a module ships (its own SQL, with its own history table), run at start by {@code
   * MigrationsModule} before the application's own set.
   */
  public static Multibinder<MigrationSet> migrationSets(Binder binder) {
    return Multibinder.newSetBinder(binder, MigrationSet.class);
  }

  /**
   * The optional {@link RedisGuard}: the cache module sets a default, the resilience module sets
   * the binding (a circuit breaker), which wins.
   */
  public static OptionalBinder<RedisGuard> redisGuard(Binder binder) {
    return OptionalBinder.newOptionalBinder(binder, RedisGuard.class);
  }

  /**
   * The optional {@link Direct} data source, reaching the database without a transaction-pooling
   * PgBouncer in between; the pool module sets it when {@code DATABASE_DIRECT_URL} is given.
   */
  public static OptionalBinder<javax.sql.DataSource> directDataSource(Binder binder) {
    return OptionalBinder.newOptionalBinder(
        binder, com.google.inject.Key.get(javax.sql.DataSource.class, Direct.class));
  }
}
