package io.ballast.ops.cli;

import io.ballast.ops.JobRunner;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code ballast jobs …}: the scheduled jobs and their last runs. */
@Command(
    name = "jobs",
    mixinStandardHelpOptions = true,
    description = {
      "The ops module's scheduled jobs (maintenance.vacuum, retention.archive, maintenance.reindex,"
          + " retention.purge) and their history; a service's own jobs run in the service and are"
          + " listed from their history."
    },
    subcommands = {JobsCommand.ListJobs.class, JobsCommand.Run.class})
final class JobsCommand extends CommandGroup {

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description =
          "Each job's schedule (UTC cron) and its last run on any instance; a service's own"
              + " jobs with their last run.")
  static final class ListJobs implements Callable<Integer> {
    @ParentCommand JobsCommand parent;
    @Mixin Output output;

    @Override
    public Integer call() {
      var root = parent.root;
      try (var app = root.startOps()) {
        var runner = app.get(JobRunner.class);
        var history = runner.history(500);
        var rows = new java.util.ArrayList<Map<String, Object>>();
        for (var job : runner.jobs()) {
          var row = new LinkedHashMap<String, Object>();
          row.put("job", job.name());
          row.put("schedule", job.schedule());
          var last = history.stream().filter(r -> r.job().equals(job.name())).findFirst();
          row.put("lastRun", last.orElse(null));
          rows.add(row);
        }
        // jobs a service bound itself run there: the command line knows them by their history
        var known = runner.jobs().stream().map(j -> j.name()).toList();
        history.stream()
            .filter(r -> !known.contains(r.job()))
            .map(r -> r.job())
            .distinct()
            .sorted()
            .forEach(
                name -> {
                  var row = new LinkedHashMap<String, Object>();
                  row.put("job", name);
                  row.put("schedule", "(in the service)");
                  row.put(
                      "lastRun",
                      history.stream().filter(r -> r.job().equals(name)).findFirst().orElseThrow());
                  rows.add(row);
                });
        if (output.json) {
          root.json(rows);
        } else {
          root.out().printf(Locale.ROOT, "%-24s %-14s %s%n", "JOB", "SCHEDULE", "LAST RUN");
          for (var row : rows) {
            var last = (JobRunner.JobRun) row.get("lastRun");
            root.out()
                .printf(
                    Locale.ROOT,
                    "%-24s %-14s %s%n",
                    row.get("job"),
                    row.get("schedule"),
                    last == null
                        ? "never"
                        : last.outcome()
                            + " at "
                            + last.startedAt()
                            + " on "
                            + last.instance()
                            + (last.summary() == null ? "" : ": " + last.summary()));
          }
        }
        return BallastCli.OK;
      }
    }
  }

  @Command(
      name = "run",
      mixinStandardHelpOptions = true,
      description = {
        "Runs one job now, under its lock (exit 1 when another instance is running it or it"
            + " fails)."
      })
  static final class Run implements Callable<Integer> {
    @ParentCommand JobsCommand parent;
    @Mixin Output output;

    @Parameters(paramLabel = "NAME", description = "The job, e.g. maintenance.vacuum.")
    String name;

    @Override
    public Integer call() {
      var root = parent.root;
      try (var app = root.startOps()) {
        var run = app.get(JobRunner.class).runNow(name);
        if (run.isEmpty()) {
          root.err().println("ballast jobs run: " + name + " is running on another instance");
          return BallastCli.FINDINGS;
        }
        if (output.json) {
          root.json(run.get());
        } else {
          root.out().println(name + ": " + run.get().outcome() + ": " + run.get().summary());
        }
        return run.get().outcome().equals("succeeded") ? BallastCli.OK : BallastCli.FINDINGS;
      }
    }
  }
}
