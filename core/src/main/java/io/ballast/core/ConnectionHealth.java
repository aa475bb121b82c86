package io.ballast.core;

/**
 * Implemented by a pool's {@code DataSource} to share what it knows of the database's reachability,
 * so modules that guard database work (the resilience module's breaker) can fail fast while the
 * server is down and resume as soon as it accepts connections again, without knowing the pool.
 * Reach it with {@code dataSource.unwrap(ConnectionHealth.class)} after checking {@code
 * isWrapperFor}.
 *
 * <p>Thread-safe; none of the methods blocks.
 */
public interface ConnectionHealth {
  /**
   * {@code false} while the pool knows the server does not accept connections (its last probe
   * failed); the pool then refuses to lend connections at once rather than after its timeout.
   */
  boolean reachable();

  /**
   * Someone saw the database fail in a way that suggests it is down: the pool probes it now (a
   * fresh connection within the connect timeout) and keeps probing while it does not answer. Cheap
   * to call repeatedly.
   */
  void suspect();

  /**
   * Runs {@code listener} (on the pool's probe thread) each time the server accepts connections
   * again after a probe found it unreachable, or after {@link #suspect()} found it answering.
   */
  void onReachable(Runnable listener);
}
