package io.ballast.core;

/**
 * Implemented by a pool's {@code DataSource} to say how many connections it may open, so modules
 * that bound concurrent database work (the resilience module's bulkhead) can default to it without
 * knowing the pool. Reach it with {@code dataSource.unwrap(ConnectionLimit.class)} after checking
 * {@code isWrapperFor}.
 */
public interface ConnectionLimit {
  /** The most connections the pool opens at once. */
  int maxConnections();
}
