package io.ballast.cache;

/**
 * Turns a region's values into bytes for Redis and back. The default is {@link JsonCodec}.
 * Implementations must be thread-safe. A {@code decode} that throws makes the stored entry count as
 * a miss: it is logged once per region, counted in {@code ballast.cache.<region>.corrupt}, and
 * overwritten by the next load.
 *
 * @param <V> the region's value type
 */
public interface CacheCodec<V> {
  /** The bytes of {@code value}, which is never {@code null}. */
  byte[] encode(V value) throws Exception;

  /** The value of {@code bytes}, as written by {@link #encode}. */
  V decode(byte[] bytes) throws Exception;
}
