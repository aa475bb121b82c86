package io.ballast.cache;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * One invalidation as it travels between instances on the invalidation channel: who sent it, what
 * kind, which region, when (microseconds since the epoch, for the delivery-delay metric) and its
 * argument (a key, a tag, a pattern, or several keys). The wire form is {@code
 * instance|code|region|sentAt|argument}, the argument last so that it may hold {@code |}; several
 * keys are written as {@code <length>:<key>} one after another.
 *
 * @param instance the sending instance's id
 * @param kind what is invalidated
 * @param region the region's name ({@code *} for a pattern, which spans regions)
 * @param sentAt microseconds since the epoch when it was sent
 * @param argument the key, tag or pattern; empty for {@link Kind#ALL}; encoded keys for {@link
 *     Kind#KEYS}
 */
record Invalidation(String instance, Kind kind, String region, long sentAt, String argument) {
  /** What an invalidation removes. */
  enum Kind {
    /** One key of a region. */
    KEY('K'),
    /** Every entry of a region carrying a tag. */
    TAG('T'),
    /** Every entry of a region. */
    ALL('A'),
    /** Every entry whose {@code <region>:<key>} matches a Redis glob. */
    PATTERN('P'),
    /** Several keys of a region (one {@code putAll}). */
    KEYS('M');

    final char code;

    Kind(char code) {
      this.code = code;
    }

    static Kind of(char code) {
      for (var k : values()) {
        if (k.code == code) {
          return k;
        }
      }
      return null;
    }
  }

  String encode() {
    return instance + "|" + kind.code + "|" + region + "|" + sentAt + "|" + argument;
  }

  /**
   * The message, or {@code null} when it is malformed (or of a kind this version does not know).
   */
  static Invalidation decode(String message) {
    var parts = message.split("\\|", 5);
    if (parts.length != 5 || parts[1].length() != 1) {
      return null;
    }
    var kind = Kind.of(parts[1].charAt(0));
    if (kind == null) {
      return null;
    }
    long sentAt;
    try {
      sentAt = Long.parseLong(parts[3]);
    } catch (NumberFormatException e) {
      sentAt = 0;
    }
    if (kind == Kind.KEYS && decodeKeys(parts[4]) == null) {
      return null;
    }
    return new Invalidation(parts[0], kind, parts[2], sentAt, parts[4]);
  }

  /**
   * Several keys as one argument: {@code <length>:<key>} each, so any character may stand in a key.
   */
  static String encodeKeys(Collection<String> keys) {
    var encoded = new StringBuilder();
    for (var key : keys) {
      encoded.append(key.length()).append(':').append(key);
    }
    return encoded.toString();
  }

  /** The keys of a {@link Kind#KEYS} argument, or {@code null} if it is malformed. */
  static List<String> decodeKeys(String encoded) {
    var keys = new ArrayList<String>();
    var i = 0;
    while (i < encoded.length()) {
      var colon = encoded.indexOf(':', i);
      if (colon < 0) {
        return null;
      }
      int length;
      try {
        length = Integer.parseInt(encoded.substring(i, colon));
      } catch (NumberFormatException e) {
        return null;
      }
      if (length < 0 || colon + 1 + length > encoded.length()) {
        return null;
      }
      keys.add(encoded.substring(colon + 1, colon + 1 + length));
      i = colon + 1 + length;
    }
    return keys;
  }
}
