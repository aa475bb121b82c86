package io.ballast.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import org.junit.jupiter.api.Test;

/**
 * Invalidations Redis missed: kept in order, replayed until one fails, given up after their
 * attempts.
 */
class ReplayQueueTest {
  final ReplayQueue queue = new ReplayQueue();

  @Test
  void replaysInOrder_andStopsAtTheFirstFailure() {
    queue.add(null, Invalidation.Kind.PATTERN, "a:*");
    queue.add(null, Invalidation.Kind.PATTERN, "b:*");
    queue.add(null, Invalidation.Kind.PATTERN, "c:*");
    var seen = new ArrayList<String>();
    assertThat(queue.replay(item -> seen.add(item.argument()) && !item.argument().equals("b:*"), 3))
        .isEqualTo(1);
    assertThat(seen).containsExactly("a:*", "b:*");
    assertThat(queue.size()).as("b stays first, with one attempt counted; c waits").isEqualTo(2);
    seen.clear();
    assertThat(queue.replay(item -> seen.add(item.argument()), 3)).isEqualTo(2);
    assertThat(seen).containsExactly("b:*", "c:*");
    assertThat(queue.isEmpty()).isTrue();
  }

  @Test
  void anItemThatFailsEveryAttempt_isGivenUp() {
    queue.add(null, Invalidation.Kind.PATTERN, "x:*");
    for (int i = 0; i < 3; i++) {
      assertThat(queue.replay(item -> false, 3)).isZero();
    }
    assertThat(queue.isEmpty()).as("given up after 3 attempts").isTrue();
  }

  @Test
  void whileAnItemIsBeingSent_itIsStillCounted() {
    queue.add(null, Invalidation.Kind.PATTERN, "a:*");
    queue.add(null, Invalidation.Kind.PATTERN, "b:*");
    var sizesDuringSend = new ArrayList<Integer>();
    queue.replay(
        item -> {
          sizesDuringSend.add(queue.size());
          return false;
        },
        3);
    assertThat(sizesDuringSend).as("pending while the head is in flight").containsExactly(2);
    assertThat(queue.size()).isEqualTo(2);
  }

  @Test
  void attemptsAreCountedPerItem_theNextHeadStartsAfresh() {
    queue.add(null, Invalidation.Kind.PATTERN, "a:*");
    queue.add(null, Invalidation.Kind.PATTERN, "b:*");
    assertThat(queue.replay(item -> false, 3)).isZero();
    assertThat(queue.replay(item -> false, 3)).isZero();
    // a goes through on its third attempt; b then fails once in the same pass
    assertThat(queue.replay(item -> item.argument().equals("a:*"), 3)).isEqualTo(1);
    assertThat(queue.replay(item -> false, 3)).isZero();
    assertThat(queue.size()).as("b has failed twice of its own three attempts").isEqualTo(1);
    assertThat(queue.replay(item -> false, 3)).isZero();
    assertThat(queue.isEmpty()).isTrue();
  }

  @Test
  void beyondItsBound_theOldestIsDropped() {
    for (int i = 0; i <= ReplayQueue.MAX; i++) {
      queue.add(null, Invalidation.Kind.PATTERN, "k" + i);
    }
    assertThat(queue.size()).isEqualTo(ReplayQueue.MAX);
    var first = new ArrayList<String>();
    queue.replay(
        item -> {
          first.add(item.argument());
          return false;
        },
        1);
    assertThat(first).containsExactly("k1");
  }
}
