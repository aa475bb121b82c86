package io.ballast.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import io.ballast.core.ProbeStatus;
import io.ballast.testkit.Await;
import io.ballast.testkit.PostgresExtension;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Jobs that run once across instances, on a real PostgreSQL, with a clock the test moves. */
class JobRunnerTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  static final AtomicInteger TABLES = new AtomicInteger();

  /** Sunday 2026-11-29, 03:00:20 UTC: just after the weekly 03:00 slot. */
  static final Instant SUNDAY_3AM = Instant.parse("2026-11-29T03:00:20Z");

  /** A clock the test moves. */
  static final class MovableClock extends Clock {
    private volatile Instant now;

    MovableClock(Instant now) {
      this.now = now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  final MovableClock clock = new MovableClock(SUNDAY_3AM);
  final String table = "job_runs_" + TABLES.incrementAndGet();
  final OpsSettings settings = OpsSettings.builder().jobsTable(table).build();

  JobRunner runner(String instance, Job... jobs) throws Exception {
    var runner =
        new JobRunner(
            PG.dataSource(), settings, List.of(jobs), new MetricRegistry(), clock, instance);
    runner.start(); // creates the table; ticks are driven by the test (the scheduler is not used)
    runner.stop(Duration.ZERO);
    return runner;
  }

  @Test
  void threeRunnersOnOneDatabase_runEachScheduledTimeExactlyOnce() throws Exception {
    var runs = new CopyOnWriteArrayList<String>();
    Job.Task task =
        progress -> {
          runs.add("weekly");
          return "ok";
        };
    var runners = new ArrayList<JobRunner>();
    for (var name : List.of("a", "b", "c")) {
      runners.add(runner(name, new Job("weekly", "0 3 * * 0", task)));
    }
    var pool = Executors.newFixedThreadPool(3);
    try {
      for (int week = 0; week < 3; week++) {
        var ready = new CountDownLatch(3);
        var ticks =
            runners.stream()
                .map(
                    r ->
                        CompletableFuture.supplyAsync(
                            () -> {
                              ready.countDown();
                              try {
                                ready.await();
                              } catch (InterruptedException e) {
                                throw new IllegalStateException(e);
                              }
                              return r.tick().size() + r.tick().size();
                            },
                            pool))
                .toList();
        var total = 0;
        for (var t : ticks) {
          total += t.get(30, TimeUnit.SECONDS);
        }
        assertThat(total).as("runs in week " + week).isEqualTo(1);
        clock.advance(Duration.ofDays(7));
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(runs).hasSize(3);
    var history = runners.get(0).history(10);
    assertThat(history).hasSize(3).allMatch(r -> r.outcome().equals("succeeded"));
    assertThat(history.get(0).scheduledFor()).isEqualTo(Instant.parse("2026-12-13T03:00:00Z"));
    assertThat(history).extracting(JobRunner.JobRun::summary).containsOnly("ok");
  }

  @Test
  void aJobThatNeverRan_waitsForItsNextTime_insteadOfCatchingUpALongPastOne() throws Exception {
    clock.advance(Duration.ofDays(3)); // Wednesday: Sunday's 03:00 is long past
    var runs = new AtomicInteger();
    var runner =
        runner(
            "a",
            new Job(
                "weekly",
                "0 3 * * 0",
                p -> {
                  runs.incrementAndGet();
                  return "ok";
                }));
    assertThat(runner.tick()).isEmpty();
    clock.advance(Duration.ofDays(4)); // next Sunday 03:00:20
    assertThat(runner.tick()).hasSize(1);
    clock.advance(Duration.ofDays(14)); // two times missed while "down": one run, not two
    assertThat(runner.tick()).hasSize(1);
    assertThat(runner.tick()).isEmpty();
    assertThat(runs).hasValue(2);
  }

  @Test
  void aRunWhoseInstanceDied_isTakenOverByAnotherOnItsNextTick() throws Exception {
    var release = new CountDownLatch(1);
    var started = new CountDownLatch(1);
    var runsOnB = new AtomicInteger();
    var a =
        runner(
            "a",
            new Job(
                "nightly",
                "0 3 * * *",
                p -> {
                  started.countDown();
                  release.await();
                  return "a finished";
                }));
    var b =
        runner(
            "b",
            new Job(
                "nightly",
                "0 3 * * *",
                p -> {
                  runsOnB.incrementAndGet();
                  return "b finished";
                }));
    var onA = CompletableFuture.supplyAsync(a::tick);
    assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(b.tick()).as("a holds the lock").isEmpty();

    // a's instance dies: its session (and the session's advisory lock) goes away
    try (var c = PG.connect();
        var s = c.createStatement();
        var rs =
            s.executeQuery(
                "select count(pg_terminate_backend(pid)) from pg_locks"
                    + " where locktype = 'advisory' and granted and pid <> pg_backend_pid()"
                    + " and database = (select oid from pg_database where datname = current_database())")) {
      rs.next();
      assertThat(rs.getLong(1)).isEqualTo(1);
    }
    Await.until("b takes the run over", Duration.ofSeconds(20), () -> b.tick().size() == 1);
    release.countDown();
    var aRuns = onA.get(30, TimeUnit.SECONDS);

    assertThat(runsOnB).hasValue(1);
    assertThat(aRuns).singleElement().extracting(JobRunner.JobRun::outcome).isEqualTo("abandoned");
    var history = b.history(10);
    assertThat(history)
        .extracting(JobRunner.JobRun::instance, JobRunner.JobRun::outcome)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("b", "succeeded"),
            org.assertj.core.groups.Tuple.tuple("a", "abandoned"));
  }

  @Test
  void aFailingJob_isRecordedAsFailed_countedInMetrics_andTheCheckTurnsDegradedWhenLate()
      throws Exception {
    var metrics = new MetricRegistry();
    var runner =
        new JobRunner(
            PG.dataSource(),
            settings,
            List.of(
                new Job(
                    "daily",
                    "0 3 * * *",
                    p -> {
                      throw new IllegalStateException("disk full");
                    })),
            metrics,
            clock,
            "a");
    runner.start();
    runner.stop(Duration.ZERO);
    assertThat(runner.check().status()).isEqualTo(ProbeStatus.UP);
    var run = runner.tick();
    assertThat(run)
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.outcome()).isEqualTo("failed");
              assertThat(r.summary()).isEqualTo("disk full");
            });
    assertThat(metrics.meter("ballast.ops.jobs.daily.failures").getCount()).isEqualTo(1);
    assertThat(metrics.timer("ballast.ops.jobs.daily.duration").getCount()).isEqualTo(1);
    clock.advance(Duration.ofDays(2).plusMinutes(1));
    var check = runner.check();
    assertThat(check.status()).isEqualTo(ProbeStatus.DEGRADED);
    assertThat(check.message()).isEqualTo("no success within twice the schedule's interval: daily");
    assertThat(check.details()).containsEntry("daily", "never");
  }

  @Test
  void runNow_runsWhateverTheSchedule_andUnknownJobsAreNamed() throws Exception {
    var runner = runner("a", new Job("monthly", "0 4 1 * *", p -> "ran by hand"));
    assertThat(runner.runNow("monthly"))
        .hasValueSatisfying(r -> assertThat(r.summary()).isEqualTo("ran by hand"));
    assertThatThrownBy(() -> runner.runNow("nope"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("no job named nope; the jobs are monthly");
  }

  @Test
  void jobsCheckTheirNameAndSchedule() {
    assertThatThrownBy(() -> new Job("Bad Name", "0 3 * * 0", p -> ""))
        .hasMessageStartingWith("job name must be 1 to 63 of a-z 0-9 . _ -");
    assertThatThrownBy(() -> new Job("ok", "every sunday", p -> ""))
        .hasMessageStartingWith(
            "schedule of job ok must be a Unix cron expression (minute hour day-of-month month"
                + " day-of-week, e.g. 0 3 * * 0), but was 'every sunday'");
  }
}
