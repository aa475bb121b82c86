package io.ballast.pool;

import java.sql.SQLTransientConnectionException;
import java.time.Duration;

/**
 * No connection became free within the pool timeout while the database itself was reachable: every
 * connection was lent out. The message names the pool, the wait and the counts, and says what to
 * do:
 *
 * <pre>
 * Pool 'primary' exhausted: no connection free after waiting 1000 ms (active 2, idle 0, waiting 3, max 2).
 * Raise connection_limit (DATABASE_URL or DB_CONNECTION_LIMIT) or find the slow queries holding connections.
 * </pre>
 *
 * <p>It is an {@link SQLTransientConnectionException} with SQLSTATE {@code 08000} ("connection
 * exception"), so code that handles driver errors keeps working; jOOQ wraps it in a {@code
 * DataAccessException} with this as the cause.
 */
public final class PoolExhaustedException extends SQLTransientConnectionException {
  private static final long serialVersionUID = 1L;

  private final transient PoolSnapshot snapshot;
  private final Duration waited;

  PoolExhaustedException(PoolSnapshot snapshot, Duration waited) {
    super(
        "Pool '"
            + snapshot.pool()
            + "' exhausted: no connection free after waiting "
            + waited.toMillis()
            + " ms ("
            + snapshot
            + "). Raise connection_limit (DATABASE_URL or DB_CONNECTION_LIMIT) or find the slow"
            + " queries holding connections.",
        "08000");
    this.snapshot = snapshot;
    this.waited = waited;
  }

  /** The pool's counts when the wait ended. */
  public PoolSnapshot snapshot() {
    return snapshot;
  }

  /** How long the caller waited. */
  public Duration waited() {
    return waited;
  }
}
