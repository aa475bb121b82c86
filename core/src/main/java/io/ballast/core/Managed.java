package io.ballast.core;

import java.time.Duration;

/**
 * Something with a start and a stop: a pool, a migration run, a cache connection, the admin server.
 * Contribute one through {@link Extensions#managed(com.google.inject.Binder)}; the {@link
 * Lifecycle} starts all of them in {@link #phase()} order (ties in binding order) and stops them in
 * reverse, each exactly once.
 *
 * <p>{@code start} is where I/O belongs: Guice modules and providers must not connect to anything.
 */
public interface Managed {
  /** Phase of the connection pools: first, since everything else needs a connection. */
  int PHASE_POOL = 100;

  /** Phase of schema migrations: after the pools, before anything that reads the schema. */
  int PHASE_MIGRATIONS = 200;

  /** Phase of caches and their Redis connections. */
  int PHASE_CACHE = 300;

  /** Default phase of an application's own services. */
  int PHASE_APPLICATION = 500;

  /**
   * Phase of the admin HTTP server: first, so that liveness answers while the rest starts (a
   * migration can take minutes, and a Kubernetes liveness probe would otherwise kill the pod in the
   * middle of it). Readiness says {@code STARTING} (503) until every service has started. Stopped
   * last.
   */
  int PHASE_ADMIN = 10;

  /** A name for logs and errors, e.g. {@code pool:primary}. */
  String name();

  /** Start order: lower starts first and stops last. */
  default int phase() {
    return PHASE_APPLICATION;
  }

  /** Starts the service. A failure stops everything already started and fails the whole start. */
  void start() throws Exception;

  /**
   * Stops the service, letting work in flight finish for at most {@code grace} (the part of the
   * lifecycle's grace period that is left) before closing what it uses.
   */
  void stop(Duration grace) throws Exception;
}
