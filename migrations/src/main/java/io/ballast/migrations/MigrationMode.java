package io.ballast.migrations;

/** What the migrations module does at start-up. */
public enum MigrationMode {
  /** Apply pending migrations (default in development and staging). */
  MIGRATE,
  /**
   * Apply nothing; fail start-up, listing the pending versions, when the schema is behind or an
   * applied migration changed (default in production, where a deploy step migrates).
   */
  VALIDATE,
  /** Do nothing at start-up; status and readiness still report pending and failed migrations. */
  OFF
}
