package io.ballast.audit;

import com.codahale.metrics.Counter;
import java.sql.Connection;
import java.sql.SQLException;
import org.jooq.ExecuteContext;
import org.jooq.ExecuteListener;
import org.jooq.TransactionContext;
import org.jooq.TransactionListener;
import org.jooq.exception.DataAccessException;
import org.jooq.tools.jdbc.DefaultConnection;

/**
 * Applies the acting context transaction-locally before a statement runs. Shared and stateless:
 * per-execution state lives in {@code ctx.data()}, per-transaction state in a holder that {@link
 * #beginEnd} puts in the transaction's configuration (statements of that transaction see it through
 * their derived configurations).
 *
 * <ul>
 *   <li>In a jOOQ transaction: the context is applied once, before its first statement (again only
 *       if a statement runs with a different context); a nested transaction (a savepoint) applies
 *       it anew, so a rolled-back savepoint cannot take the settings with it.
 *   <li>In autocommit: the statement runs in an implicit transaction: autocommit off, context
 *       applied, the statement executed with its results read whole, commit, autocommit back on. A
 *       failure rolls back.
 *   <li>On a connection already in a transaction that jOOQ does not manage: applied before every
 *       statement.
 * </ul>
 */
final class ContextListener implements ExecuteListener, TransactionListener {
  private static final long serialVersionUID = 1L;

  /** Configuration data key of the explicit context ({@link RequestContext#as}). */
  static final String EXPLICIT = "ballast.audit.context";

  private static final String TRANSACTION = "ballast.audit.transaction";
  private static final String IMPLICIT = "ballast.audit.implicit";

  static final String APPLY_SQL =
      "select set_config('ballast.user_id', ?, true), set_config('ballast.role', ?, true), "
          + "set_config('ballast.tenant_id', ?, true), set_config('ballast.client_ip', ?, true), "
          + "set_config('ballast.request_id', ?, true)";

  private final transient Counter applied;
  private final transient Counter implicit;

  ContextListener(Counter applied, Counter implicit) {
    this.applied = applied;
    this.implicit = implicit;
  }

  /** What a jOOQ transaction has applied so far. */
  private static final class TransactionState {
    volatile ActingContext applied;
  }

  @Override
  public void beginEnd(TransactionContext ctx) {
    ctx.configuration().data(TRANSACTION, new TransactionState());
  }

  @Override
  public void executeStart(ExecuteContext ctx) {
    var acting = resolve(ctx);
    if (acting == null) {
      return;
    }
    var connection = unwrap(ctx.connection());
    var transaction = (TransactionState) ctx.configuration().data(TRANSACTION);
    try {
      if (transaction != null) {
        if (!acting.equals(transaction.applied)) {
          apply(connection, acting);
          transaction.applied = acting;
        }
      } else if (connection.getAutoCommit()) {
        connection.setAutoCommit(false);
        ctx.data(IMPLICIT, connection);
        implicit.inc();
        apply(connection, acting);
        if (ctx.statement() != null) {
          ctx.statement()
              .setFetchSize(0); // results read whole before the implicit transaction commits
        }
      } else {
        apply(connection, acting);
      }
    } catch (SQLException e) {
      endImplicit(ctx, false);
      throw new DataAccessException(
          "could not apply the acting context " + acting + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void executeEnd(ExecuteContext ctx) {
    endImplicit(ctx, true);
  }

  @Override
  public void exception(ExecuteContext ctx) {
    endImplicit(ctx, false);
  }

  private static void endImplicit(ExecuteContext ctx, boolean commit) {
    var connection = (Connection) ctx.data().remove(IMPLICIT);
    if (connection == null) {
      return;
    }
    SQLException failure = null;
    try {
      if (commit) {
        connection.commit();
      } else {
        connection.rollback();
      }
    } catch (SQLException e) {
      failure = e;
      try {
        connection.rollback();
      } catch (SQLException again) {
        e.addSuppressed(again);
      }
    }
    try {
      connection.setAutoCommit(true);
    } catch (SQLException e) {
      if (failure == null) {
        failure = e;
      } else {
        failure.addSuppressed(e);
      }
    }
    if (failure != null && commit) {
      throw new DataAccessException(
          "could not commit the implicit transaction of a statement run with an acting "
              + "context: "
              + failure.getMessage(),
          failure);
    }
  }

  private static ActingContext resolve(ExecuteContext ctx) {
    var explicit = (ActingContext) ctx.configuration().data(EXPLICIT);
    return explicit != null ? explicit : RequestContext.currentOrNull();
  }

  /**
   * The pool's connection under jOOQ's wrappers (whose statements would hand the connection back on
   * close).
   */
  private static Connection unwrap(Connection connection) {
    var c = connection;
    while (c instanceof DefaultConnection wrapper) {
      c = wrapper.getDelegate();
    }
    return c;
  }

  private void apply(Connection connection, ActingContext acting) throws SQLException {
    try (var statement = connection.prepareStatement(APPLY_SQL)) {
      statement.setString(1, acting.userId());
      statement.setString(2, nullToEmpty(acting.role()));
      statement.setString(3, nullToEmpty(acting.tenantId()));
      statement.setString(4, nullToEmpty(acting.clientIp()));
      statement.setString(5, nullToEmpty(acting.requestId()));
      statement.executeQuery().close();
    }
    applied.inc();
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }
}
