package io.ballast.pool;

import com.google.inject.Inject;
import io.ballast.core.ProbeCheck;
import io.ballast.core.ProbeKind;
import io.ballast.core.ProbeResult;
import java.sql.SQLException;
import java.util.LinkedHashMap;

/**
 * READY check {@code pool} (or {@code pool:<name>}): a connection can be borrowed and is valid
 * within 2 s; details: active, idle, waiting, max, utilisation.
 */
final class PoolProbe implements ProbeCheck {
  private static final int VALID_TIMEOUT_SECONDS = 2;

  private final ManagedPool pool;

  @Inject
  PoolProbe(ManagedPool pool) {
    this.pool = pool;
  }

  @Override
  public String name() {
    return pool.name().equals("primary") ? "pool" : "pool:" + pool.name();
  }

  @Override
  public ProbeKind kind() {
    return ProbeKind.READY;
  }

  @Override
  public ProbeResult check() {
    var snap = pool.snapshot();
    var details = new LinkedHashMap<String, Object>();
    details.put("pool", pool.name());
    details.put("active", snap.active());
    details.put("idle", snap.idle());
    details.put("waiting", snap.waiting());
    details.put("max", snap.max());
    details.put("utilisationPercent", snap.utilisationPercent());
    if (!pool.isRunning()) {
      return ProbeResult.unhealthy("pool '" + pool.name() + "' is not running", details);
    }
    try (var c = pool.getConnection()) {
      return c.isValid(VALID_TIMEOUT_SECONDS)
          ? ProbeResult.healthy("connection valid", details)
          : ProbeResult.unhealthy(
              "connection not valid within " + VALID_TIMEOUT_SECONDS + " s", details);
    } catch (SQLException e) {
      return ProbeResult.unhealthy(e.getMessage(), details);
    }
  }
}
