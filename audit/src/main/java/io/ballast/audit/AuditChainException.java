package io.ballast.audit;

/**
 * The audit hash chain cannot be extended or checked as configured (for example, instances with
 * other keys).
 */
public final class AuditChainException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  AuditChainException(String message) {
    super(message);
  }
}
