package io.ballast.cache;

import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import io.ballast.core.settings.Checks;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The channel on which instances tell each other what to drop from L1: publishes this instance's
 * {@link Invalidation}s, hands the other instances' ones to a {@link Receiver}, and knows whether
 * every invalidation another instance published is known to have arrived ({@link #synced()}).
 *
 * <p>It is not synced until the subscription is live, and stops being synced as soon as the store
 * reports the subscription may be losing messages; when it is live again the receiver is told to
 * drop L1 (whatever was published meanwhile is unknown) before it counts as synced. Without a
 * remote store there is no one to hear from, and it is always synced.
 */
final class InvalidationBus implements LocalTier.SyncState {
  private static final Logger LOG = LoggerFactory.getLogger(InvalidationBus.class);
  private static final String NOT_CONNECTED = "not connected yet";

  /** What the bus does with other instances' invalidations and with a resubscription. */
  interface Receiver {
    /** Drops this instance's L1 entries named by another instance's invalidation. */
    void apply(Invalidation invalidation);

    /**
     * The subscription is live again after messages may have been missed: drop every L1 entry
     * before L1 is trusted again. Runs before {@link #synced()} turns {@code true}.
     */
    void resync();

    /** The bus is synced again (after {@link #resync()}). */
    void synced();
  }

  private final RemoteStore remote; // null: L1 only
  private final RedisGateway gateway;
  private final String channel;
  private final String instanceId = UUID.randomUUID().toString().substring(0, 12);
  private final Duration degradedTtl;
  private final Clock clock;
  private final Timer deliveryDelay;
  private volatile DistributionDataPoint exportedDelays;
  private final BooleanSupplier stopping;

  private volatile boolean synced;
  private volatile String lostReason = NOT_CONNECTED;

  /**
   * A bus on {@code channel} of {@code remote} (null: none); publishes go through {@code gateway}.
   * {@code stopping} says whether a lost subscription is the instance shutting down (not reported).
   */
  InvalidationBus(
      RemoteStore remote,
      RedisGateway gateway,
      String channel,
      Duration degradedTtl,
      Clock clock,
      MetricRegistry metrics,
      BooleanSupplier stopping) {
    this.remote = remote;
    this.gateway = Objects.requireNonNull(gateway, "gateway");
    this.channel = Objects.requireNonNull(channel, "channel");
    this.degradedTtl = Objects.requireNonNull(degradedTtl, "degradedTtl");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.stopping = Objects.requireNonNull(stopping, "stopping");
    this.synced = remote == null;
    this.deliveryDelay =
        metrics.timer(MetricRegistry.name("ballast", "cache", "invalidation", "delivery"));
  }

  /** Subscribes; other instances' invalidations go to {@code receiver} from now on. */
  void subscribe(Receiver receiver) {
    Objects.requireNonNull(receiver, "receiver");
    if (remote != null) {
      remote.subscribe(channel, new Subscription(receiver));
    }
  }

  /** The channel's name (namespace included). */
  String channel() {
    return channel;
  }

  /** This instance's id in every message it publishes (its own messages are not applied). */
  String instanceId() {
    return instanceId;
  }

  /**
   * Whether every invalidation published by other instances is known to have arrived, so L1 entries
   * are trusted for their full TTL.
   */
  @Override
  public boolean synced() {
    return synced;
  }

  /** Why the bus is not synced (or was not, last time): for the health check and the logs. */
  String lostReason() {
    return lostReason;
  }

  /**
   * Time from another instance's publish to its invalidation taking effect here, one sample per
   * message applied.
   */
  /** Every delivery's delay also goes to {@code delays} (an exported histogram). */
  void exportDelays(DistributionDataPoint delays) {
    this.exportedDelays = delays;
  }

  Timer deliveryDelay() {
    return deliveryDelay;
  }

  /** Publishes an invalidation for other instances; {@code false} if it could not reach Redis. */
  boolean publish(Invalidation.Kind kind, String region, String argument, Meter regionErrors) {
    var message = new Invalidation(instanceId, kind, region, nowMicros(), argument).encode();
    return gateway.run(store -> store.publish(channel, message), regionErrors);
  }

  /**
   * Publishes one message telling other instances to drop {@code keys} of {@code region} (a {@code
   * putAll}): one round trip whatever the number of keys. {@code false} if it could not reach
   * Redis.
   */
  boolean publishKeys(String region, Collection<String> keys, Meter regionErrors) {
    if (keys.size() == 1) {
      return publish(Invalidation.Kind.KEY, region, keys.iterator().next(), regionErrors);
    }
    return publish(Invalidation.Kind.KEYS, region, Invalidation.encodeKeys(keys), regionErrors);
  }

  private long nowMicros() {
    return ChronoUnit.MICROS.between(Instant.EPOCH, clock.instant());
  }

  private final class Subscription implements RemoteStore.Subscriber {
    private final Receiver receiver;

    Subscription(Receiver receiver) {
      this.receiver = receiver;
    }

    @Override
    public void onMessage(String message) {
      var invalidation = Invalidation.decode(message);
      if (invalidation == null) {
        LOG.warn("Ignoring a malformed invalidation message on {}", channel);
        return;
      }
      if (invalidation.instance().equals(instanceId)) {
        return;
      }
      receiver.apply(invalidation);
      // recorded once applied, so the count says which invalidations have taken effect here
      var delay = invalidation.sentAt() == 0 ? 0 : nowMicros() - invalidation.sentAt();
      deliveryDelay.update(Math.max(0, delay), TimeUnit.MICROSECONDS);
      var delays = exportedDelays;
      if (delays != null) {
        delays.observe(Math.max(0, delay) / 1e6);
      }
    }

    @Override
    public void onSubscribed() {
      receiver.resync();
      var was = synced;
      synced = true;
      if (!was) {
        LOG.info(
            "Cache invalidations subscribed on {}{}",
            channel,
            lostReason.equals(NOT_CONNECTED) ? "" : "; L1 dropped to resync after: " + lostReason);
      }
      receiver.synced();
    }

    @Override
    public void onLost(String reason) {
      if (stopping.getAsBoolean()) {
        return; // stopping: the connections close on purpose
      }
      lostReason = reason;
      if (synced) {
        synced = false;
        LOG.warn(
            "Cache invalidations may be missed ({}): L1 entries older than {} are not served until"
                + " the subscription is back",
            reason,
            Checks.human(degradedTtl));
      }
    }
  }
}
