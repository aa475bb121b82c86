package io.ballast.cache;

/**
 * What a call to the {@link RemoteStore} gave: its value, or that it did not happen (Redis off,
 * refused by the guard, failed or timed out), in which case the cache carries on from L1 and the
 * loader.
 *
 * @param <T> the call's value type
 */
final class RemoteResult<T> {
  private static final RemoteResult<?> FAILED = new RemoteResult<>(null, false);

  private final T value;
  private final boolean ok;

  private RemoteResult(T value, boolean ok) {
    this.value = value;
    this.ok = ok;
  }

  static <T> RemoteResult<T> of(T value) {
    return new RemoteResult<>(value, true);
  }

  @SuppressWarnings("unchecked")
  static <T> RemoteResult<T> failure() {
    return (RemoteResult<T>) FAILED;
  }

  /** Whether the call reached Redis and returned. */
  boolean ok() {
    return ok;
  }

  boolean isFailed() {
    return !ok;
  }

  /** The value; {@code null} when the call failed (or returned null). */
  T value() {
    return value;
  }
}
