package io.ballast.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs a steady load of calls from several threads, takes a server away for a while, brings it
 * back, and records every call: how long callers waited while it was down, and how long after it
 * came back the calls succeeded again. Used by outage tests and by the benchmark that reports the
 * recovery figure.
 *
 * <pre>{@code
 * var result = OutageDrill.builder(() -> db.fetchValue("select 1"))
 *     .threads(8).down(Duration.ofSeconds(10))
 *     .run(server::stop, server::start);
 * assertThat(result.recovery()).isLessThan(Duration.ofSeconds(5));
 * }</pre>
 */
public final class OutageDrill {
  /**
   * One call: when it started and ended ({@link System#nanoTime()}) and its failure, or {@code
   * null}.
   */
  public record Call(long start, long end, Throwable failure) {
    /** The length in nanoseconds. */
    public long nanos() {
      return end - start;
    }
  }

  private final Callable<?> call;
  private int threads = 8;
  private Duration before = Duration.ofSeconds(1);
  private Duration down = Duration.ofSeconds(10);
  private Duration settle = Duration.ofSeconds(1);
  private Duration maxAfter = Duration.ofSeconds(30);
  private Duration steadyAfter = Duration.ofSeconds(1);

  private OutageDrill(Callable<?> call) {
    this.call = call;
  }

  /** A drill that calls {@code call} in a loop on each thread. */
  public static OutageDrill builder(Callable<?> call) {
    return new OutageDrill(call);
  }

  /** How many callers run the workload at once. */
  public OutageDrill threads(int threads) {
    this.threads = threads;
    return this;
  }

  /** Load before the outage. */
  public OutageDrill before(Duration before) {
    this.before = before;
    return this;
  }

  /** How long the server stays away (from {@code stop} returning to {@code start} being called). */
  public OutageDrill down(Duration down) {
    this.down = down;
    return this;
  }

  /**
   * The first part of the outage, left out of {@link Result#whileDown()}: the time to notice it.
   */
  public OutageDrill settle(Duration settle) {
    this.settle = settle;
    return this;
  }

  /**
   * The longest the load goes on after {@code start} returns, waiting for every thread to succeed
   * again.
   */
  public OutageDrill maxAfter(Duration maxAfter) {
    this.maxAfter = maxAfter;
    return this;
  }

  /**
   * Runs the load, calls {@code stop}, waits {@link #down}, calls {@code start} (which returns once
   * the server accepts connections), and goes on until every call has succeeded for a second or
   * {@link #maxAfter} passed.
   */
  public Result run(Runnable stop, Runnable start) throws InterruptedException {
    var calls = new ConcurrentLinkedQueue<Call>();
    var done = new AtomicBoolean();
    var executor = Executors.newFixedThreadPool(threads);
    for (int i = 0; i < threads; i++) {
      executor.execute(
          () -> {
            while (!done.get()) {
              var t0 = System.nanoTime();
              Throwable failure = null;
              try {
                call.call();
              } catch (Throwable e) {
                failure = e;
              }
              calls.add(new Call(t0, System.nanoTime(), failure));
              if (failure != null) {
                java.util.concurrent.locks.LockSupport.parkNanos(
                    1_000_000); // a caller that tries again soon
              }
            }
          });
    }
    long stopAt;
    long upAt;
    try {
      pause(before);
      stopAt = System.nanoTime();
      stop.run();
      pause(down);
      start.run();
      upAt = System.nanoTime();
      var deadline = upAt + maxAfter.toNanos();
      while (System.nanoTime() < deadline) {
        pause(Duration.ofMillis(100));
        var now = System.nanoTime();
        var lastFailure =
            calls.stream().filter(c -> c.failure() != null).mapToLong(Call::end).max().orElse(0);
        if (lastFailure < upAt || now - lastFailure > steadyAfter.toNanos()) {
          if (calls.stream()
              .anyMatch(c -> c.failure() == null && c.start() > lastFailure && c.start() > upAt)) {
            break;
          }
        }
      }
    } finally {
      done.set(true);
      executor.shutdown();
      executor.awaitTermination(60, TimeUnit.SECONDS);
    }
    var list = new ArrayList<>(calls);
    list.sort(Comparator.comparingLong(Call::start));
    return new Result(Collections.unmodifiableList(list), stopAt, upAt, settle.toNanos());
  }

  private static void pause(Duration d) throws InterruptedException {
    TimeUnit.NANOSECONDS.sleep(d.toNanos());
  }

  /** What the drill recorded. */
  public record Result(List<Call> calls, long stoppedAt, long upAt, long settleNanos) {
    /**
     * From the server accepting connections again to the end of the last failed call (zero if none
     * failed).
     */
    public Duration recovery() {
      var last =
          calls.stream()
              .filter(c -> c.failure() != null && c.end() > upAt)
              .mapToLong(Call::end)
              .max();
      return Duration.ofNanos(last.isPresent() ? last.getAsLong() - upAt : 0);
    }

    /** Calls that started after the outage settled and ended before the server came back. */
    public List<Call> whileDown() {
      return calls.stream()
          .filter(c -> c.start() > stoppedAt + settleNanos && c.end() < upAt)
          .toList();
    }

    /** Every call that overlapped the outage (from the stop to the recovery). */
    public List<Call> duringOutage() {
      var recovered = upAt + recovery().toNanos();
      return calls.stream().filter(c -> c.end() > stoppedAt && c.start() < recovered).toList();
    }

    /** The longest any call waited, of those that overlapped the outage. */
    public Duration longestWait() {
      return Duration.ofNanos(duringOutage().stream().mapToLong(Call::nanos).max().orElse(0));
    }

    /** The {@code q} quantile (0–1) of {@code calls}' durations. */
    public static Duration quantile(List<Call> calls, double q) {
      if (calls.isEmpty()) {
        return Duration.ZERO;
      }
      var sorted = calls.stream().mapToLong(Call::nanos).sorted().toArray();
      return Duration.ofNanos(
          sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)]);
    }

    /** Calls that succeeded after the server came back. */
    public long successesAfter() {
      return calls.stream().filter(c -> c.failure() == null && c.start() > upAt).count();
    }

    /** One line with the figures, for logs and reports. */
    public String summary() {
      var down = whileDown();
      return String.format(
          Locale.ROOT,
          "recovery %d ms after the server accepted connections; while down: %d calls, "
              + "p50 %.1f ms, p99 %.1f ms; longest wait during the outage %d ms; %d calls in all",
          recovery().toMillis(),
          down.size(),
          quantile(down, 0.5).toNanos() / 1e6,
          quantile(down, 0.99).toNanos() / 1e6,
          longestWait().toMillis(),
          calls.size());
    }
  }
}
