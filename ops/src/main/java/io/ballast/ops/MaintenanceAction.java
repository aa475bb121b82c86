package io.ballast.ops;

/**
 * One thing maintenance did, or would do in a dry run.
 *
 * @param action {@code vacuum}, {@code analyze}, {@code reindex}, {@code archive} or {@code purge}
 * @param object the table or index, schema-qualified
 * @param reason why it was chosen ("12 % dead rows, 5 000 dead")
 * @param outcome {@code done}, {@code dry run}, or why it was not done ("lock not granted within 5
 *     s")
 * @param rows rows moved or deleted (archive and purge), otherwise 0
 * @param millis how long it took
 */
public record MaintenanceAction(
    String action, String object, String reason, String outcome, long rows, long millis) {
  /** Whether it was done (not skipped, not failed, not a dry run). */
  public boolean done() {
    return outcome.equals("done");
  }
}
