package io.ballast.core;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts every bound {@link Managed} in phase order and stops them in reverse, exactly once: on
 * {@link #stop()} or, if the application never calls it, from a JVM shutdown hook. Stopping shares
 * one grace period ({@link CoreSettings#shutdownGrace()}) among the services for work in flight.
 *
 * <p>A failure to start stops, in reverse, what had started, and throws a {@link
 * LifecycleException} naming the service and the cause. A lifecycle starts once; after a stop or a
 * failed start it cannot start again. Thread-safe.
 */
@Singleton
public final class Lifecycle {
  private static final Logger LOG = LoggerFactory.getLogger(Lifecycle.class);

  /** Where a lifecycle is. */
  public enum State {
    /** Created; {@link #start()} not called yet. */
    NEW,
    /** Starting its services in phase order. */
    STARTING,
    /** Every service started. */
    RUNNING,
    /** Stopping its services in reverse order. */
    STOPPING,
    /** Every started service stopped (or it was never started). */
    STOPPED,
    /** A service failed to start; the ones started before it were stopped. */
    FAILED
  }

  private final List<Managed> services;
  private final Duration grace;
  private final Deque<Managed> started = new ArrayDeque<>();
  private final Thread shutdownHook = new Thread(this::stopFromHook, "ballast-shutdown");
  private State state = State.NEW;
  private volatile String current;
  private final LongSupplier nanoTime;

  @Inject
  Lifecycle(Set<Managed> services, CoreSettings settings) {
    this(services, settings, System::nanoTime);
  }

  /**
   * A lifecycle reading time from {@code nanoTime} (a {@link System#nanoTime()} stand-in): tests
   * move it instead of waiting.
   */
  Lifecycle(Set<Managed> services, CoreSettings settings, LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
    var ordered = new ArrayList<>(services);
    ordered.sort(Comparator.comparingInt(Managed::phase)); // stable: ties keep binding order
    this.services = List.copyOf(ordered);
    this.grace = settings.shutdownGrace();
  }

  /** The services in start order. */
  public List<Managed> services() {
    return services;
  }

  /** Where the lifecycle is now. */
  public synchronized State state() {
    return state;
  }

  /**
   * The warning printed to standard error when no SLF4J backend is on the class path (SLF4J then
   * drops every log line, Ballast's warnings included), or {@code null} when there is one.
   */
  static String missingLoggingBackend(org.slf4j.ILoggerFactory factory) {
    if (!(factory instanceof org.slf4j.helpers.NOPLoggerFactory)) {
      return null;
    }
    return "Ballast: no SLF4J backend is on the class path, so every Ballast warning is dropped (a pool that "
        + "cannot reach its database, ROW-LEVEL SECURITY IS NOT ENFORCED, …). Add one, e.g. "
        + "ch.qos.logback:logback-classic or org.slf4j:slf4j-simple, as a runtime dependency.";
  }

  /** The service being started now, or {@code null} when none is (before and after starting). */
  public String starting() {
    return current;
  }

  /**
   * Starts every service in phase order.
   *
   * @throws LifecycleException when one fails; those already started are stopped first
   * @throws IllegalStateException when called a second time
   */
  public void start() {
    synchronized (this) {
      if (state != State.NEW) {
        throw new IllegalStateException(
            "Lifecycle is " + state + "; it starts only once, from NEW");
      }
      state = State.STARTING;
      Runtime.getRuntime().addShutdownHook(shutdownHook);
    }
    var missing = missingLoggingBackend(LoggerFactory.getILoggerFactory());
    if (missing != null) {
      System.err.println(missing);
    }
    for (var line : io.ballast.core.settings.EnvironmentCheck.mistyped(System.getenv())) {
      LOG.warn(line);
    }
    var begin = nanoTime.getAsLong();
    for (var service : services) {
      if (state() != State.STARTING) {
        break; // stop() was called while starting: the rest never start
      }
      try {
        LOG.debug("Starting {} (phase {})", service.name(), service.phase());
        current = service.name();
        try {
          service.start();
        } finally {
          current = null;
        }
        boolean stoppedMeanwhile;
        synchronized (this) {
          stoppedMeanwhile = state != State.STARTING;
          if (!stoppedMeanwhile) {
            started.push(service);
          }
        }
        if (stoppedMeanwhile) {
          service.stop(
              Duration.ZERO); // stop() ran while this one was starting and could not see it
          break;
        }
      } catch (Exception | LinkageError e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        var failure =
            new LifecycleException(
                service.name(),
                "Could not start "
                    + service.name()
                    + " (phase "
                    + service.phase()
                    + "): "
                    + e.getMessage(),
                e);
        LOG.error(
            "{}; stopping the {} service(s) already started", failure.getMessage(), started.size());
        stopStarted(State.FAILED, failure);
        removeHook();
        throw failure;
      }
    }
    synchronized (this) {
      if (state == State.STARTING) {
        state = State.RUNNING;
      }
    }
    LOG.info(
        "Started {} service(s) in {} ms",
        services.size(),
        (nanoTime.getAsLong() - begin) / 1_000_000);
  }

  /** Stops every started service in reverse order; calls after the first do nothing. */
  public void stop() {
    if (stopStarted(State.STOPPED, null)) {
      removeHook();
    }
  }

  private void stopFromHook() {
    if (stopStarted(State.STOPPED, null)) {
      LOG.info("Stopped by JVM shutdown");
    }
  }

  /** Stops the started services unless another call is doing it; whether this call did. */
  private boolean stopStarted(State end, Throwable failure) {
    synchronized (this) {
      if (state == State.STOPPING
          || state == State.STOPPED
          || state == State.FAILED
          || state == State.NEW) {
        if (state == State.NEW) {
          state = State.STOPPED;
        }
        return false;
      }
      state = State.STOPPING;
    }
    var deadline = nanoTime.getAsLong() + grace.toNanos();
    while (true) {
      Managed service;
      synchronized (this) {
        service = started.poll();
      }
      if (service == null) {
        break;
      }
      var left = Duration.ofNanos(Math.max(0, deadline - nanoTime.getAsLong()));
      try {
        LOG.debug("Stopping {} (grace left {} ms)", service.name(), left.toMillis());
        service.stop(left);
      } catch (Exception | LinkageError e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        LOG.warn("Could not stop {} cleanly", service.name(), e);
        if (failure != null) {
          failure.addSuppressed(e);
        }
      }
    }
    synchronized (this) {
      state = end;
    }
    return true;
  }

  private void removeHook() {
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException alreadyShuttingDown) {
      // the hook is running or about to
    }
  }
}
