package io.ballast.core;

/**
 * A {@link Managed} service failed to start; everything started before it has been stopped again.
 */
public final class LifecycleException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String service;

  /** {@code service} failed to start or stop, saying {@code message}, caused by {@code cause}. */
  public LifecycleException(String service, String message, Throwable cause) {
    super(message, cause);
    this.service = service;
  }

  /** The name of the service that failed. */
  public String service() {
    return service;
  }
}
