package io.ballast.cache;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongFunction;
import java.util.function.ToLongFunction;

/**
 * At most one load per key at a time in this instance: callers that miss together wait for the
 * first one's load and share its result or its exception. A load carries the key's stamp from when
 * it began; a caller whose stamp differs (the key was invalidated since) never joins it — its
 * result may be the old value — and takes over with a load of its own. Thread-safe.
 *
 * @param <T> what a load gives
 */
final class SingleFlight<T> {
  /** A load in progress, the key's stamp when it began, and how many callers joined it. */
  private record Flight<T>(CompletableFuture<T> result, long stamp, AtomicInteger joined) {}

  private final ConcurrentHashMap<String, Flight<T>> inflight = new ConcurrentHashMap<>();

  /**
   * The result of {@code load} for {@code key}, run here or by the caller already loading it with
   * the same stamp.
   *
   * @param stamp the key's current stamp
   * @param load runs the load, given the stamp it began with
   */
  T load(String key, ToLongFunction<String> stamp, LongFunction<T> load) {
    Flight<T> mine;
    while (true) {
      mine = new Flight<>(new CompletableFuture<>(), stamp.applyAsLong(key), new AtomicInteger());
      var theirs = inflight.putIfAbsent(key, mine);
      if (theirs == null) {
        break;
      }
      if (theirs.stamp() == mine.stamp()) {
        theirs.joined().incrementAndGet();
        return join(theirs.result());
      }
      // That load began before an invalidation of the key: its result may be the old value. Take
      // over.
      if (inflight.replace(key, theirs, mine)) {
        break;
      }
    }
    try {
      var result = load.apply(mine.stamp());
      mine.result().complete(result);
      return result;
    } catch (RuntimeException | Error e) {
      mine.result().completeExceptionally(e);
      throw e;
    } finally {
      inflight.remove(key, mine);
    }
  }

  /** Loads in progress now. */
  int inFlight() {
    return inflight.size();
  }

  /** Callers that joined the load of {@code key} in progress now (0 if none is). */
  int joined(String key) {
    var flight = inflight.get(key);
    return flight == null ? 0 : flight.joined().get();
  }

  private static <T> T join(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }
}
