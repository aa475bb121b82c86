package io.ballast.ops;

import com.google.inject.AbstractModule;
import com.google.inject.Binder;
import com.google.inject.multibindings.Multibinder;
import com.google.inject.multibindings.OptionalBinder;
import com.google.inject.multibindings.ProvidesIntoSet;
import io.ballast.core.Extensions;
import io.ballast.core.ProbeCheck;
import io.ballast.core.ProbeKind;
import io.ballast.ops.backup.BackupSettings;
import io.ballast.ops.backup.BackupUpload;
import io.ballast.ops.backup.Backups;
import io.ballast.ops.backup.PgBackRest;
import java.time.DayOfWeek;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Maintenance, retention and scheduled jobs in the service: binds {@link OpsSettings}, {@link
 * Maintenance}, {@link Retention} and the {@link JobRunner} (a {@link io.ballast.core.Managed}),
 * the DEEP health check {@code jobs}, and the seed schedule (UTC):
 *
 * <ul>
 *   <li>{@code maintenance.vacuum}, Sundays 03:00: {@link Maintenance#vacuum} of the tables over
 *       the thresholds;
 *   <li>{@code retention.archive}, Sundays 03:30: {@link Retention#archive} of every policy;
 *   <li>{@code maintenance.reindex}, the 1st of the month 04:00: {@link Maintenance#reindex};
 *   <li>{@code retention.purge}, the 1st of the month 04:30: {@link Retention#purge};
 *   <li>{@code backup}, when {@link BackupSettings#directory()} is set, on {@link
 *       BackupSettings#schedule()} (daily 02:00): {@link Backups#runScheduled} (dump, restore test,
 *       upload, pruning), with the DEEP check {@code backups};
 *   <li>{@code backup.pgbackrest}, when {@link BackupSettings#stanza()} is set, on the same
 *       schedule: a full pgBackRest backup on Sundays, an incremental one on other days, then
 *       {@link PgBackRest#verify}, with the DEEP check {@code pgbackrest}.
 * </ul>
 *
 * <p>Needs core and a {@code DataSource} (the pool module). Add jobs of your own with {@link
 * #jobs(Binder)}:
 *
 * <pre>{@code
 * Ballast.start(
 *     new CoreModule(CoreSettings.fromEnv()),
 *     new PoolModule(PoolSettings.fromEnv()),
 *     new OpsModule(OpsSettings.fromEnv()),
 *     binder -> OpsModule.jobs(binder)
 *         .addBinding()
 *         .toInstance(new Job("reports.nightly", "0 2 * * *", progress -> "done")));
 * }</pre>
 */
public final class OpsModule extends AbstractModule {
  private final OpsSettings settings;
  private final BackupSettings backups;

  /** The module, with {@code settings} and no backups. */
  public OpsModule(OpsSettings settings) {
    this(settings, BackupSettings.defaults());
  }

  /** The module, with {@code settings} and the backups of {@code backups}. */
  public OpsModule(OpsSettings settings, BackupSettings backups) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.backups = Objects.requireNonNull(backups, "backups");
  }

  /** The set of jobs the {@link JobRunner} runs: add bindings to schedule your own. */
  public static Multibinder<Job> jobs(Binder binder) {
    return Multibinder.newSetBinder(binder, Job.class);
  }

  @Override
  protected void configure() {
    bind(OpsSettings.class).toInstance(settings);
    bind(Maintenance.class);
    bind(Retention.class);
    bind(JobRunner.class);
    bind(OpsExports.class).asEagerSingleton();
    jobs(binder());
    Extensions.managed(binder()).addBinding().to(JobRunner.class);
    Extensions.probeChecks(binder()).addBinding().toProvider(JobsCheck.class);
    bind(BackupSettings.class).toInstance(backups);
    OptionalBinder.newOptionalBinder(binder(), BackupUpload.class);
    if (backups.directory().isPresent()) {
      bind(Backups.class).in(com.google.inject.Scopes.SINGLETON);
      jobs(binder()).addBinding().toProvider(BackupJob.class);
      Extensions.probeChecks(binder()).addBinding().toProvider(BackupsCheck.class);
    }
    if (backups.stanza().isPresent()) {
      bind(PgBackRest.class).in(com.google.inject.Scopes.SINGLETON);
      jobs(binder()).addBinding().toProvider(PgBackRestJob.class);
      Extensions.probeChecks(binder()).addBinding().toProvider(PgBackRestCheck.class);
    }
  }

  /** The {@code backup} job: a dump, its restore test, the upload and pruning. */
  static final class BackupJob implements com.google.inject.Provider<Job> {
    private final Backups backups;

    @com.google.inject.Inject
    BackupJob(Backups backups) {
      this.backups = backups;
    }

    @Override
    public Job get() {
      return new Job("backup", backups.settings().schedule(), backups::runScheduled);
    }
  }

  /** The {@code backup.pgbackrest} job: full on Sundays, incremental otherwise, then verify. */
  static final class PgBackRestJob implements com.google.inject.Provider<Job> {
    private final PgBackRest pgBackRest;
    private final BackupSettings settings;

    @com.google.inject.Inject
    PgBackRestJob(PgBackRest pgBackRest, BackupSettings settings) {
      this.pgBackRest = pgBackRest;
      this.settings = settings;
    }

    @Override
    public Job get() {
      return new Job(
          "backup.pgbackrest",
          settings.schedule(),
          progress -> {
            var type =
                LocalDate.now(ZoneOffset.UTC).getDayOfWeek() == DayOfWeek.SUNDAY
                    ? PgBackRest.Type.FULL
                    : PgBackRest.Type.INCR;
            var backup = pgBackRest.backup(type, progress);
            var verification = pgBackRest.verify(progress);
            if (!verification.ok()) {
              throw new IllegalStateException(
                  backup.label() + " taken, but verification failed: " + verification.detail());
            }
            return backup.label() + " (" + backup.type() + ") taken and verified";
          });
    }
  }

  /** The {@code backups} health check. */
  static final class BackupsCheck implements com.google.inject.Provider<ProbeCheck> {
    private final Backups backups;

    @com.google.inject.Inject
    BackupsCheck(Backups backups) {
      this.backups = backups;
    }

    @Override
    public ProbeCheck get() {
      return ProbeCheck.of("backups", ProbeKind.DEEP, backups::check);
    }
  }

  /** The {@code pgbackrest} health check. */
  static final class PgBackRestCheck implements com.google.inject.Provider<ProbeCheck> {
    private final PgBackRest pgBackRest;

    @com.google.inject.Inject
    PgBackRestCheck(PgBackRest pgBackRest) {
      this.pgBackRest = pgBackRest;
    }

    @Override
    public ProbeCheck get() {
      return ProbeCheck.of("pgbackrest", ProbeKind.DEEP, pgBackRest::check);
    }
  }

  /** Weekly vacuum of the tables over the thresholds. */
  @ProvidesIntoSet
  Job vacuumJob(Maintenance maintenance) {
    return new Job(
        "maintenance.vacuum",
        "0 3 * * 0",
        progress -> summary(maintenance.vacuum(false, java.util.Set.of(), progress), "tables"));
  }

  /** Weekly archive of every retention policy. */
  @ProvidesIntoSet
  Job archiveJob(Retention retention) {
    return new Job(
        "retention.archive", "30 3 * * 0", progress -> rows(retention.archive(false, progress)));
  }

  /** Monthly rebuild of invalid and bloated indexes. */
  @ProvidesIntoSet
  Job reindexJob(Maintenance maintenance) {
    return new Job(
        "maintenance.reindex",
        "0 4 1 * *",
        progress -> summary(maintenance.reindex(false, progress), "indexes"));
  }

  /** Monthly purge of old archived rows. */
  @ProvidesIntoSet
  Job purgeJob(Retention retention) {
    return new Job(
        "retention.purge", "30 4 1 * *", progress -> rows(retention.purge(false, progress)));
  }

  /** "3 tables: done 2, skipped 1", or "nothing to do". */
  static String summary(java.util.List<MaintenanceAction> actions, String what) {
    if (actions.isEmpty()) {
      return "nothing to do";
    }
    return actions.size()
        + " "
        + what
        + ": "
        + Maintenance.outcomes(actions).entrySet().stream()
            .map(e -> e.getKey() + " " + e.getValue())
            .sorted()
            .collect(Collectors.joining(", "));
  }

  /** "events: 1200 rows; logs: 0 rows", or "no retention policy". */
  static String rows(java.util.List<MaintenanceAction> actions) {
    if (actions.isEmpty()) {
      return "no retention policy";
    }
    return actions.stream()
        .map(a -> a.object() + ": " + a.rows() + " rows " + a.outcome())
        .collect(Collectors.joining("; "));
  }

  /** The {@code jobs} health check. */
  static final class JobsCheck implements com.google.inject.Provider<ProbeCheck> {
    private final JobRunner runner;

    @com.google.inject.Inject
    JobsCheck(JobRunner runner) {
      this.runner = runner;
    }

    @Override
    public ProbeCheck get() {
      return ProbeCheck.of("jobs", ProbeKind.DEEP, runner::check);
    }
  }
}
