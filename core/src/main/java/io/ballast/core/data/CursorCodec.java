package io.ballast.core.data;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.Base64;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encodes keyset positions as opaque, versioned, signed cursors: {@code base64url(version | values
 * | mac)}, where the MAC (HMAC-SHA256, truncated to 128 bits) covers the version, the values and
 * the identity of the query the cursor was issued for. A cursor altered in any byte, or presented
 * to another query, fails verification. Immutable and thread-safe.
 */
final class CursorCodec {
  static final int VERSION = 1;
  private static final int MAC_BYTES = 16;
  private static final String ALGORITHM = "HmacSHA256";
  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

  private final SecretKeySpec key;

  private CursorCodec(byte[] key) {
    this.key = new SecretKeySpec(key, ALGORITHM);
  }

  static CursorCodec of(byte[] secret) {
    return new CursorCodec(secret.clone());
  }

  static CursorCodec random() {
    var key = new byte[32];
    new SecureRandom().nextBytes(key);
    return new CursorCodec(key);
  }

  String encode(byte[] queryIdentity, Object[] values) {
    var body = new ByteArrayOutputStream();
    try (var out = new DataOutputStream(body)) {
      out.writeByte(VERSION);
      out.writeByte(values.length);
      for (var v : values) {
        writeValue(out, v);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    var payload = body.toByteArray();
    var mac = mac(queryIdentity, payload);
    var cursor = Arrays.copyOf(payload, payload.length + MAC_BYTES);
    System.arraycopy(mac, 0, cursor, payload.length, MAC_BYTES);
    return ENCODER.encodeToString(cursor);
  }

  /** The values of a cursor issued for the query with {@code queryIdentity}. */
  Object[] decode(String cursor, byte[] queryIdentity, int expectedValues) {
    byte[] raw;
    try {
      raw = DECODER.decode(cursor);
    } catch (IllegalArgumentException e) {
      throw new InvalidCursorException("cursor is malformed: not base64url");
    }
    if (raw.length < 2 + MAC_BYTES) {
      throw new InvalidCursorException("cursor is malformed: too short");
    }
    if (raw[0] != VERSION) {
      throw new InvalidCursorException(
          "cursor version " + raw[0] + " is not supported (this version writes " + VERSION + ")");
    }
    var payload = Arrays.copyOf(raw, raw.length - MAC_BYTES);
    var mac = Arrays.copyOfRange(raw, raw.length - MAC_BYTES, raw.length);
    if (!MessageDigest.isEqual(mac, mac(queryIdentity, payload))) {
      throw new InvalidCursorException(
          "cursor is invalid: altered, signed with another key, or issued for a"
              + " different query");
    }
    try (var in = new DataInputStream(new ByteArrayInputStream(payload))) {
      in.readByte();
      var count = in.readUnsignedByte();
      if (count != expectedValues) {
        throw new InvalidCursorException(
            "cursor holds " + count + " key values, but the keyset has " + expectedValues);
      }
      var values = new Object[count];
      for (int i = 0; i < count; i++) {
        values[i] = readValue(in);
      }
      return values;
    } catch (IOException | RuntimeException e) {
      if (e instanceof InvalidCursorException ice) {
        throw ice;
      }
      throw new InvalidCursorException("cursor is malformed: " + e.getMessage());
    }
  }

  private byte[] mac(byte[] queryIdentity, byte[] payload) {
    try {
      var mac = Mac.getInstance(ALGORITHM);
      mac.init(key);
      mac.update(queryIdentity);
      return Arrays.copyOf(mac.doFinal(payload), MAC_BYTES);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  /** The types a keyset column may have, each with a one-letter tag. */
  private static void writeValue(DataOutputStream out, Object v) throws IOException {
    char tag;
    if (v instanceof Long) {
      tag = 'L';
    } else if (v instanceof Integer) {
      tag = 'I';
    } else if (v instanceof Short) {
      tag = 'H';
    } else if (v instanceof String) {
      tag = 'S';
    } else if (v instanceof BigDecimal) {
      tag = 'D';
    } else if (v instanceof UUID) {
      tag = 'U';
    } else if (v instanceof OffsetDateTime) {
      tag = 'T';
    } else if (v instanceof LocalDateTime) {
      tag = 'N';
    } else if (v instanceof LocalDate) {
      tag = 'A';
    } else if (v instanceof Instant) {
      tag = 'X';
    } else if (v instanceof Boolean) {
      tag = 'B';
    } else {
      throw new IllegalArgumentException(
          "keyset values must be numbers, strings, UUIDs, booleans, dates or"
              + " timestamps, but one was "
              + (v == null ? "null (keyset columns must be NOT NULL)" : v.getClass().getName()));
    }
    out.writeByte(tag);
    var text = v.toString().getBytes(StandardCharsets.UTF_8);
    out.writeShort(text.length);
    out.write(text);
  }

  private static Object readValue(DataInputStream in) throws IOException {
    var tag = (char) in.readUnsignedByte();
    var text = new String(in.readNBytes(in.readUnsignedShort()), StandardCharsets.UTF_8);
    return switch (tag) {
      case 'L' -> Long.valueOf(text);
      case 'I' -> Integer.valueOf(text);
      case 'H' -> Short.valueOf(text);
      case 'S' -> text;
      case 'D' -> new BigDecimal(text);
      case 'U' -> UUID.fromString(text);
      case 'T' -> OffsetDateTime.parse(text);
      case 'N' -> LocalDateTime.parse(text);
      case 'A' -> LocalDate.parse(text);
      case 'X' -> Instant.parse(text);
      case 'B' -> Boolean.valueOf(text);
      default -> throw new InvalidCursorException("cursor is malformed: unknown value tag " + tag);
    };
  }
}
