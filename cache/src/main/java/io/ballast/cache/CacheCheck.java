package io.ballast.cache;

import com.google.inject.Inject;
import io.ballast.core.ProbeCheck;
import io.ballast.core.ProbeKind;
import io.ballast.core.ProbeResult;
import io.ballast.core.settings.Checks;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The READY check {@code cache}: Redis's ping latency, version, memory and clients, the
 * subscription and the guard, and each region's figures with a plain recommendation. A Redis outage
 * makes it DEGRADED, not DOWN: the service still works from L1 and the loaders.
 */
final class CacheCheck implements ProbeCheck {
  static final long MIN_REQUESTS_TO_JUDGE = 100;

  private final CacheManager manager;

  @Inject
  CacheCheck(CacheManager manager) {
    this.manager = manager;
  }

  @Override
  public String name() {
    return "cache";
  }

  @Override
  public ProbeKind kind() {
    return ProbeKind.READY;
  }

  @Override
  public ProbeResult check() {
    var details = new LinkedHashMap<String, Object>();
    var regions = new LinkedHashMap<String, Object>();
    for (var region : manager.regions()) {
      regions.put(region.name(), figures((TwoLevelRegion<?>) region));
    }
    if (!manager.twoLevel()) {
      details.put("regions", regions);
      return ProbeResult.healthy(
          manager.settings.redisEnabled() ? "L1 only" : "L1 only (REDIS_ENABLED=false)", details);
    }
    details.put("guard", manager.guard.state());
    details.put("pendingInvalidations", manager.pendingInvalidations());
    String problem = null;
    try {
      details.put("redis", manager.remote.describe());
    } catch (Exception e) {
      problem = "Redis unreachable (" + RedisStore.rootMessage(e) + ")";
    }
    if (problem == null && manager.guard.isOpen()) {
      problem = "Redis guard is " + manager.guard.state();
    }
    if (problem == null && !manager.bus.synced()) {
      problem = "invalidation subscription not live (" + manager.bus.lostReason() + ")";
    }
    details.put("regions", regions);
    if (problem != null) {
      return ProbeResult.degraded(
          problem
              + ": serving from L1 (entries at most "
              + Checks.human(manager.settings.degradedTtl())
              + " old) and loaders",
          details);
    }
    return ProbeResult.healthy("L1 + Redis", details);
  }

  static Map<String, Object> figures(TwoLevelRegion<?> region) {
    var s = region.stats();
    var out = new LinkedHashMap<String, Object>();
    out.put("requests", s.requests());
    out.put("hitRatio", round(s.hitRatio()));
    out.put("l1HitRatio", round(s.l1HitRatio()));
    out.put("l2HitRatio", round(s.l2HitRatio()));
    out.put("l1Size", s.l1Size());
    out.put("l1Evictions", s.l1Evictions());
    out.put("loads", s.loads());
    out.put("loadFailures", s.loadFailures());
    out.put("loadMeanMs", round(s.loadMeanMs()));
    out.put("errors", s.errors());
    out.put("corrupt", s.corrupt());
    out.put("recommendation", recommend(region, s));
    return out;
  }

  static String recommend(TwoLevelRegion<?> region, RegionStats s) {
    if (s.corrupt() > 0) {
      return s.corrupt()
          + " entries in Redis could not be decoded: check that every instance uses the same codec "
          + "and value type for region "
          + s.region();
    }
    if (s.requests() < MIN_REQUESTS_TO_JUDGE) {
      return "too few reads to judge (" + s.requests() + ")";
    }
    var settings = region.settings();
    if (s.hitRatio() < 0.5) {
      return String.format(
          Locale.ROOT,
          "hit ratio %.0f %% < 50 %%: raise the TTL (now %s) or the L1 size (now %d)",
          s.hitRatio() * 100,
          Checks.human(region.ttl()),
          settings.l1MaxSize());
    }
    if (settings.l1MaxSize() > 0
        && s.l1Evictions() > (s.loads() + s.l2Hits()) / 2
        && s.l1HitRatio() < 0.8) {
      return String.format(
          Locale.ROOT,
          "L1 evicts most of what it fills (%d evictions, L1 hit ratio %.0f %%): "
              + "raise the L1 size (now %d)",
          s.l1Evictions(),
          s.l1HitRatio() * 100,
          settings.l1MaxSize());
    }
    return "ok";
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
