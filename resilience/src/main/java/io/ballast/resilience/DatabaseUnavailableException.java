package io.ballast.resilience;

import java.time.Instant;
import org.jooq.exception.DataAccessException;

/**
 * Thrown at once, without waiting for a connection, while the database breaker refuses calls. A
 * {@link DataAccessException}, so code that handles jOOQ's failures handles it; transaction retry
 * never retries it.
 */
public final class DatabaseUnavailableException extends DataAccessException
    implements io.ballast.core.ServerRefusal {
  private static final long serialVersionUID = 1L;

  private final String breaker;
  private final String state;
  private final transient Instant retryAt;

  DatabaseUnavailableException(
      String breaker, String state, Instant retryAt, boolean early, String lastFailure) {
    super(
        "Database breaker '"
            + breaker
            + "' is "
            + state
            + ("HALF_OPEN".equals(state)
                ? " and its trial calls are under way"
                : " and does not permit calls")
            + (retryAt == null
                ? ""
                : "; it lets trial calls through from "
                    + retryAt
                    + (early
                        ? " at the latest (earlier once the database accepts connections again)"
                        : ""))
            + (lastFailure == null ? "" : "; it opened after: " + lastFailure));
    this.breaker = breaker;
    this.state = state;
    this.retryAt = retryAt;
  }

  /** The breaker's name, e.g. {@code db}. */
  public String breaker() {
    return breaker;
  }

  /** The breaker's state when the call was refused, e.g. {@code OPEN} or {@code HALF_OPEN}. */
  public String state() {
    return state;
  }

  /**
   * When the breaker lets trial calls through, or {@code null} when unknown (half-open, trials
   * busy).
   */
  public Instant retryAt() {
    return retryAt;
  }
}
