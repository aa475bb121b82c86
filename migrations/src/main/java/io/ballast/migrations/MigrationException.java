package io.ballast.migrations;

/**
 * A migration set could not be applied or validated, or an index repair failed. The message names
 * the set, and the migration's version and file where there is one.
 */
public final class MigrationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** An exception saying {@code message}. */
  public MigrationException(String message) {
    super(message);
  }

  /** An exception saying {@code message}, caused by {@code cause}. */
  public MigrationException(String message, Throwable cause) {
    super(message, cause);
  }
}
