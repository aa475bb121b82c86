package io.ballast.core.monitor;

import com.codahale.metrics.MetricRegistry;
import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Objects;

/**
 * Binds the {@link QueryMonitor} over the given {@link MonitorSettings} and the shared {@code
 * MetricRegistry}, and registers its exported series in the shared {@code PrometheusRegistry}.
 * {@code CoreModule} installs it; an application never needs to. The monitor's constructor is not
 * public: this is the one place that builds it.
 */
public final class MonitorModule extends AbstractModule {
  private final MonitorSettings settings;

  /** The module, with {@code settings}. */
  public MonitorModule(MonitorSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  @Provides
  @Singleton
  QueryMonitor queryMonitor(MetricRegistry metrics, PrometheusRegistry prometheus) {
    var monitor = new QueryMonitor(settings, metrics);
    QueryMetrics.register(monitor, prometheus);
    return monitor;
  }

  // one per injector, whatever the settings: a second install would bind the monitor twice
  @Override
  public boolean equals(Object o) {
    return o instanceof MonitorModule;
  }

  @Override
  public int hashCode() {
    return MonitorModule.class.hashCode();
  }
}
