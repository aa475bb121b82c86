package io.ballast.cache;

import java.util.function.Consumer;

/**
 * How a region's values are stored in Redis: the region's {@link CacheCodec} inside Ballast's
 * {@link Envelope} (version, tags, "cached as absent", tombstones), and what reading one back can
 * find. An entry that cannot be read — written by something else, or by an older codec — is
 * reported, not thrown: the region counts it, deletes it and treats it as a miss. Thread-safe when
 * the codec is.
 *
 * @param <V> the region's value type
 */
final class RemoteEntryCodec<V> {
  /**
   * What an entry held: a value, or {@code null} for "cached as absent", with its tags.
   *
   * @param value the value, or {@code null} when the loader found nothing
   * @param tags the entry's tags
   */
  @SuppressWarnings("ArrayRecordComponent") // passed along, never compared
  record Decoded(Object value, String[] tags) {}

  private final String region;
  private final CacheCodec<V> codec;

  RemoteEntryCodec(String region, CacheCodec<V> codec) {
    this.region = region;
    this.codec = codec;
  }

  /**
   * The bytes to store for {@code value} ({@code null}: cached as absent).
   *
   * @throws IllegalArgumentException naming the region, the type and the codec when the codec
   *     cannot encode it
   */
  byte[] encode(V value, String[] tags) {
    if (value == null) {
      return Envelope.wrap(null, tags);
    }
    try {
      return Envelope.wrap(codec.encode(value), tags);
    } catch (Exception e) {
      throw new IllegalArgumentException(
          "Cache region "
              + region
              + " cannot encode a "
              + value.getClass().getName()
              + " with "
              + codec
              + ": "
              + firstLine(e.getMessage()),
          e);
    }
  }

  /**
   * What {@code bytes} hold, or {@code null} for a tombstone or an entry that cannot be read; for
   * the latter, {@code corrupt} is told why.
   */
  Decoded decode(byte[] bytes, Consumer<String> corrupt) {
    if (Envelope.isTombstone(bytes)) {
      return null;
    }
    var envelope = Envelope.unwrap(bytes);
    if (envelope == null) {
      corrupt.accept("not written by this version of Ballast's cache");
      return null;
    }
    if (envelope.payload() == null) {
      return new Decoded(null, envelope.tags());
    }
    try {
      var value = codec.decode(envelope.payload());
      if (value == null) {
        corrupt.accept("the codec decoded it to null");
        return null;
      }
      return new Decoded(value, envelope.tags());
    } catch (Exception e) {
      corrupt.accept(e.getClass().getSimpleName() + ": " + firstLine(e.getMessage()));
      return null;
    }
  }

  static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    var nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
