package io.ballast.core.monitor;

import java.time.Duration;
import org.jooq.exception.DataAccessException;

/**
 * A statement ran past its timeout and was cancelled on the server (nothing of it keeps running,
 * and the connection is usable again). The message names the fingerprint, the class and the limit,
 * never literals.
 */
public final class QueryTimeoutException extends DataAccessException {
  private static final long serialVersionUID = 1L;

  private final String fingerprint;
  private final QueryClass queryClass;
  private final transient Duration limit;

  QueryTimeoutException(
      String fingerprint, QueryClass queryClass, Duration limit, Throwable cause) {
    super(
        "Query cancelled after its "
            + limit.toSeconds()
            + " s timeout (class "
            + (queryClass == null
                ? "override"
                : queryClass.name().toLowerCase(java.util.Locale.ROOT))
            + "): "
            + fingerprint,
        cause);
    this.fingerprint = fingerprint;
    this.queryClass = queryClass;
    this.limit = limit;
  }

  /** The statement's fingerprint: its shape, without literals or bind values. */
  public String fingerprint() {
    return fingerprint;
  }

  /** The class whose limit applied, or {@code null} when a caller gave an explicit duration. */
  public QueryClass queryClass() {
    return queryClass;
  }

  /** The time limit the statement went over. */
  public Duration limit() {
    return limit;
  }
}
