package io.ballast.pool;

import java.sql.SQLTransientConnectionException;

/**
 * Thrown at once by the pool's {@code DataSource}, instead of after the pool timeout, while the
 * pool knows the database does not accept connections: its probe (a fresh connection, every 250 ms
 * while it is down) failed. SQLSTATE {@code 08001}; the cause is the probe's last failure.
 * Borrowers already waiting when the probe finds the server down get it too.
 */
public final class DatabaseUnreachableException extends SQLTransientConnectionException {
  private static final long serialVersionUID = 1L;

  DatabaseUnreachableException(String message, Throwable cause) {
    super(message, "08001", cause);
  }
}
