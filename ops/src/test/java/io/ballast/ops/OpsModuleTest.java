package io.ballast.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.HealthRegistry;
import io.ballast.core.ProbeKind;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.testkit.Await;
import io.ballast.testkit.PostgresExtension;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The module in a started application: seed jobs, an application's job, the scheduler, the check.
 */
class OpsModuleTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  @Test
  void theRunnerSchedulesTheSeedJobsAndTheApplicationsOwn_andRunsADueOneByItself() {
    var runs = new AtomicInteger();
    try (var app =
        Ballast.start(
            new CoreModule(CoreSettings.defaults()),
            new PoolModule(PoolSettings.builder().url(PG.databaseUrl()).build()),
            new OpsModule(OpsSettings.builder().jobsTick(Duration.ofSeconds(1)).build()),
            binder ->
                OpsModule.jobs(binder)
                    .addBinding()
                    .toInstance(
                        new Job(
                            "every.minute",
                            "* * * * *",
                            progress -> "run " + runs.incrementAndGet())))) {
      var runner = app.get(JobRunner.class);
      assertThat(runner.jobs())
          .extracting(Job::name)
          .containsExactly(
              "every.minute",
              "maintenance.reindex",
              "maintenance.vacuum",
              "retention.archive",
              "retention.purge");
      assertThat(app.lifecycle().services()).contains(runner);

      Await.until("the scheduler ran the due job", Duration.ofSeconds(20), () -> runs.get() == 1);
      Await.until(
          "its run is recorded",
          Duration.ofSeconds(20),
          () ->
              runner.history(10).stream()
                  .anyMatch(
                      r -> r.job().equals("every.minute") && r.outcome().equals("succeeded")));

      var deep = app.get(HealthRegistry.class).run(ProbeKind.DEEP);
      var jobs = deep.check("jobs").orElseThrow();
      assertThat(jobs.details())
          .containsKey("every.minute")
          .containsEntry("maintenance.vacuum", "never");
      assertThat(app.get(HealthRegistry.class).run(ProbeKind.READY).check("jobs")).isEmpty();
    }
  }
}
