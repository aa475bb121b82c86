package io.ballast.resilience;

import java.time.Duration;
import org.jooq.exception.DataAccessException;

/** Thrown when the database bulkhead is full and no place freed up within its short wait. */
public final class DatabaseBusyException extends DataAccessException
    implements io.ballast.core.ServerRefusal {
  private static final long serialVersionUID = 1L;

  DatabaseBusyException(int limit, Duration waited) {
    super(
        "Database bulkhead full: "
            + limit
            + " units of database work already run and none finished within "
            + waited.toMillis()
            + " ms; shed load or raise BALLAST_BULKHEAD_MAX_CONCURRENT (and the pool)");
  }
}
