package io.ballast.cache;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The shared level (L2) behind every region: what a backend must do for the cache. Redis through
 * Lettuce is the implementation shipped ({@link RedisCacheModule}); another backend implements this
 * and is bound in its place. Every method may throw when the backend is unreachable or slow; the
 * cache catches, counts and falls back. Keys arrive fully qualified (namespace included).
 */
public interface RemoteStore {
  /** Whether the connections are open now (no round trip). */
  boolean connected();

  /** A round trip that changes nothing: the guard's probe. */
  void ping() throws Exception;

  /** The bytes stored under {@code key}, or {@code null}. */
  byte[] get(String key) throws Exception;

  /** The bytes of each key, in order, {@code null} for missing ones; one round trip. */
  List<byte[]> getAll(List<String> keys) throws Exception;

  /**
   * Stores each entry for {@code ttl} and adds its key to each of {@code indexes} (sets used for
   * tags), in one round trip. With {@code onlyIfAbsent}, an entry is stored only where its key
   * holds nothing (cache fills after a load use it, so they never overwrite a write or an
   * invalidation marker).
   */
  void setAll(
      Map<String, byte[]> entries, Duration ttl, Collection<String> indexes, boolean onlyIfAbsent)
      throws Exception;

  /**
   * Stores {@code value} only if {@code key} is absent, for {@code ttl}; {@code true} if it was
   * stored.
   */
  boolean setIfAbsent(String key, byte[] value, Duration ttl) throws Exception;

  /** Deletes {@code key} only if it still holds {@code value} (releasing a lock one owns). */
  void deleteIfEquals(String key, byte[] value) throws Exception;

  /** Deletes the keys (without blocking the server on large values); returns how many existed. */
  long delete(Collection<String> keys) throws Exception;

  /** Atomically deletes the index set and every key listed in it; returns the listed keys. */
  Set<String> deleteIndexed(String index) throws Exception;

  /**
   * Deletes every key matching the glob, in batches, without blocking the server; returns how many.
   */
  long deleteMatching(String glob) throws Exception;

  /** Adds {@code delta} to the counter, giving a new counter {@code ttl}; returns the new value. */
  long increment(String key, long delta, Duration ttl) throws Exception;

  /** Publishes {@code message} on {@code channel}. */
  void publish(String channel, String message) throws Exception;

  /**
   * Starts delivering the channel's messages to {@code subscriber}, now and after every reconnect,
   * until {@link #close()}. Connecting happens in the background; this does not block or throw for
   * an unreachable backend.
   */
  void subscribe(String channel, Subscriber subscriber);

  /** Opens connections (in the background if the backend is down). */
  void open();

  /** A quick look at the backend for the health check: latency, version, memory, clients. */
  Map<String, Object> describe() throws Exception;

  /** Closes every connection. */
  void close();

  /** Receives a channel's messages and the state of the subscription. */
  interface Subscriber {
    /** A message, in publication order. */
    void onMessage(String message);

    /**
     * The subscription is (again) live: every message published from now on will arrive. Messages
     * published while it was not may have been lost.
     */
    void onSubscribed();

    /** The subscription may be losing messages (disconnected, or a heartbeat went unanswered). */
    void onLost(String reason);
  }
}
