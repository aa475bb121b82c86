package io.ballast.ops;

/** Maintenance could not do what was asked; the message names the object and why. */
public final class MaintenanceException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** An exception saying {@code message}, caused by {@code cause} (may be null). */
  public MaintenanceException(String message, Throwable cause) {
    super(message, cause);
  }
}
