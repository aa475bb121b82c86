package io.ballast.ops;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A job the {@link JobRunner} runs on a schedule, once across every instance sharing the database.
 *
 * <pre>{@code
 * new Job("reports.nightly", "0 2 * * *", progress -> "sent " + reports.sendAll() + " reports");
 * }</pre>
 *
 * @param name unique among the jobs: lower-case letters, digits, {@code .}, {@code _} and {@code -}
 * @param schedule a Unix cron expression (minute hour day-of-month month day-of-week), in UTC
 * @param task the work; what it returns is kept in the job's history as its summary
 */
public record Job(String name, String schedule, Task task) {
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
  private static final CronParser PARSER =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

  /** Checks the name and parses the schedule; a wrong one fails naming the job and the rule. */
  public Job {
    Objects.requireNonNull(task, "task");
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "job name must be 1 to 63 of a-z 0-9 . _ - (starting with a letter or digit), but was "
              + name);
    }
    executionTime(name, schedule);
  }

  /** The work of a job. */
  @FunctionalInterface
  public interface Task {
    /**
     * Does the work, telling {@code progress} how it advances; returns a one-line summary for the
     * history ("vacuumed 3 of 40 tables").
     */
    String run(Progress progress) throws Exception;
  }

  /** When the schedule fires. */
  ExecutionTime executionTime() {
    return executionTime(name, schedule);
  }

  private static ExecutionTime executionTime(String name, String schedule) {
    Cron cron;
    try {
      cron = PARSER.parse(Objects.requireNonNull(schedule, "schedule")).validate();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "schedule of job "
              + name
              + " must be a Unix cron expression (minute hour day-of-month month day-of-week,"
              + " e.g. 0 3 * * 0), but was '"
              + schedule
              + "': "
              + e.getMessage(),
          e);
    }
    return ExecutionTime.forCron(cron);
  }
}
