package io.ballast.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Lifecycle ordering and failure handling, with in-memory services (no I/O involved). */
class LifecycleTest {
  private final List<String> events = new CopyOnWriteArrayList<>();

  private Managed service(String name, int phase) {
    return service(name, phase, null);
  }

  private Managed service(String name, int phase, RuntimeException failOnStart) {
    return new Managed() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public int phase() {
        return phase;
      }

      @Override
      public void start() {
        if (failOnStart != null) {
          throw failOnStart;
        }
        events.add("start " + name);
      }

      @Override
      public void stop(Duration grace) {
        events.add("stop " + name);
      }
    };
  }

  private Lifecycle lifecycle(Managed... services) {
    return new Lifecycle(new LinkedHashSet<>(List.of(services)), CoreSettings.defaults());
  }

  @Test
  void start_runsPhasesInOrderAndTiesInBindingOrder_stopReverses() {
    var lifecycle =
        lifecycle(
            service("admin", Managed.PHASE_ADMIN),
            service("app-b", 500),
            service("pool", 100),
            service("app-a", 500),
            service("migrations", 200));
    lifecycle.start();
    assertThat(lifecycle.state()).isEqualTo(Lifecycle.State.RUNNING);
    lifecycle.stop();
    assertThat(events)
        .containsExactly(
            "start admin",
            "start pool",
            "start migrations",
            "start app-b",
            "start app-a",
            "stop app-a",
            "stop app-b",
            "stop migrations",
            "stop pool",
            "stop admin");
    assertThat(lifecycle.state()).isEqualTo(Lifecycle.State.STOPPED);
  }

  @Test
  void stop_runsOnlyOnce() {
    var lifecycle = lifecycle(service("pool", 100));
    lifecycle.start();
    lifecycle.stop();
    lifecycle.stop();
    assertThat(events).containsExactly("start pool", "stop pool");
  }

  @Test
  void startFailure_stopsWhatStartedInReverseAndNamesTheCause() {
    var lifecycle =
        lifecycle(
            service("pool", 100),
            service("migrations", 200),
            service("cache", 300, new IllegalStateException("redis refused the connection")),
            service("admin", 900));
    assertThatThrownBy(lifecycle::start)
        .isInstanceOf(LifecycleException.class)
        .hasMessage("Could not start cache (phase 300): redis refused the connection")
        .hasCauseInstanceOf(IllegalStateException.class)
        .satisfies(e -> assertThat(((LifecycleException) e).service()).isEqualTo("cache"));
    assertThat(events)
        .containsExactly("start pool", "start migrations", "stop migrations", "stop pool");
    assertThat(lifecycle.state()).isEqualTo(Lifecycle.State.FAILED);
    lifecycle.stop();
    assertThat(events).hasSize(4);
  }

  @Test
  void start_twice_isRefused() {
    var lifecycle = lifecycle(service("pool", 100));
    lifecycle.start();
    try {
      assertThatThrownBy(lifecycle::start)
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("Lifecycle is RUNNING; it starts only once, from NEW");
    } finally {
      lifecycle.stop();
    }
  }

  @Test
  void stop_sharesOneGracePeriodAmongServices() {
    var graces = new ArrayList<Duration>();
    var now = new AtomicLong(1_000_000_000L);
    Managed slow =
        new Managed() {
          @Override
          public String name() {
            return "slow";
          }

          @Override
          public void start() {}

          @Override
          public void stop(Duration grace) {
            graces.add(grace);
            now.addAndGet(Duration.ofMillis(300).toNanos()); // a stop that takes 300 ms
          }
        };
    Managed pool =
        new Managed() {
          @Override
          public String name() {
            return "pool";
          }

          @Override
          public int phase() {
            return PHASE_POOL;
          }

          @Override
          public void start() {}

          @Override
          public void stop(Duration grace) {
            graces.add(grace);
          }
        };
    var lifecycle =
        new Lifecycle(
            Set.of(slow, pool),
            CoreSettings.builder().shutdownGrace(Duration.ofSeconds(2)).build(),
            now::get);
    lifecycle.start();
    lifecycle.stop();
    assertThat(graces).containsExactly(Duration.ofSeconds(2), Duration.ofMillis(1700));
  }

  @Test
  void stopFailure_isLoggedAndTheOthersStillStop() {
    Managed broken =
        new Managed() {
          @Override
          public String name() {
            return "broken";
          }

          @Override
          public void start() {
            events.add("start broken");
          }

          @Override
          public void stop(Duration grace) {
            throw new IllegalStateException("boom");
          }
        };
    var lifecycle = lifecycle(service("pool", 100), broken);
    lifecycle.start();
    lifecycle.stop();
    assertThat(events).containsExactly("start pool", "start broken", "stop pool");
    assertThat(lifecycle.state()).isEqualTo(Lifecycle.State.STOPPED);
  }

  /** Regression: without an SLF4J backend every Ballast warning vanished without a trace. */
  @Test
  void noLoggingBackend_isSaidOnStandardError() {
    assertThat(Lifecycle.missingLoggingBackend(new org.slf4j.helpers.NOPLoggerFactory()))
        .startsWith("Ballast: no SLF4J backend is on the class path")
        .contains("logback-classic");
    assertThat(Lifecycle.missingLoggingBackend(org.slf4j.LoggerFactory.getILoggerFactory()))
        .isNull();
  }
}
