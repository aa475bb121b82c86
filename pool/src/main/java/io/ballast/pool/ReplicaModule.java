package io.ballast.pool;

import com.codahale.metrics.MetricRegistry;
import com.google.inject.AbstractModule;
import com.google.inject.Inject;
import com.google.inject.Provider;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.ballast.core.Extensions;
import io.ballast.core.Managed;
import io.ballast.core.ProbeCheck;
import io.ballast.core.ProbeKind;
import io.ballast.core.ProbeResult;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Objects;
import org.jooq.Configuration;

/**
 * Read replicas beside the primary pool of {@link PoolModule} (which it needs). Binds:
 *
 * <ul>
 *   <li>{@link ReplicaSettings}, the instance given;
 *   <li>{@link Replicas}: reads routed to a replica that may serve them, read-your-writes through
 *       {@link UnitOfWork};
 *   <li>a {@code Managed} {@code replicas} (phase {@code PHASE_POOL + 1}) that opens one HikariCP
 *       pool per replica (named {@code replica-1}, …; a replica down at start does not stop the
 *       application) and the monitor, and closes them before the primary;
 *   <li>a READY check {@code replica:<name>} per replica: UP while it serves reads, DEGRADED (never
 *       DOWN: the primary serves its reads) when it is down, lagging past the bound or no longer a
 *       standby, with the lag, the replay position and whether replay is paused;
 *   <li>metrics: each replica pool's as {@code ballast.pool.replica-N.*}, and {@code
 *       ballast.pool.replicas.reads.<server>}, {@code .fallbacks}, {@code .<name>.lag_seconds},
 *       {@code .lag_bytes}, {@code .usable}, {@code .skips}, {@code .failovers}.
 * </ul>
 *
 * <p>With no replica configured, every read runs on the primary (in a read-only transaction), so
 * code written against {@link Replicas} runs unchanged on one server.
 */
public final class ReplicaModule extends AbstractModule {
  private final ReplicaSettings settings;

  /** The module, with {@code settings}. */
  public ReplicaModule(ReplicaSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  @Override
  protected void configure() {
    bind(ReplicaSettings.class).toInstance(settings);
    bind(Replicas.class).to(ReplicaRouter.class);
    Extensions.managed(binder()).addBinding().to(Service.class);
    for (var replica : settings.replicas()) {
      Extensions.probeChecks(binder()).addBinding().toProvider(new Check(replica.name()));
    }
  }

  @Provides
  @Singleton
  ReplicaRouter replicaRouter(
      ReplicaSettings settings,
      ManagedPool primary,
      Provider<Configuration> configuration,
      MetricRegistry metrics,
      PrometheusRegistry prometheus) {
    var router = new ReplicaRouter(settings, primary, configuration::get, metrics);
    router.export(prometheus);
    return router;
  }

  /** Opens the replica pools and the monitor after the primary pool, and closes them before it. */
  static final class Service implements Managed {
    private final ReplicaRouter router;

    @Inject
    Service(ReplicaRouter router) {
      this.router = router;
    }

    @Override
    public String name() {
      return "replicas";
    }

    @Override
    public int phase() {
      return PHASE_POOL + 1;
    }

    @Override
    public void start() throws Exception {
      router.start();
    }

    @Override
    public void stop(Duration grace) {
      router.stop(grace);
    }
  }

  /** The READY check of one replica. */
  static final class Check implements Provider<ProbeCheck> {
    private final String name;
    @Inject private Provider<ReplicaRouter> router;

    Check(String name) {
      this.name = name;
    }

    @Override
    public ProbeCheck get() {
      return ProbeCheck.of("replica:" + name, ProbeKind.READY, this::check);
    }

    private ProbeResult check() {
      var state =
          router.get().states().stream()
              .filter(s -> s.name().equals(name))
              .findFirst()
              .orElseThrow();
      var details = new LinkedHashMap<String, Object>();
      details.put("status", state.status().name());
      if (state.replayed() != null) {
        details.put("replayed", state.replayed().toString());
      }
      if (state.lag() != null) {
        details.put("lagMillis", state.lag().toMillis());
      }
      if (state.lagBytes() >= 0) {
        details.put("lagBytes", state.lagBytes());
      }
      details.put("replayPaused", state.replayPaused());
      if (state.checkedAt() != null) {
        details.put("checkedAt", state.checkedAt().toString());
      }
      if (state.usable()) {
        return ProbeResult.healthy(
            "serves reads" + (state.replayPaused() ? " (replay paused, within the lag bound)" : ""),
            details);
      }
      return ProbeResult.degraded(
          "skipped, its reads go elsewhere: " + state.status() + " (" + state.reason() + ")",
          details);
    }
  }
}
