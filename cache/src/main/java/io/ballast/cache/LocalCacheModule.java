package io.ballast.cache;

import com.google.inject.AbstractModule;
import com.google.inject.multibindings.OptionalBinder;
import java.util.Objects;

/**
 * The cache on L1 (Caffeine) only: the same bindings as {@link RedisCacheModule}, so switching is
 * one line, with nothing shared between instances (each instance's writes and invalidations reach
 * only its own L1). For tests, single-instance services, or data that may differ briefly per
 * instance.
 *
 * <p>Bindings: {@link Caches}, {@link CacheSettings} (only the TTL settings matter), a {@code
 * Managed} and a READY {@code ProbeCheck}, both named {@code cache}, and the default {@code
 * RedisGuard}.
 */
public final class LocalCacheModule extends AbstractModule {
  private final CacheSettings settings;

  /** The module, with {@code settings}. */
  public LocalCacheModule(CacheSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  @Override
  protected void configure() {
    bind(CacheSettings.class).toInstance(settings);
    OptionalBinder.newOptionalBinder(binder(), RemoteStore.class);
    CacheBindings.bind(binder());
  }
}
