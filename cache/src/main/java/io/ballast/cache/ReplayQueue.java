package io.ballast.cache;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Invalidations that could not reach Redis, kept in order (up to {@value #MAX}, the oldest dropped
 * first with a warning) and replayed once Redis answers, so that Redis and the other instances drop
 * the old value too. A replay that fails stops the round (the rest would fail as well) and counts
 * one attempt against its item; an item that fails its last attempt is given up with a warning.
 * Thread-safe.
 */
final class ReplayQueue {
  static final int MAX = 10_000;
  private static final Logger LOG = LoggerFactory.getLogger(ReplayQueue.class);

  /**
   * An invalidation to replay. It stays at the head of the queue while it is being sent, so {@link
   * #size()} counts it until it has reached Redis or been given up.
   *
   * @param region the region, or {@code null} for a pattern (which spans regions)
   */
  record Item(TwoLevelRegion<?> region, Invalidation.Kind kind, String argument) {
    String regionName() {
      return region == null ? "*" : region.name();
    }
  }

  /** Failed attempts of the head item; touched only inside {@link #replay}. */
  private int headAttempts;

  private final ConcurrentLinkedDeque<Item> items = new ConcurrentLinkedDeque<>();

  void add(TwoLevelRegion<?> region, Invalidation.Kind kind, String argument) {
    items.addLast(new Item(region, kind, argument));
    while (items.size() > MAX) {
      var dropped = items.pollFirst();
      if (dropped != null) {
        LOG.warn(
            "More than {} invalidations wait for Redis; dropping the oldest ({} {} in region {}): other "
                + "instances may serve it until its TTL ends",
            MAX,
            dropped.kind(),
            dropped.argument(),
            dropped.regionName());
      }
    }
  }

  /**
   * Replays items in order with {@code replay} (true: it reached Redis) until one fails or none is
   * left.
   *
   * @param maxAttempts attempts an item gets before it is given up
   * @return how many were replayed
   */
  synchronized int replay(Predicate<Item> replay, int maxAttempts) {
    var replayed = 0;
    Item item;
    while ((item = items.peekFirst()) != null) {
      if (replay.test(item)) {
        items.removeFirstOccurrence(item);
        headAttempts = 0;
        replayed++;
        continue;
      }
      headAttempts++;
      if (headAttempts >= Math.max(1, maxAttempts)) {
        items.removeFirstOccurrence(item);
        LOG.warn(
            "Could not replay the invalidation {} {} of region {} after {} attempts; other instances may "
                + "serve it until its TTL ends",
            item.kind(),
            item.argument(),
            item.regionName(),
            headAttempts);
        headAttempts = 0;
      }
      break;
    }
    if (replayed > 0) {
      LOG.info("Replayed {} invalidations made while Redis was unreachable", replayed);
    }
    return replayed;
  }

  int size() {
    return items.size();
  }

  boolean isEmpty() {
    return items.isEmpty();
  }
}
