package io.ballast.cache;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.util.Objects;

/**
 * The default {@link CacheCodec}: JSON through Jackson, with {@code java.time} support. Records,
 * beans and collections of them work as they do with any Jackson mapper; pass your own {@link
 * ObjectMapper} for custom modules. Thread-safe.
 */
public final class JsonCodec<V> implements CacheCodec<V> {
  private static final ObjectMapper DEFAULT =
      JsonMapper.builder().addModule(new JavaTimeModule()).build();

  private final ObjectReader reader;
  private final ObjectWriter writer;
  private final String type;

  private JsonCodec(ObjectMapper mapper, JavaType type) {
    this.reader = mapper.readerFor(type);
    this.writer = mapper.writerFor(type);
    this.type = type.toString();
  }

  /** A codec for {@code type} with Ballast's default mapper. */
  public static <V> JsonCodec<V> of(Class<V> type) {
    return of(DEFAULT, type);
  }

  /** A codec for {@code type} with {@code mapper}. */
  public static <V> JsonCodec<V> of(ObjectMapper mapper, Class<V> type) {
    Objects.requireNonNull(type, "type");
    return new JsonCodec<>(Objects.requireNonNull(mapper, "mapper"), mapper.constructType(type));
  }

  /**
   * A codec for a generic type, e.g. {@code
   * mapper.getTypeFactory().constructCollectionType(List.class, X.class)}.
   */
  public static <V> JsonCodec<V> of(ObjectMapper mapper, JavaType type) {
    return new JsonCodec<>(
        Objects.requireNonNull(mapper, "mapper"), Objects.requireNonNull(type, "type"));
  }

  @Override
  public byte[] encode(V value) throws Exception {
    return writer.writeValueAsBytes(value);
  }

  @Override
  public V decode(byte[] bytes) throws Exception {
    return reader.readValue(bytes);
  }

  @Override
  public String toString() {
    return "JsonCodec[" + type + "]";
  }
}
