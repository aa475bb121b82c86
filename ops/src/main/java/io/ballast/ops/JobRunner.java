package io.ballast.ops;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import com.google.inject.Inject;
import com.google.inject.Singleton;
import io.ballast.core.Managed;
import io.ballast.core.ProbeResult;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link Job jobs} on their schedules, each scheduled run once across all the instances that
 * share the database. Every {@link OpsSettings#jobsTick() tick} it looks for jobs whose latest
 * scheduled time has no run yet; for each, it takes a PostgreSQL session advisory lock named after
 * the job ({@code pg_try_advisory_xact_lock}, held by a transaction kept open while the job runs),
 * so that of N instances exactly one runs it, and records the run in the history table ({@link
 * OpsSettings#jobsTable()}: job, scheduled time, instance, start, end, outcome, summary), which is
 * what tells the other instances that the scheduled time is done. An instance that dies while
 * running a job releases its lock with its connection; the next tick of another instance finds the
 * run still marked running without a lock holder, marks it {@code abandoned}, and runs it again.
 *
 * <p>Only the latest scheduled time counts: a job whose times passed while every instance was down
 * runs once when one comes back, not once per missed time; a job that has never run waits for its
 * next time rather than catching up with one long past. The lock's transaction pins one server
 * connection, so this holds behind PgBouncer in transaction mode too; a server whose {@code
 * idle_in_transaction_session_timeout} is shorter than a job ends the lock with it.
 *
 * <p>Metrics per job: {@code ballast.ops.jobs.<job>.duration} (timer), {@code .failures} (meter),
 * {@code .last-success} (gauge, epoch seconds of the last success any instance recorded, 0 for
 * never). The {@link #check()} is degraded while a job has not succeeded within twice its
 * schedule's interval.
 */
@Singleton
public final class JobRunner implements Managed {
  private static final Logger LOG = LoggerFactory.getLogger(JobRunner.class);

  private final DataSource dataSource;
  private final OpsSettings settings;
  private final Map<String, Job> jobs = new java.util.TreeMap<>();
  private final MetricRegistry metrics;
  private final Clock clock;
  private final String instance;
  private final String table;
  private final Map<String, Instant> lastSuccess = new ConcurrentHashMap<>();
  private final Histogram durations =
      Histogram.builder()
          .name("ballast_job_duration_seconds")
          .help("Time each job's runs took on this instance")
          .unit(Unit.SECONDS)
          .labelNames("job_name")
          .classicOnly()
          .classicUpperBounds(1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14400)
          .build();
  private final Counter runs =
      Counter.builder()
          .name("ballast_job_runs_total")
          .help("Job runs on this instance by outcome: succeeded, failed or abandoned")
          .labelNames("job_name", "outcome")
          .build();
  private final Instant startedAt;
  private ScheduledExecutorService scheduler;
  private volatile boolean tableReady;

  /** A runner of {@code jobs} on the database behind {@code dataSource}. */
  @Inject
  public JobRunner(
      DataSource dataSource,
      OpsSettings settings,
      java.util.Set<Job> jobs,
      MetricRegistry metrics) {
    this(dataSource, settings, jobs, metrics, Clock.systemUTC(), defaultInstance());
  }

  /** A runner reading time from {@code clock}, recorded in the history as {@code instance}. */
  JobRunner(
      DataSource dataSource,
      OpsSettings settings,
      Collection<Job> jobs,
      MetricRegistry metrics,
      Clock clock,
      String instance) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.instance = Objects.requireNonNull(instance, "instance");
    this.table = settings.jobsTable();
    this.startedAt = clock.instant();
    for (var job : jobs) {
      if (this.jobs.putIfAbsent(job.name(), job) != null) {
        throw new IllegalArgumentException("two jobs are named " + job.name());
      }
      metrics.gauge(
          MetricRegistry.name("ballast", "ops", "jobs", job.name(), "last-success"),
          () ->
              (Gauge<Long>)
                  () -> {
                    var at = lastSuccess.get(job.name());
                    return at == null ? 0L : at.getEpochSecond();
                  });
    }
  }

  /**
   * Registers the jobs' exported series in {@code registry}: run times, runs by outcome, and each
   * job's last success (in Unix seconds, 0 before the first; across instances, from the history).
   */
  public void export(PrometheusRegistry registry) {
    registry.register(durations);
    registry.register(runs);
    for (var name : jobs.keySet()) { // every job's series from the start, at zero
      durations.labelValues(name);
      for (var outcome : List.of("succeeded", "failed", "abandoned")) {
        runs.labelValues(name, outcome);
      }
    }
    GaugeWithCallback.builder()
        .name("ballast_job_last_success_timestamp_seconds")
        .help("When each job last succeeded on any instance, in Unix seconds; 0 before the first")
        .labelNames("job_name")
        .callback(
            cb ->
                jobs.keySet()
                    .forEach(
                        name -> {
                          var at = lastSuccess.get(name);
                          cb.call(at == null ? 0 : (double) at.getEpochSecond(), name);
                        }))
        .register(registry);
  }

  private static String defaultInstance() {
    return ManagementFactory.getRuntimeMXBean().getName(); // pid@host
  }

  @Override
  public String name() {
    return "jobs";
  }

  @Override
  public int phase() {
    return PHASE_APPLICATION;
  }

  /** Creates the history table when missing and, when jobs are enabled, starts ticking. */
  @Override
  public void start() throws SQLException {
    if (!settings.jobsEnabled() || jobs.isEmpty()) {
      LOG.info(
          "Job runner: {} job(s), {}",
          jobs.size(),
          settings.jobsEnabled() ? "nothing to schedule" : "not running them here (jobs_enabled)");
      return;
    }
    scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              var t = new Thread(r, "ballast-jobs");
              t.setDaemon(true);
              return t;
            });
    createTable();
    var every = settings.jobsTick().toMillis();
    var unused =
        scheduler.scheduleWithFixedDelay(
            () -> {
              try {
                tick();
              } catch (RuntimeException e) {
                LOG.warn("Job runner tick failed; it tries again in {} ms", every, e);
              }
            },
            every,
            every,
            TimeUnit.MILLISECONDS);
    LOG.info("Job runner: {} job(s) {}, checked every {} ms", jobs.size(), jobs.keySet(), every);
  }

  /** Stops ticking; a job running now finishes within {@code grace} or is interrupted. */
  @Override
  public void stop(Duration grace) throws InterruptedException {
    if (scheduler != null) {
      scheduler.shutdown();
      if (!scheduler.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        scheduler.shutdownNow();
      }
    }
  }

  /** The jobs, by name. */
  public Collection<Job> jobs() {
    return List.copyOf(jobs.values());
  }

  /** The job named {@code name}. */
  public Optional<Job> job(String name) {
    return Optional.ofNullable(jobs.get(name));
  }

  /**
   * Runs every job whose latest scheduled time has no run yet, under its lock; returns the runs
   * this instance made (usually none).
   */
  public List<JobRun> tick() {
    var out = new ArrayList<JobRun>();
    var now = clock.instant();
    refreshLastSuccess();
    for (var job : jobs.values()) {
      var slot = latestSlot(job, now);
      if (slot.isEmpty()) {
        continue;
      }
      try {
        runLocked(job, slot.get(), false).ifPresent(out::add);
      } catch (SQLException e) {
        LOG.warn("Job {}: could not check or record its run: {}", job.name(), e.getMessage());
      }
    }
    return out;
  }

  /**
   * Runs {@code name} now, whatever its schedule, under its lock (recorded as scheduled for now);
   * empty when another instance holds the job's lock.
   *
   * @throws IllegalArgumentException when there is no such job
   */
  public Optional<JobRun> runNow(String name) {
    var job = jobs.get(name);
    if (job == null) {
      throw new IllegalArgumentException(
          "no job named " + name + "; the jobs are " + String.join(", ", jobs.keySet()));
    }
    try {
      return runLocked(job, clock.instant().truncatedTo(ChronoUnit.MILLIS), true);
    } catch (SQLException e) {
      throw new MaintenanceException(
          "job " + name + ": could not check or record its run: " + e.getMessage(), e);
    }
  }

  /** The latest runs recorded, newest first, at most {@code limit}. */
  public List<JobRun> history(int limit) {
    var out = new ArrayList<JobRun>();
    try {
      createTable();
    } catch (SQLException e) {
      throw new MaintenanceException(
          "could not create the job history table: " + e.getMessage(), e);
    }
    try (var c = dataSource.getConnection();
        var ps =
            c.prepareStatement(
                "select id, job, scheduled_for, instance, started_at, finished_at, outcome, summary"
                    + " from "
                    + Identifiers.table(table)
                    + " order by started_at desc, id desc limit ?")) {
      ps.setInt(1, limit);
      try (var rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(
              new JobRun(
                  rs.getLong(1),
                  rs.getString(2),
                  rs.getObject(3, OffsetDateTime.class).toInstant(),
                  rs.getString(4),
                  rs.getObject(5, OffsetDateTime.class).toInstant(),
                  Optional.ofNullable(rs.getObject(6, OffsetDateTime.class))
                      .map(OffsetDateTime::toInstant)
                      .orElse(null),
                  rs.getString(7),
                  rs.getString(8)));
        }
      }
    } catch (SQLException e) {
      throw new MaintenanceException("could not read the job history: " + e.getMessage(), e);
    }
    return out;
  }

  /**
   * Degraded while a job has not succeeded within twice its schedule's interval (counted from when
   * this runner started if it never succeeded); the details give each job's last success.
   */
  public ProbeResult check() {
    refreshLastSuccess();
    var now = clock.instant();
    var late = new ArrayList<String>();
    var details = new LinkedHashMap<String, Object>();
    for (var job : jobs.values()) {
      var last = lastSuccess.get(job.name());
      details.put(job.name(), last == null ? "never" : last.toString());
      var allowed = interval(job, now).multipliedBy(2).plus(settings.jobsTick());
      var since = last == null ? startedAt : last;
      if (Duration.between(since, now).compareTo(allowed) > 0) {
        late.add(job.name());
      }
    }
    if (!late.isEmpty()) {
      return ProbeResult.degraded(
          "no success within twice the schedule's interval: " + String.join(", ", late), details);
    }
    return ProbeResult.healthy(jobs.size() + " job(s) on schedule", details);
  }

  // ------------------------------------------------------------------ internals

  /**
   * The latest scheduled time at or before {@code now} (whether it still needs a run is for {@link
   * #due} to say, under the job's lock).
   */
  private Optional<Instant> latestSlot(Job job, Instant now) {
    var zoned = ZonedDateTime.ofInstant(now, ZoneOffset.UTC).truncatedTo(ChronoUnit.MINUTES);
    var execution = job.executionTime();
    var slot =
        execution.isMatch(zoned)
            ? Optional.of(zoned)
            : execution.lastExecution(ZonedDateTime.ofInstant(now, ZoneOffset.UTC));
    return slot.map(ZonedDateTime::toInstant);
  }

  private Duration interval(Job job, Instant now) {
    var execution = job.executionTime();
    var at = ZonedDateTime.ofInstant(now, ZoneOffset.UTC);
    var next = execution.nextExecution(at);
    var after = next.flatMap(execution::nextExecution);
    return next.isPresent() && after.isPresent()
        ? Duration.between(next.get(), after.get())
        : Duration.ofDays(366);
  }

  /**
   * Runs {@code job} for {@code slot} if this instance gets its lock and the time still needs a
   * run. The lock is a transaction-level advisory lock, held while a transaction on a connection of
   * its own stays open: it belongs to the one server connection that transaction pins, so it also
   * holds behind PgBouncer in transaction mode (a session lock would stay on whichever server
   * connection took it), and it goes with the connection if this instance dies. History rows are
   * written on other connections, so the other instances see them at once.
   */
  private Optional<JobRun> runLocked(Job job, Instant slot, boolean manual) throws SQLException {
    createTable();
    try (var lock = dataSource.getConnection()) {
      lock.setAutoCommit(false);
      try {
        if (!tryLock(lock, job)) {
          return Optional.empty();
        }
        long id;
        Instant started;
        try (var c = dataSource.getConnection()) {
          c.setAutoCommit(true);
          if (!manual && !due(c, job, slot)) {
            return Optional.empty();
          }
          try (var ps =
              c.prepareStatement(
                  "insert into "
                      + Identifiers.table(table)
                      + " (job, scheduled_for, instance, outcome) values (?, ?, ?, 'running')"
                      + " returning id, started_at")) {
            ps.setString(1, job.name());
            ps.setObject(2, slot.atOffset(ZoneOffset.UTC));
            ps.setString(3, instance);
            try (var rs = ps.executeQuery()) {
              rs.next();
              id = rs.getLong(1);
              started = rs.getObject(2, OffsetDateTime.class).toInstant();
            }
          }
        }
        return Optional.of(run(job, slot, id, started));
      } finally {
        release(lock);
      }
    }
  }

  /** Whether {@code slot} still needs a run; a run left "running" by a dead holder is abandoned. */
  private boolean due(Connection c, Job job, Instant slot) throws SQLException {
    Instant lastRecorded = null;
    try (var ps =
        c.prepareStatement(
            "select max(scheduled_for) from " + Identifiers.table(table) + " where job = ?")) {
      ps.setString(1, job.name());
      try (var rs = ps.executeQuery()) {
        rs.next();
        var at = rs.getObject(1, OffsetDateTime.class);
        lastRecorded = at == null ? null : at.toInstant();
      }
    }
    if (lastRecorded == null) {
      // never run anywhere: only a time that just passed, not one long gone
      var window = settings.jobsTick().multipliedBy(2).plusMinutes(1);
      return Duration.between(slot, clock.instant()).compareTo(window) <= 0;
    }
    if (lastRecorded.isAfter(slot)) {
      return false;
    }
    if (lastRecorded.isBefore(slot)) {
      return true;
    }
    // this very time has a run: done, or running under a holder that is gone (we hold the lock)
    try (var ps =
        c.prepareStatement(
            "update "
                + Identifiers.table(table)
                + " set outcome = 'abandoned', finished_at = now(),"
                + " summary = 'its instance stopped holding the job lock before it finished'"
                + " where job = ? and scheduled_for = ? and outcome = 'running' returning instance")) {
      ps.setString(1, job.name());
      ps.setObject(2, slot.atOffset(ZoneOffset.UTC));
      try (var rs = ps.executeQuery()) {
        if (rs.next()) {
          LOG.warn(
              "Job {}: the run scheduled for {} on {} lost its lock before it finished; running it"
                  + " again here",
              job.name(),
              slot,
              rs.getString(1));
          return true;
        }
      }
    }
    return false;
  }

  private JobRun run(Job job, Instant slot, long id, Instant started) throws SQLException {
    LOG.info("Job {} (scheduled for {}) started", job.name(), slot);
    Timer.Context timing =
        metrics.timer(MetricRegistry.name("ballast", "ops", "jobs", job.name(), "duration")).time();
    String outcome;
    String summary;
    try {
      summary =
          job.task()
              .run(
                  (what, done, total) ->
                      LOG.debug("Job {}: {} {}/{}", job.name(), what, done, total));
      outcome = "succeeded";
      LOG.info("Job {} succeeded: {}", job.name(), summary);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      outcome = "failed";
      summary = "interrupted (the instance is stopping)";
      failures(job).mark();
    } catch (Exception e) {
      outcome = "failed";
      summary = String.valueOf(e.getMessage());
      failures(job).mark();
      LOG.warn("Job {} failed", job.name(), e);
    } finally {
      durations.labelValues(job.name()).observe(Unit.nanosToSeconds(timing.stop()));
    }
    Instant finished = null;
    // recorded on a connection of its own: the lock's may have broken while the job ran
    try (var u = dataSource.getConnection();
        var ps =
            u.prepareStatement(
                "update "
                    + Identifiers.table(table)
                    + " set outcome = ?, summary = ?, finished_at = now()"
                    + " where id = ? and outcome = 'running' returning finished_at")) {
      ps.setString(1, outcome);
      ps.setString(2, summary == null ? null : truncate(summary));
      ps.setLong(3, id);
      try (var rs = ps.executeQuery()) {
        if (rs.next()) {
          finished = rs.getObject(1, OffsetDateTime.class).toInstant();
        } else {
          LOG.warn(
              "Job {}: its run was marked abandoned by another instance while it ran; its outcome"
                  + " ({}) is not recorded",
              job.name(),
              outcome);
          outcome = "abandoned";
        }
      }
    }
    if (outcome.equals("succeeded") && finished != null) {
      lastSuccess.put(job.name(), finished);
    }
    runs.labelValues(job.name(), outcome).inc();
    return new JobRun(id, job.name(), slot, instance, started, finished, outcome, summary);
  }

  private Meter failures(Job job) {
    return metrics.meter(MetricRegistry.name("ballast", "ops", "jobs", job.name(), "failures"));
  }

  private static String truncate(String summary) {
    return summary.length() <= 2000 ? summary : summary.substring(0, 2000) + "…";
  }

  private static boolean tryLock(Connection c, Job job) throws SQLException {
    try (var ps =
        c.prepareStatement(
            "select pg_try_advisory_xact_lock(hashtextextended('ballast.job:' || ?, 0))")) {
      ps.setString(1, job.name());
      try (var rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /** Ends the lock's transaction, which releases the lock. */
  private static void release(Connection lock) {
    try {
      lock.rollback();
      lock.setAutoCommit(true);
    } catch (SQLException e) {
      // the connection is gone, and the transaction's lock with it
      LOG.debug("Releasing a job lock on a broken connection", e);
    }
  }

  private void refreshLastSuccess() {
    try (var c = dataSource.getConnection();
        var s = c.createStatement();
        var rs =
            s.executeQuery(
                "select job, max(finished_at) from "
                    + Identifiers.table(table)
                    + " where outcome = 'succeeded' group by job")) {
      while (rs.next()) {
        lastSuccess.put(rs.getString(1), rs.getObject(2, OffsetDateTime.class).toInstant());
      }
    } catch (SQLException e) {
      LOG.debug("Could not read the jobs' last successes", e);
    }
  }

  /** The history table and its one-run-per-time index, created once across instances. */
  private void createTable() throws SQLException {
    if (tableReady) {
      return;
    }
    var t = Identifiers.table(table);
    var index = Identifiers.quote(table.substring(table.indexOf('.') + 1) + "_one_run_per_time");
    try (var c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (var s = c.createStatement()) {
        s.execute("select pg_advisory_xact_lock(hashtextextended('ballast.jobs.table', 0))");
        s.execute(
            "create table if not exists "
                + t
                + " (id bigserial primary key, job text not null, scheduled_for timestamptz not null,"
                + " instance text not null, started_at timestamptz not null default now(),"
                + " finished_at timestamptz, outcome text not null check (outcome in"
                + " ('running', 'succeeded', 'failed', 'abandoned')), summary text)");
        s.execute(
            "create unique index if not exists "
                + index
                + " on "
                + t
                + " (job, scheduled_for) where outcome <> 'abandoned'");
        c.commit();
        tableReady = true;
      } catch (SQLException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    }
  }

  /**
   * One run of a job.
   *
   * @param id its row in the history table
   * @param job the job's name
   * @param scheduledFor the scheduled time it ran for (now, for a manual run)
   * @param instance the instance that ran it ({@code pid@host})
   * @param startedAt when it started
   * @param finishedAt when it finished, or {@code null} while running
   * @param outcome {@code running}, {@code succeeded}, {@code failed} or {@code abandoned}
   * @param summary what the job returned, or why it failed
   */
  public record JobRun(
      long id,
      String job,
      Instant scheduledFor,
      String instance,
      Instant startedAt,
      Instant finishedAt,
      String outcome,
      String summary) {}
}
