package io.ballast.cache;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link RemoteStore} on Redis through Lettuce: one multiplexed connection for commands and one for
 * the invalidation subscription. Commands have a connect and a command timeout, the request queue
 * is bounded, commands fail at once while disconnected (never queue up), and reconnects back off
 * exponentially. When Redis is down at {@link #open()}, connecting goes on in the background. A
 * heartbeat PINGs the subscription so a silent partition is noticed and reported through {@link
 * Subscriber#onLost}.
 */
final class RedisStore implements RemoteStore {
  private static final Logger LOG = LoggerFactory.getLogger(RedisStore.class);
  private static final RedisCodec<String, byte[]> CODEC =
      RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
  private static final AtomicInteger THREADS = new AtomicInteger();

  private static final String DELETE_INDEXED =
      """
      local members = redis.call('SMEMBERS', KEYS[1])
      for i = 1, #members, 500 do
        redis.call('UNLINK', unpack(members, i, math.min(i + 499, #members)))
      end
      redis.call('UNLINK', KEYS[1])
      return members""";
  private static final String INCREMENT =
      """
      local v = redis.call('INCRBY', KEYS[1], ARGV[1])
      if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
      return v""";
  private static final String DELETE_IF_EQUALS =
      """
      if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
      return 0""";

  private final CacheSettings settings;
  private final Map<String, Subscriber> subscribers = new ConcurrentHashMap<>();
  private final Delay backoff;
  private ScheduledExecutorService scheduler;
  private ClientResources resources;
  private RedisClient client;
  private volatile StatefulRedisConnection<String, byte[]> connection;
  private volatile StatefulRedisPubSubConnection<String, String> pubsub;
  private volatile boolean subscriptionSuspect = true;
  private volatile boolean closed;
  private int connectAttempts;

  RedisStore(CacheSettings settings) {
    this.settings = settings;
    this.backoff =
        Delay.exponential(
            settings.retryDelay(), settings.reconnectDelayMax(), 2, TimeUnit.MILLISECONDS);
  }

  @Override
  public synchronized void open() {
    if (client != null) {
      return;
    }
    scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              var t = new Thread(r, "ballast-redis-" + THREADS.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    resources =
        ClientResources.builder()
            .ioThreadPoolSize(2)
            .computationThreadPoolSize(2)
            .reconnectDelay(() -> backoff)
            .build();
    var uri = RedisURI.create(settings.redisUrl());
    // The URI's timeout bounds the connection handshake (HELLO, AUTH, SELECT): the connect timeout,
    // not the
    // command timeout (a loaded machine can take longer than 500 ms to answer a handshake).
    // Commands get the
    // command timeout from the timeout options and from each connection's own timeout, set once
    // connected.
    uri.setTimeout(settings.connectTimeout());
    client = RedisClient.create(resources, uri);
    client.setOptions(
        ClientOptions.builder()
            .autoReconnect(true)
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .requestQueueSize(settings.requestQueueSize())
            .socketOptions(
                SocketOptions.builder()
                    .connectTimeout(settings.connectTimeout())
                    .keepAlive(true)
                    .build())
            .timeoutOptions(TimeoutOptions.enabled(settings.commandTimeout()))
            .build());
    connect();
    var beat = settings.heartbeat().toMillis();
    var unused =
        scheduler.scheduleWithFixedDelay(this::heartbeat, beat, beat, TimeUnit.MILLISECONDS);
  }

  /** Opens whichever connection is missing; on failure tries again later, backing off. */
  private synchronized void connect() {
    if (closed) {
      return;
    }
    try {
      if (connection == null) {
        var c = client.connect(CODEC);
        c.setTimeout(settings.commandTimeout());
        connection = c;
      }
      if (pubsub == null) {
        var ps = client.connectPubSub(StringCodec.UTF8);
        ps.setTimeout(settings.commandTimeout());
        ps.addListener(
            new RedisPubSubAdapter<>() {
              @Override
              public void message(String channel, String message) {
                var s = subscribers.get(channel);
                if (s != null) {
                  s.onMessage(message);
                }
              }

              @Override
              public void subscribed(String channel, long count) {
                var s = subscribers.get(channel);
                if (s != null) {
                  subscriptionSuspect = false;
                  s.onSubscribed();
                }
              }
            });
        ps.addListener(
            new RedisConnectionStateListener() {
              @Override
              public void onRedisDisconnected(RedisChannelHandler<?, ?> handler) {
                lost("subscription connection lost");
              }
            });
        pubsub = ps;
        resubscribe();
      }
      if (connectAttempts > 0) {
        LOG.info(
            "Connected to Redis {} after {} attempts",
            settings.maskedRedisUrl(),
            connectAttempts + 1);
      }
      connectAttempts = 0;
    } catch (RuntimeException e) {
      var delay = backoff.createDelay(++connectAttempts);
      if (connectAttempts == 1 || connectAttempts % 20 == 0) {
        LOG.warn(
            "Redis {} is unreachable ({}); the cache runs on L1 and loaders, trying again in {} ms "
                + "(attempt {})",
            settings.maskedRedisUrl(),
            rootMessage(e),
            delay.toMillis(),
            connectAttempts);
      }
      var unused = scheduler.schedule(this::connect, delay.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private void resubscribe() {
    var ps = pubsub;
    if (ps != null && !subscribers.isEmpty()) {
      var unused = ps.async().subscribe(subscribers.keySet().toArray(String[]::new));
    }
  }

  private void lost(String reason) {
    if (!subscriptionSuspect) {
      subscriptionSuspect = true;
      subscribers.values().forEach(s -> s.onLost(reason));
    }
  }

  private void heartbeat() {
    var ps = pubsub;
    if (ps == null || closed) {
      return;
    }
    try {
      ps.async().ping().get(settings.commandTimeout().toMillis(), TimeUnit.MILLISECONDS);
      if (subscriptionSuspect) {
        // Messages may have been lost while it went unanswered: subscribe again; the confirmation
        // resyncs.
        resubscribe();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      lost("heartbeat unanswered (" + rootMessage(e) + ")");
    }
  }

  private StatefulRedisConnection<String, byte[]> connection() {
    var c = connection;
    if (c == null) {
      throw new IllegalStateException("not connected to Redis " + settings.maskedRedisUrl());
    }
    return c;
  }

  @Override
  public boolean connected() {
    var c = connection;
    var ps = pubsub;
    return c != null && c.isOpen() && ps != null && ps.isOpen();
  }

  @Override
  public void ping() {
    connection().sync().ping();
  }

  @Override
  public byte[] get(String key) {
    return connection().sync().get(key);
  }

  @Override
  public List<byte[]> getAll(List<String> keys) {
    var values = connection().sync().mget(keys.toArray(String[]::new));
    var out = new ArrayList<byte[]>(values.size());
    for (var kv : values) {
      out.add(kv.hasValue() ? kv.getValue() : null);
    }
    return out;
  }

  @Override
  public void setAll(
      Map<String, byte[]> entries, Duration ttl, Collection<String> indexes, boolean onlyIfAbsent)
      throws Exception {
    if (entries.isEmpty()) {
      return;
    }
    var async = connection().async();
    var futures = new ArrayList<RedisFuture<?>>();
    var args =
        onlyIfAbsent ? SetArgs.Builder.nx().px(ttl.toMillis()) : SetArgs.Builder.px(ttl.toMillis());
    for (var e : entries.entrySet()) {
      futures.add(async.set(e.getKey(), e.getValue(), args));
    }
    if (!indexes.isEmpty()) {
      var members =
          entries.keySet().stream()
              .map(k -> k.getBytes(StandardCharsets.UTF_8))
              .toArray(byte[][]::new);
      for (var index : indexes) {
        futures.add(async.sadd(index, members));
        futures.add(async.pexpire(index, ttl.toMillis()));
      }
    }
    await(futures);
  }

  private void await(List<RedisFuture<?>> futures) throws Exception {
    if (!LettuceFutures.awaitAll(settings.commandTimeout(), futures.toArray(RedisFuture[]::new))) {
      throw new IllegalStateException(
          "Redis did not answer within " + settings.commandTimeout().toMillis() + " ms");
    }
  }

  @Override
  public boolean setIfAbsent(String key, byte[] value, Duration ttl) {
    return "OK"
        .equals(connection().sync().set(key, value, SetArgs.Builder.nx().px(ttl.toMillis())));
  }

  @Override
  public void deleteIfEquals(String key, byte[] value) {
    connection().sync().eval(DELETE_IF_EQUALS, ScriptOutputType.INTEGER, new String[] {key}, value);
  }

  @Override
  public long delete(Collection<String> keys) {
    if (keys.isEmpty()) {
      return 0;
    }
    return connection().sync().unlink(keys.toArray(String[]::new));
  }

  @Override
  public Set<String> deleteIndexed(String index) {
    List<Object> members = connection().sync().eval(DELETE_INDEXED, ScriptOutputType.MULTI, index);
    var out = new LinkedHashSet<String>();
    for (var m : members) {
      out.add(m instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(m));
    }
    return out;
  }

  @Override
  public long deleteMatching(String glob) {
    var sync = connection().sync();
    var args = ScanArgs.Builder.matches(glob).limit(500);
    long deleted = 0;
    KeyScanCursor<String> cursor = sync.scan(ScanCursor.INITIAL, args);
    while (true) {
      if (!cursor.getKeys().isEmpty()) {
        deleted += sync.unlink(cursor.getKeys().toArray(String[]::new));
      }
      if (cursor.isFinished()) {
        return deleted;
      }
      cursor = sync.scan(cursor, args);
    }
  }

  @Override
  public long increment(String key, long delta, Duration ttl) {
    Long value =
        connection()
            .sync()
            .eval(
                INCREMENT,
                ScriptOutputType.INTEGER,
                new String[] {key},
                Long.toString(delta).getBytes(StandardCharsets.US_ASCII),
                Long.toString(ttl.toMillis()).getBytes(StandardCharsets.US_ASCII));
    return value;
  }

  @Override
  public void publish(String channel, String message) {
    connection().sync().publish(channel, message.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void subscribe(String channel, Subscriber subscriber) {
    if (subscribers.putIfAbsent(channel, subscriber) != null) {
      throw new IllegalStateException("channel " + channel + " already has a subscriber");
    }
    resubscribe();
  }

  @Override
  public Map<String, Object> describe() {
    var sync = connection().sync();
    var start = System.nanoTime();
    sync.ping();
    var pingMs = (System.nanoTime() - start) / 1e6;
    var info = new LinkedHashMap<String, String>();
    for (var line :
        sync.info().split("\r?\n", -1)) { // the default sections hold server, memory and clients
      var colon = line.indexOf(':');
      if (colon > 0 && !line.startsWith("#")) {
        info.put(line.substring(0, colon), line.substring(colon + 1).trim());
      }
    }
    var out = new LinkedHashMap<String, Object>();
    out.put("url", settings.maskedRedisUrl());
    out.put("pingMs", Math.round(pingMs * 1000) / 1000.0);
    out.put("version", info.getOrDefault("redis_version", "unknown"));
    out.put("usedMemory", info.getOrDefault("used_memory_human", "unknown"));
    out.put("connectedClients", info.getOrDefault("connected_clients", "unknown"));
    out.put(
        "subscription",
        pubsub == null ? "not connected" : subscriptionSuspect ? "suspect" : "live");
    return out;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
    if (client != null) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    if (resources != null) {
      var unused = resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
  }

  static String rootMessage(Throwable e) {
    var root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    var message = root.getMessage();
    return message == null ? root.getClass().getSimpleName() : message;
  }

  @Override
  public String toString() {
    return "RedisStore[" + settings.maskedRedisUrl() + "]";
  }
}
