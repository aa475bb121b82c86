package io.ballast.ops.backup;

/** A backup, verification or restore that did not complete; the message says why and what to do. */
public final class BackupException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** With {@code message}. */
  public BackupException(String message) {
    super(message);
  }

  /** With {@code message} and its {@code cause}. */
  public BackupException(String message, Throwable cause) {
    super(message, cause);
  }
}
