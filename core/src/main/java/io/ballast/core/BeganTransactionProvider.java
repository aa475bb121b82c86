package io.ballast.core;

import org.jooq.ConnectionProvider;
import org.jooq.TransactionContext;
import org.jooq.TransactionProvider;
import org.jooq.impl.DefaultTransactionProvider;

/**
 * jOOQ's {@link DefaultTransactionProvider}, except that a transaction whose begin failed is not
 * rolled back. jOOQ rolls back after any failure, and rolling back a transaction that never got a
 * connection asks the pool for one: with the database down, a failed {@code transaction(...)} then
 * waited out the pool timeout twice, and a transaction refused by a breaker before it began waited
 * it out once.
 */
final class BeganTransactionProvider implements TransactionProvider {
  private static final String BEGAN = "ballast.transaction.began";

  private final DefaultTransactionProvider delegate;

  BeganTransactionProvider(ConnectionProvider connections) {
    this.delegate = new DefaultTransactionProvider(connections);
  }

  @Override
  public void begin(TransactionContext ctx) {
    delegate.begin(ctx);
    // the context itself, not a flag: a nested transaction's configuration starts as a copy of its
    // parent's
    ctx.configuration().data(BEGAN, ctx);
  }

  @Override
  public void commit(TransactionContext ctx) {
    delegate.commit(ctx);
  }

  @Override
  public void rollback(TransactionContext ctx) {
    if (ctx.configuration().data(BEGAN) == ctx) {
      delegate.rollback(ctx);
    }
  }
}
