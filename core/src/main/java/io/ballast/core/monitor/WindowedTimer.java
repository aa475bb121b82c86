package io.ballast.core.monitor;

import com.codahale.metrics.Snapshot;
import com.codahale.metrics.Timer;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;

/**
 * A Dropwizard {@link Timer} that is a view of the query monitor's own windowed HdrHistograms:
 * recording is one {@link LongAdder} increment (the monotonic count), and the snapshot (percentiles
 * over the monitor's window) is computed only when a reporter or the Prometheus endpoint reads it.
 * This keeps Dropwizard's reservoirs, which update a sorted sample map on every call, off the query
 * path.
 */
final class WindowedTimer extends Timer {
  private final LongAdder count = new LongAdder();
  private final LongAdder nanos = new LongAdder();
  private final Supplier<Histogram> microsWindow;

  WindowedTimer(Supplier<Histogram> microsWindow) {
    this.microsWindow = microsWindow;
  }

  void increment(long elapsedNanos) {
    count.increment();
    nanos.add(elapsedNanos);
  }

  /** The time of every statement recorded, in seconds (monotonic, for a summary's {@code _sum}). */
  double sumSeconds() {
    return nanos.sum() / 1e9;
  }

  /** The windowed histogram, in microseconds. */
  Histogram window() {
    return microsWindow.get();
  }

  @Override
  public void update(long duration, TimeUnit unit) {
    throw new UnsupportedOperationException("fed by the query monitor");
  }

  @Override
  public long getCount() {
    return count.sum();
  }

  @Override
  public Snapshot getSnapshot() {
    return new HdrSnapshot(microsWindow.get());
  }

  @Override
  public double getMeanRate() {
    return 0;
  }

  @Override
  public double getOneMinuteRate() {
    return 0;
  }

  @Override
  public double getFiveMinuteRate() {
    return 0;
  }

  @Override
  public double getFifteenMinuteRate() {
    return 0;
  }

  /**
   * A snapshot in nanoseconds, as Dropwizard timers report, over a histogram kept in microseconds.
   */
  private static final class HdrSnapshot extends Snapshot {
    private final Histogram micros;

    HdrSnapshot(Histogram micros) {
      this.micros = micros;
    }

    @Override
    public double getValue(double quantile) {
      return micros.getTotalCount() == 0 ? 0 : micros.getValueAtPercentile(quantile * 100) * 1000.0;
    }

    @Override
    public long[] getValues() {
      var values = new long[(int) Math.min(Integer.MAX_VALUE, micros.getTotalCount())];
      int i = 0;
      for (var v : micros.recordedValues()) {
        for (long n = 0; n < v.getCountAtValueIteratedTo() && i < values.length; n++) {
          values[i++] = micros.highestEquivalentValue(v.getValueIteratedTo()) * 1000;
        }
      }
      return values;
    }

    @Override
    public int size() {
      return (int) Math.min(Integer.MAX_VALUE, micros.getTotalCount());
    }

    @Override
    public long getMax() {
      return micros.getTotalCount() == 0 ? 0 : micros.getMaxValue() * 1000;
    }

    @Override
    public double getMean() {
      return micros.getTotalCount() == 0 ? 0 : micros.getMean() * 1000;
    }

    @Override
    public long getMin() {
      return micros.getTotalCount() == 0 ? 0 : micros.getMinValue() * 1000;
    }

    @Override
    public double getStdDev() {
      return micros.getTotalCount() == 0 ? 0 : micros.getStdDeviation() * 1000;
    }

    @Override
    public void dump(OutputStream output) {
      try (var out =
          new PrintWriter(new java.io.OutputStreamWriter(output, StandardCharsets.UTF_8))) {
        for (var v : getValues()) {
          out.println(v);
        }
      }
    }
  }
}
