package io.ballast.cache;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Redis globs as regexes: what deleteByPattern drops from L1 is what SCAN MATCH deletes from Redis.
 */
class RedisGlobTest {
  @Test
  void globs_matchAsRedisMatchesThem() {
    assertThat(RedisGlob.toRegex("users:tenant7:*").matcher("users:tenant7:12").matches()).isTrue();
    assertThat(RedisGlob.toRegex("users:tenant7:*").matcher("users:tenant70:1").matches())
        .isFalse();
    assertThat(RedisGlob.toRegex("users:?").matcher("users:1").matches()).isTrue();
    assertThat(RedisGlob.toRegex("users:?").matcher("users:12").matches()).isFalse();
    assertThat(RedisGlob.toRegex("users:[ab]*").matcher("users:b9").matches()).isTrue();
    assertThat(RedisGlob.toRegex("users:[^ab]*").matcher("users:b9").matches()).isFalse();
    assertThat(RedisGlob.toRegex("users:[a-c]").matcher("users:b").matches()).isTrue();
    assertThat(RedisGlob.toRegex("a.b\\*").matcher("a.b*").matches()).isTrue();
    assertThat(RedisGlob.toRegex("a.b\\*").matcher("axb*").matches()).isFalse();
  }
}
