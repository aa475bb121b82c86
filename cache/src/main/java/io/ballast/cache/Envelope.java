package io.ballast.cache;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * How an entry is laid out in Redis: a magic byte and version, a flag for "cached as absent", the
 * entry's tags (so an instance that reads it into L1 knows them), then the codec's bytes. Anything
 * else under a key is corrupt and read as a miss.
 *
 * <p>A {@linkplain #TOMBSTONE tombstone} marks a key invalidated moments ago: it reads as a miss,
 * and because fills after a load only write where nothing is stored, a load that read the old value
 * before the invalidation cannot put it back while the tombstone lives.
 */
final class Envelope {
  private static final byte MAGIC = (byte) 0xBA;
  private static final byte VERSION = 1;
  private static final byte ABSENT = 1;
  private static final byte DEAD = 2;
  static final String[] NO_TAGS = new String[0];

  /** The bytes of a tombstone. */
  static final byte[] TOMBSTONE = {MAGIC, VERSION, DEAD, 0, 0};

  /** A decoded entry: {@code payload == null} when cached as absent. */
  @SuppressWarnings(
      "ArrayRecordComponent") // a decoded value passed along, never compared or hashed
  record Entry(byte[] payload, String[] tags) {}

  static boolean isTombstone(byte[] bytes) {
    return bytes.length == TOMBSTONE.length
        && bytes[0] == MAGIC
        && bytes[1] == VERSION
        && bytes[2] == DEAD;
  }

  private Envelope() {}

  static byte[] wrap(byte[] payload, String[] tags) {
    try {
      var out = new ByteArrayOutputStream(16 + (payload == null ? 0 : payload.length));
      var data = new DataOutputStream(out);
      data.writeByte(MAGIC);
      data.writeByte(VERSION);
      data.writeByte(payload == null ? ABSENT : 0);
      data.writeShort(tags.length);
      for (var tag : tags) {
        var bytes = tag.getBytes(StandardCharsets.UTF_8);
        data.writeShort(bytes.length);
        data.write(bytes);
      }
      if (payload != null) {
        data.write(payload);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** The entry, or {@code null} when the bytes are not an envelope of this version. */
  static Entry unwrap(byte[] bytes) {
    if (bytes.length < 5 || bytes[0] != MAGIC || bytes[1] != VERSION) {
      return null;
    }
    try {
      var in = new DataInputStream(new java.io.ByteArrayInputStream(bytes, 2, bytes.length - 2));
      var absent = in.readByte() == ABSENT;
      int count = in.readUnsignedShort();
      var tags = count == 0 ? NO_TAGS : new String[count];
      int offset = 5;
      for (int i = 0; i < count; i++) {
        int length = in.readUnsignedShort();
        if (length > in.available()) {
          return null;
        }
        var b = new byte[length];
        in.readFully(b);
        tags[i] = new String(b, StandardCharsets.UTF_8);
        offset += 2 + length;
      }
      return new Entry(absent ? null : Arrays.copyOfRange(bytes, offset, bytes.length), tags);
    } catch (IOException e) {
      return null;
    }
  }
}
