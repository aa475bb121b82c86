package io.ballast.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** L1 on its own: deadlines on a fake ticker, stamps against an invalidation, the degraded rule. */
class LocalTierTest {
  final FakeTicker ticker = new FakeTicker();
  final AtomicBoolean synced = new AtomicBoolean(true);
  final LocalTier tier =
      new LocalTier(
          100,
          Duration.ofSeconds(10).toNanos(),
          Duration.ofSeconds(1).toNanos(),
          ticker,
          synced::get,
          Duration.ofSeconds(2).toNanos());

  @Test
  void entriesExpireOnTheTicker_absentOnesSooner() {
    tier.write("k", tier.entry("v", Envelope.NO_TAGS));
    tier.write("gone", tier.entry(null, Envelope.NO_TAGS));
    ticker.advance(Duration.ofMillis(999));
    assertThat(tier.get("gone")).isNotNull();
    ticker.advance(Duration.ofMillis(2));
    assertThat(tier.get("gone")).isNull();
    assertThat(tier.get("k").value()).isEqualTo("v");
    ticker.advance(Duration.ofSeconds(9));
    assertThat(tier.get("k")).isNull();
    assertThat(tier.stats().hitCount()).isEqualTo(2);
    assertThat(tier.stats().missCount()).isEqualTo(2);
  }

  @Test
  void aFill_isRefusedOnceTheStampMoved() {
    var stamp = tier.stamp("k");
    tier.dropKey("k");
    tier.fill("k", tier.entry("old", Envelope.NO_TAGS), stamp);
    assertThat(tier.peek("k")).isNull();
    var again = tier.stamp("k");
    tier.fill("k", tier.entry("new", Envelope.NO_TAGS), again);
    assertThat(tier.peek("k").value()).isEqualTo("new");
    var beforeTag = tier.stamp("other");
    tier.dropTagged("t");
    assertThat(tier.stamp("other"))
        .as("tag and region-wide drops move every stamp")
        .isNotEqualTo(beforeTag);
  }

  @Test
  void tagAndKeyMatchDrops_takeExactlyTheirEntries() {
    tier.write("a", tier.entry("1", new String[] {"t"}));
    tier.write("b", tier.entry("2", Envelope.NO_TAGS));
    tier.write("c", tier.entry("3", new String[] {"u", "t"}));
    tier.dropTagged("t");
    assertThat(tier.peek("a")).isNull();
    assertThat(tier.peek("c")).isNull();
    assertThat(tier.peek("b")).isNotNull();
    tier.dropKeys(k -> k.startsWith("b"));
    assertThat(tier.size()).isZero();
  }

  @Test
  void whileInvalidationsMayBeMissed_onlyYoungEntriesAreServed() {
    tier.write("k", tier.entry("v", Envelope.NO_TAGS));
    synced.set(false);
    ticker.advance(Duration.ofSeconds(1));
    assertThat(tier.get("k")).isNotNull();
    ticker.advance(Duration.ofMillis(1001));
    assertThat(tier.get("k")).as("older than the degraded TTL").isNull();
  }

  @Test
  void sizeZero_keepsNothingButStillStamps() {
    var none = new LocalTier(0, 1_000_000, 1_000_000, ticker, () -> true, 0);
    var stamp = none.stamp("k");
    none.write("k", none.entry("v", Envelope.NO_TAGS));
    assertThat(none.get("k")).isNull();
    assertThat(none.stamp("k")).isNotEqualTo(stamp);
    assertThat(none.size()).isZero();
  }

  /**
   * A fill racing a write never shows, not even for a moment, a value older than the write: a
   * reader loading from a "database" that the writer updates before writing L1, against peeks that
   * know the last completed write. With the stamp check and the put as two steps, the fill could
   * land on top of the write until it noticed and removed itself, and a peek in between saw it.
   */
  @Test
  void aFillRacingAWrite_isNeverSeenOverIt() throws Exception {
    var database = new java.util.concurrent.atomic.AtomicLong();
    var completed = new java.util.concurrent.atomic.AtomicLong();
    var stop = new AtomicBoolean();
    var stale = new java.util.concurrent.ConcurrentLinkedQueue<String>();
    var writer =
        new Thread(
            () -> {
              for (long v = 1; !stop.get(); v++) {
                database.set(v);
                tier.write("k", tier.entry(v, Envelope.NO_TAGS));
                completed.set(v);
              }
            });
    var filler =
        new Thread(
            () -> {
              while (!stop.get()) {
                var stamp = tier.stamp("k");
                tier.fill("k", tier.entry(database.get(), Envelope.NO_TAGS), stamp);
              }
            });
    var peeker =
        new Thread(
            () -> {
              while (!stop.get()) {
                var need = completed.get();
                var seen = tier.peek("k");
                if (seen != null && (Long) seen.value() < need) {
                  stale.add("saw " + seen.value() + " after write " + need + " completed");
                  stop.set(true);
                }
              }
            });
    writer.start();
    filler.start();
    peeker.start();
    var deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    io.ballast.testkit.Await.until(
        "a stale peek or the end of the run",
        Duration.ofSeconds(10),
        () -> !stale.isEmpty() || System.nanoTime() - deadline > 0);
    stop.set(true);
    writer.join();
    filler.join();
    peeker.join();
    assertThat(stale).isEmpty();
    assertThat(completed.get()).as("writes made").isGreaterThan(1000);
  }
}
