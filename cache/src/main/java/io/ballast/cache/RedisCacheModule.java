package io.ballast.cache;

import com.google.inject.AbstractModule;
import com.google.inject.Inject;
import com.google.inject.Provider;
import com.google.inject.Singleton;
import com.google.inject.multibindings.OptionalBinder;
import java.util.Objects;

/**
 * The two-level cache: Caffeine L1 in each instance, Redis (Lettuce) L2 shared by all,
 * invalidations across instances by Redis pub/sub. Nothing connects in {@code configure()}: Redis
 * is reached when the lifecycle starts the cache (phase {@code PHASE_CACHE}), and the application
 * starts even when Redis is down.
 *
 * <p>Bindings:
 *
 * <ul>
 *   <li>{@link Caches} (singleton): regions, counters, delete-by-pattern;
 *   <li>{@link CacheSettings};
 *   <li>a {@code Managed} named {@code cache} and a READY {@code ProbeCheck} named {@code cache}
 *       (degraded, not down, while Redis is unreachable);
 *   <li>the default {@code RedisGuard} (failure counting), replaced by the resilience module's
 *       breaker;
 *   <li>{@code Optional<RemoteStore>}: Redis by default; {@code
 *       OptionalBinder.newOptionalBinder(binder, RemoteStore.class).setBinding()} plugs in another
 *       backend.
 * </ul>
 *
 * <p>{@link LocalCacheModule} binds the same keys without Redis; installing both is a Guice error.
 */
public final class RedisCacheModule extends AbstractModule {
  private final CacheSettings settings;

  /** The module, with {@code settings}. */
  public RedisCacheModule(CacheSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  @Override
  protected void configure() {
    bind(CacheSettings.class).toInstance(settings);
    OptionalBinder.newOptionalBinder(binder(), RemoteStore.class)
        .setDefault()
        .toProvider(RedisStoreProvider.class)
        .in(Singleton.class);
    CacheBindings.bind(binder());
  }

  /** Redis unless {@code REDIS_ENABLED=false}, in which case no remote store (L1 only). */
  static final class RedisStoreProvider implements Provider<RemoteStore> {
    private final CacheSettings settings;

    @Inject
    RedisStoreProvider(CacheSettings settings) {
      this.settings = settings;
    }

    @Override
    public RemoteStore get() {
      return settings.redisEnabled() ? new RedisStore(settings) : null;
    }
  }
}
