package io.ballast.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The invalidation channel's wire form. */
class InvalidationTest {
  @Test
  void everyKind_survivesTheWire_argumentsWithSeparatorsIncluded() {
    for (var kind : Invalidation.Kind.values()) {
      var argument =
          kind == Invalidation.Kind.KEYS
              ? Invalidation.encodeKeys(List.of("a|b", "c\nd", ""))
              : "x|y:z";
      var sent = new Invalidation("inst-1", kind, "users", 1_700_000_000_000_000L, argument);
      assertThat(Invalidation.decode(sent.encode())).as(kind.name()).isEqualTo(sent);
    }
  }

  @Test
  void keys_areLengthPrefixed_soAnyCharacterMayStandInAKey() {
    var keys = List.of("plain", "with:colon", "12:digits", "pipe|and\nnewline", "");
    assertThat(Invalidation.decodeKeys(Invalidation.encodeKeys(keys)))
        .containsExactlyElementsOf(keys);
    assertThat(Invalidation.decodeKeys("5:abc")).as("shorter than announced").isNull();
    assertThat(Invalidation.decodeKeys("x:abc")).as("no length").isNull();
  }

  @Test
  void malformedOrUnknownMessages_decodeToNull() {
    assertThat(Invalidation.decode("no separators")).isNull();
    assertThat(Invalidation.decode("inst|KK|users|1|k")).isNull();
    assertThat(Invalidation.decode("inst|Z|users|1|k")).as("a kind from a newer version").isNull();
    assertThat(Invalidation.decode("inst|M|users|1|9:short")).isNull();
    assertThat(Invalidation.decode("inst|K|users|not-a-time|k").sentAt()).isZero();
  }
}
