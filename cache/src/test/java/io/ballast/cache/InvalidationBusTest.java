package io.ballast.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import io.ballast.testkit.RedisExtension;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The invalidation channel between instances, on a real Redis: delivery, filtering, sync state. */
class InvalidationBusTest {
  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();
  @RegisterExtension final Instances instances = new Instances(REDIS);

  private static final Instant SENT = Instant.parse("2026-12-01T08:00:00Z");
  private final List<Runnable> closers = new ArrayList<>();

  @AfterEach
  void close() {
    closers.forEach(Runnable::run);
  }

  /** A receiver that records what the bus tells it, in order. */
  static final class Recorder implements InvalidationBus.Receiver {
    final List<String> events = new CopyOnWriteArrayList<>();
    final AtomicBoolean syncedWhenResyncRan = new AtomicBoolean(true);
    InvalidationBus bus;

    @Override
    public void apply(Invalidation invalidation) {
      events.add(invalidation.kind() + " " + invalidation.region() + " " + invalidation.argument());
    }

    @Override
    public void resync() {
      syncedWhenResyncRan.set(bus.synced());
      events.add("resync");
    }

    @Override
    public void synced() {
      events.add("synced");
    }
  }

  private final class Node {
    final RedisStore store;
    final RedisGateway gateway;
    final InvalidationBus bus;
    final Recorder recorder = new Recorder();
    final MetricRegistry metrics = new MetricRegistry();

    Node(CacheSettings settings, Clock clock) {
      store = new RedisStore(settings);
      gateway = new RedisGateway(store, new FailureCountingGuard(settings), metrics);
      bus =
          new InvalidationBus(
              store,
              gateway,
              settings.namespace() + "invalidations",
              settings.degradedTtl(),
              clock,
              metrics,
              () -> !gateway.isOpen());
      recorder.bus = bus;
      closers.add(
          () -> {
            gateway.close();
            store.close();
          });
    }

    Node start() {
      bus.subscribe(recorder);
      store.open();
      gateway.open();
      // synced turns true just before the receiver hears it: wait for the receiver
      Instances.await("subscribed", () -> bus.synced() && recorder.events.contains("synced"));
      return this;
    }
  }

  private static Clock at(Instant instant) {
    return Clock.fixed(instant, ZoneOffset.UTC);
  }

  @Test
  void othersInvalidationsReachTheReceiver_ownAreNotApplied_andTheDelayIsMeasuredOnTheClock() {
    var settings = instances.settings().build();
    var sender = new Node(settings, at(SENT)).start();
    var receiver = new Node(settings, at(SENT.plusMillis(7))).start();

    assertThat(sender.bus.publish(Invalidation.Kind.KEY, "users", "42", null)).isTrue();
    assertThat(sender.bus.publishKeys("users", List.of("a|b", "c\nd"), null)).isTrue();
    assertThat(sender.bus.publish(Invalidation.Kind.TAG, "users", "team:1", null)).isTrue();
    Instances.await("three applied", () -> receiver.bus.deliveryDelay().getCount() == 3);

    assertThat(receiver.recorder.events)
        .containsExactly(
            "resync",
            "synced",
            "KEY users 42",
            "KEYS users " + Invalidation.encodeKeys(List.of("a|b", "c\nd")),
            "TAG users team:1");
    assertThat(sender.recorder.events).as("its own messages").containsExactly("resync", "synced");
    assertThat(sender.bus.deliveryDelay().getCount()).isZero();
    var delay = receiver.bus.deliveryDelay().getSnapshot();
    assertThat(delay.getMax()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(7));
    assertThat(delay.getMin()).isEqualTo(TimeUnit.MILLISECONDS.toNanos(7));
    assertThat(sender.bus.instanceId()).isNotEqualTo(receiver.bus.instanceId());
  }

  @Test
  void malformedMessages_areIgnored_andTheNextGoodOneStillApplies() throws Exception {
    var settings = instances.settings().build();
    var receiver = new Node(settings, Clock.systemUTC()).start();
    var sender = new Node(settings, Clock.systemUTC()).start();

    sender.store.publish(receiver.bus.channel(), "not an invalidation");
    sender.store.publish(receiver.bus.channel(), "");
    assertThat(sender.bus.publish(Invalidation.Kind.ALL, "orders", "", null)).isTrue();
    Instances.await("the good one applied", () -> receiver.bus.deliveryDelay().getCount() == 1);

    assertThat(receiver.recorder.events).containsExactly("resync", "synced", "ALL orders ");
  }

  @Test
  void notSynced_whileTheSubscriptionIsDown_andL1IsDroppedBeforeItIsTrustedAgain() {
    var proxy = instances.proxy();
    var settings = instances.settings(instances.proxiedUrl()).build();
    var node = new Node(settings, Clock.systemUTC());
    assertThat(node.bus.synced()).as("before subscribing").isFalse();
    assertThat(node.bus.lostReason()).isEqualTo("not connected yet");
    node.start();
    assertThat(node.recorder.syncedWhenResyncRan).as("resync ran before synced").isFalse();
    node.recorder.events.clear();

    proxy.cut();
    Instances.await("lost", () -> !node.bus.synced());
    assertThat(node.bus.lostReason()).isNotBlank().isNotEqualTo("not connected yet");
    assertThat(node.recorder.events).isEmpty();

    proxy.restore();
    Instances.await("synced again", node.bus::synced);
    assertThat(node.recorder.events).containsExactly("resync", "synced");
    assertThat(node.recorder.syncedWhenResyncRan).as("resync ran before synced").isFalse();
  }

  @Test
  void aLossWhileStopping_isNotReportedAsAnOutage() {
    var proxy = instances.proxy();
    var settings = instances.settings(instances.proxiedUrl()).build();
    var store = new RedisStore(settings);
    var gateway = new RedisGateway(store, new FailureCountingGuard(settings), new MetricRegistry());
    closers.add(store::close);
    var asked = new AtomicBoolean();
    var bus =
        new InvalidationBus(
            store,
            gateway,
            settings.namespace() + "invalidations",
            settings.degradedTtl(),
            Clock.systemUTC(),
            new MetricRegistry(),
            () -> {
              asked.set(true);
              return true;
            });
    var recorder = new Recorder();
    recorder.bus = bus;
    bus.subscribe(recorder);
    store.open();
    Instances.await("subscribed", bus::synced);

    proxy.cut();
    Instances.await("the loss reached the bus", asked::get);
    assertThat(bus.synced()).as("a stop is not an outage").isTrue();
    assertThat(bus.lostReason()).isEqualTo("not connected yet");
  }

  @Test
  void withoutARemoteStore_alwaysSynced_andPublishesReachNoOne() {
    var settings = instances.settings().build();
    var gateway = new RedisGateway(null, new FailureCountingGuard(settings), new MetricRegistry());
    gateway.open();
    var bus =
        new InvalidationBus(
            null,
            gateway,
            "ch",
            Duration.ofSeconds(1),
            Clock.systemUTC(),
            new MetricRegistry(),
            () -> false);
    var recorder = new Recorder();
    recorder.bus = bus;
    bus.subscribe(recorder);
    assertThat(bus.synced()).isTrue();
    assertThat(bus.publish(Invalidation.Kind.KEY, "r", "k", null)).isFalse();
    assertThat(recorder.events).isEmpty();
  }
}
