package io.ballast.cache;

import com.google.inject.Binder;
import com.google.inject.Singleton;
import io.ballast.core.Extensions;

/** The bindings both cache modules share. */
final class CacheBindings {
  private CacheBindings() {}

  static void bind(Binder binder) {
    binder.bind(CacheManager.class).in(Singleton.class);
    binder.bind(Caches.class).to(CacheManager.class);
    binder.bind(FailureCountingGuard.class).in(Singleton.class);
    Extensions.redisGuard(binder).setDefault().to(FailureCountingGuard.class);
    Extensions.managed(binder).addBinding().to(CacheManager.class);
    Extensions.probeChecks(binder).addBinding().to(CacheCheck.class);
  }
}
