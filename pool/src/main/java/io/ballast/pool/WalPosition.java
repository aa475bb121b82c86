package io.ballast.pool;

import java.util.Locale;

/**
 * A position in the primary's write-ahead log (a PostgreSQL {@code pg_lsn}): what a replica must
 * have replayed before it may serve a read that has to see a write. Its text form is PostgreSQL's
 * own ({@code 16/B374D848}), short enough for a cookie or a header, and {@link #parse} reads it
 * back.
 *
 * @param value the log sequence number as an unsigned 64-bit value
 */
public record WalPosition(long value) implements Comparable<WalPosition> {
  /** The start of the log: every server has replayed it. */
  public static final WalPosition ZERO = new WalPosition(0);

  /**
   * Reads PostgreSQL's text form, two hexadecimal numbers of up to 8 digits each separated by a
   * slash.
   *
   * @throws IllegalArgumentException when {@code text} is not of that form (the message does not
   *     repeat more than 40 characters of it)
   */
  public static WalPosition parse(String text) {
    if (text != null) {
      var slash = text.indexOf('/');
      if (slash > 0
          && slash <= 8
          && text.length() - slash - 1 > 0
          && text.length() - slash - 1 <= 8) {
        try {
          var high = Long.parseLong(text.substring(0, slash), 16);
          var low = Long.parseLong(text.substring(slash + 1), 16);
          if (high >= 0 && low >= 0) {
            return new WalPosition((high << 32) | low);
          }
        } catch (NumberFormatException e) {
          // reported below
        }
      }
    }
    var shown = text == null ? "null" : text.length() > 40 ? text.substring(0, 40) + "…" : text;
    throw new IllegalArgumentException(
        "a WAL position must look like 16/B374D848 (two hexadecimal numbers of up to 8 digits), but"
            + " was '"
            + shown
            + "'");
  }

  /** The later of the two. */
  public WalPosition max(WalPosition other) {
    return other != null && compareTo(other) < 0 ? other : this;
  }

  /** Whether a server that has replayed up to {@code replayed} has replayed this position. */
  public boolean replayedBy(WalPosition replayed) {
    return replayed != null && replayed.compareTo(this) >= 0;
  }

  /** Bytes from {@code earlier} to this position; 0 when {@code earlier} is not earlier. */
  public long bytesAfter(WalPosition earlier) {
    return compareTo(earlier) <= 0 ? 0 : value - earlier.value;
  }

  @Override
  public int compareTo(WalPosition other) {
    return Long.compareUnsigned(value, other.value);
  }

  /** PostgreSQL's text form, e.g. {@code 16/B374D848}. */
  @Override
  public String toString() {
    return Long.toHexString(value >>> 32).toUpperCase(Locale.ROOT)
        + "/"
        + Long.toHexString(value & 0xFFFFFFFFL).toUpperCase(Locale.ROOT);
  }
}
