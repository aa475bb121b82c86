package io.ballast.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;

/** What a region stores in Redis and what reading it back can find. */
class RemoteEntryCodecTest {
  record User(long id, String name) {}

  final RemoteEntryCodec<User> codec = new RemoteEntryCodec<>("users", JsonCodec.of(User.class));
  final ArrayList<String> corrupt = new ArrayList<>();

  @Test
  void valuesAbsenceAndTags_roundTrip() {
    var decoded =
        codec.decode(codec.encode(new User(1, "ada"), new String[] {"t1", "t2"}), corrupt::add);
    assertThat(decoded.value()).isEqualTo(new User(1, "ada"));
    assertThat(decoded.tags()).containsExactly("t1", "t2");
    var absent = codec.decode(codec.encode(null, Envelope.NO_TAGS), corrupt::add);
    assertThat(absent).isNotNull();
    assertThat(absent.value()).isNull();
    assertThat(codec.decode(Envelope.TOMBSTONE, corrupt::add))
        .as("a tombstone is a miss, not corrupt")
        .isNull();
    assertThat(corrupt).isEmpty();
  }

  @Test
  void unreadableEntries_areReportedAsCorrupt_notThrown() {
    assertThat(
            codec.decode("plain text someone SET".getBytes(StandardCharsets.UTF_8), corrupt::add))
        .isNull();
    var otherShape =
        Envelope.wrap(
            "{\"id\": \"not a number\"}".getBytes(StandardCharsets.UTF_8), Envelope.NO_TAGS);
    assertThat(codec.decode(otherShape, corrupt::add)).isNull();
    assertThat(corrupt).hasSize(2);
    assertThat(corrupt.get(0)).isEqualTo("not written by this version of Ballast's cache");
  }

  @Test
  void aValueTheCodecCannotEncode_failsNamingRegionTypeAndCodec() {
    var strings = new RemoteEntryCodec<Object>("things", JsonCodec.of(Object.class));
    assertThatThrownBy(() -> strings.encode(new Object(), Envelope.NO_TAGS))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Cache region things cannot encode a java.lang.Object with ");
  }
}
