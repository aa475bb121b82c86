package io.ballast.ops;

import com.google.inject.Inject;
import com.google.inject.Injector;
import com.google.inject.Key;
import io.ballast.ops.backup.BackupFigures;
import io.ballast.ops.backup.Backups;
import io.ballast.ops.backup.PgBackRest;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * Registers the operations module's exported series when the injector is created: the jobs' (see
 * {@link JobRunner#export}) and, for each kind of backup configured ({@code logical}, {@code
 * pgbackrest}), where the newest and the newest verified backup stand.
 */
final class OpsExports {
  private final Backups logical;
  private final PgBackRest pgbackrest;
  private final PrometheusRegistry registry;

  // the backups only where OpsModule bound them: both classes could otherwise be made just in time
  @Inject
  OpsExports(PrometheusRegistry registry, JobRunner jobs, Injector injector) {
    this.registry = registry;
    var logical = injector.getExistingBinding(Key.get(Backups.class));
    var pgbackrest = injector.getExistingBinding(Key.get(PgBackRest.class));
    this.logical = logical == null ? null : logical.getProvider().get();
    this.pgbackrest = pgbackrest == null ? null : pgbackrest.getProvider().get();
    jobs.export(registry);
    register();
  }

  private void register() {
    gauge(
        "ballast_backup_last_success_timestamp_seconds",
        "When the newest backup of each kind finished, in Unix seconds; 0 before the first",
        BackupFigures::lastSuccessEpochSeconds,
        null);
    gauge(
        "ballast_backup_last_verified_timestamp_seconds",
        "When the newest backup proven by a restore test (logical) or verification (pgbackrest)"
            + " finished, in Unix seconds; 0 before the first",
        BackupFigures::lastVerifiedEpochSeconds,
        null);
    gauge(
        "ballast_backup_size_bytes",
        "The newest backup's size",
        BackupFigures::sizeBytes,
        Unit.BYTES);
    CounterWithCallback.builder()
        .name("ballast_backup_failures_total")
        .help("Backups and verifications of each kind that failed")
        .labelNames("kind")
        .callback(cb -> figures().forEach(f -> cb.call((double) f.failures(), f.kind())))
        .register(registry);
  }

  private void gauge(String name, String help, ToLongFunction<BackupFigures> value, Unit unit) {
    var builder = GaugeWithCallback.builder().name(name).help(help).labelNames("kind");
    if (unit != null) {
      builder.unit(unit);
    }
    builder
        .callback(cb -> figures().forEach(f -> cb.call((double) value.applyAsLong(f), f.kind())))
        .register(registry);
  }

  private List<BackupFigures> figures() {
    var all = new ArrayList<BackupFigures>(2);
    if (logical != null) {
      all.add(logical.figures());
    }
    if (pgbackrest != null) {
      all.add(pgbackrest.figures());
    }
    return all;
  }
}
