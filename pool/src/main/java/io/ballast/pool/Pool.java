package io.ballast.pool;

import java.util.Optional;
import javax.sql.DataSource;

/**
 * A running connection pool. Bound by {@link PoolModule}; usable once the lifecycle has started it.
 * Thread-safe.
 */
public interface Pool {
  /** The pool's name, as in {@link PoolSettings#name()}. */
  String name();

  /** The settings the pool was built with (the password is never shown). */
  PoolSettings settings();

  /** Whether the lifecycle has started the pool and not yet stopped it. */
  boolean isRunning();

  /** The counts now. All zero (but {@code max}) when the pool is not running. */
  PoolSnapshot snapshot();

  /**
   * The check of {@code connection_limit × instances} against the server's {@code max_connections}
   * made at start; empty before start or when the server's setting could not be read.
   */
  Optional<PoolSizing.Assessment> sizing();

  /**
   * Whether connections run in PgBouncer mode (no server-side prepared statements): {@code
   * pgbouncer=true} was set, or a transaction-pooling PgBouncer was found at start (then a warning
   * says so). {@code false} before start.
   */
  boolean pgbouncerMode();

  /** The pool as a {@link DataSource}; the same instance {@link PoolModule} binds. */
  DataSource dataSource();
}
