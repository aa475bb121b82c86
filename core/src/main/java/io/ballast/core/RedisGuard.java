package io.ballast.core;

/**
 * The slot for what stands between the cache and Redis: it decides whether a Redis call may be made
 * and is told how each call went. The cache module fills it with a plain failure-counting guard;
 * the resilience module replaces that with a circuit breaker, through {@link
 * Extensions#redisGuard(com.google.inject.Binder)} and {@code setBinding()}. While a guard refuses
 * calls, the cache works from its local level and the loader.
 *
 * <p>Implementations are called on every Redis command, from many threads at once: they must be
 * thread-safe and must not block.
 */
public interface RedisGuard {
  /**
   * Whether a call may go to Redis now. A {@code true} must be followed by {@link #onSuccess} or
   * {@link #onError}.
   */
  boolean tryAcquirePermission();

  /** The permitted call succeeded after {@code nanos}. */
  void onSuccess(long nanos);

  /** The permitted call failed after {@code nanos}; a timeout counts as a failure. */
  void onError(long nanos, Throwable error);

  /** Whether the guard refuses calls now (open, in breaker terms). */
  boolean isOpen();

  /**
   * The guard's state in a few words for health reports and logs, e.g. {@code CLOSED} or {@code
   * OPEN}.
   */
  String state();
}
