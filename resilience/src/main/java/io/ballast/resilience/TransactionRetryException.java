package io.ballast.resilience;

import java.util.List;
import org.jooq.exception.DataAccessException;

/**
 * Thrown by {@link Transactions} when a transaction kept failing with a retryable error
 * (serialization failure, deadlock, connection lost before commit) until it ran out of attempts.
 * The message lists every attempt; the cause is the last failure.
 */
public final class TransactionRetryException extends DataAccessException {
  private static final long serialVersionUID = 1L;

  private final List<String> attempts;

  TransactionRetryException(String name, List<String> attempts, Throwable last) {
    super(
        "Transaction '"
            + name
            + "' failed after "
            + attempts.size()
            + " attempts: "
            + String.join("; ", attempts),
        last);
    this.attempts = List.copyOf(attempts);
  }

  /**
   * One line per attempt: its number, the SQLSTATE and the first line of the failure, the wait
   * after it.
   */
  public List<String> attempts() {
    return attempts;
  }
}
