package io.ballast.core;

import com.google.inject.Inject;
import io.ballast.core.monitor.QueryMonitor;
import java.time.Duration;

/**
 * Stops the query monitor's timeout watchdog when the lifecycle stops (it starts with the first
 * statement).
 */
final class MonitorService implements Managed {
  private final QueryMonitor monitor;

  @Inject
  MonitorService(QueryMonitor monitor) {
    this.monitor = monitor;
  }

  @Override
  public String name() {
    return "query-monitor";
  }

  @Override
  public int phase() {
    return 0; // stops after everything else, when no statement can still run
  }

  @Override
  public void start() {
    // the watchdog starts with the first statement
  }

  @Override
  public void stop(Duration grace) {
    monitor.stopWatchdog();
  }
}
