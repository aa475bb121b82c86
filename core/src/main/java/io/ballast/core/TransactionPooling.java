package io.ballast.core;

/**
 * Implemented by a {@link javax.sql.DataSource} that knows whether it runs behind a transaction-
 * (or statement-) pooling PgBouncer, where consecutive transactions of one client connection may
 * reach different server sessions. Look for it with {@code dataSource.unwrap(…)}.
 */
public interface TransactionPooling {
  /** Whether session state (advisory locks, session settings) cannot be relied on. */
  boolean transactionPooling();
}
