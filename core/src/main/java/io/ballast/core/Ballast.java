package io.ballast.core;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.Module;
import com.google.inject.Stage;
import java.util.Arrays;
import java.util.List;

/**
 * A running Ballast application: the Guice injector over the given modules, with its {@link
 * Lifecycle} started. Closing it stops the lifecycle (once; a JVM shutdown hook does it otherwise).
 *
 * <pre>{@code
 * try (var app = Ballast.start(new CoreModule(CoreSettings.fromEnv()), new PoolModule(PoolSettings.fromEnv()))) {
 *   var db = app.get(DSLContext.class);
 *   ...
 * }
 * }</pre>
 */
public final class Ballast implements AutoCloseable {
  private final Injector injector;
  private final Lifecycle lifecycle;

  private Ballast(Injector injector) {
    this.injector = injector;
    this.lifecycle = injector.getInstance(Lifecycle.class);
  }

  /**
   * Creates the injector in {@link Stage#PRODUCTION} (singletons built eagerly, which is safe
   * because modules do no I/O) and starts the lifecycle.
   *
   * @throws LifecycleException when a service fails to start (the others are stopped again)
   */
  public static Ballast start(Module... modules) {
    return start(Arrays.asList(modules));
  }

  /** As {@link #start(Module...)}. */
  public static Ballast start(List<? extends Module> modules) {
    var app = new Ballast(Guice.createInjector(Stage.PRODUCTION, modules));
    app.lifecycle.start();
    return app;
  }

  /** The Guice injector holding every binding. */
  public Injector injector() {
    return injector;
  }

  /** The lifecycle that started the services and stops them on {@link #close()}. */
  public Lifecycle lifecycle() {
    return lifecycle;
  }

  /** Shorthand for {@code injector().getInstance(type)}. */
  public <T> T get(Class<T> type) {
    return injector.getInstance(type);
  }

  /** Shorthand for {@code injector().getInstance(key)}. */
  public <T> T get(Key<T> key) {
    return injector.getInstance(key);
  }

  /** Stops the lifecycle; later calls do nothing. */
  @Override
  public void close() {
    lifecycle.stop();
  }
}
