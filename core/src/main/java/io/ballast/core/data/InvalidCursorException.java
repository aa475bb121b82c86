package io.ballast.core.data;

/**
 * A page cursor that Ballast did not issue for this query: malformed, altered, of an unknown
 * version, signed with another key (another deployment, or a restart without {@code
 * BALLAST_CURSOR_SECRET}), or issued for a different query. Clients should start again from the
 * first page.
 */
public final class InvalidCursorException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** An exception saying {@code message}. */
  public InvalidCursorException(String message) {
    super(message);
  }
}
