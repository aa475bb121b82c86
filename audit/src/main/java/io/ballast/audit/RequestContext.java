package io.ballast.audit;

import java.util.Optional;
import org.jooq.DSLContext;

/**
 * Opens an {@link ActingContext} for a unit of work. Two forms:
 *
 * <pre>{@code
 * try (var scope = RequestContext.open(acting)) {    // this thread, until closed
 *   db.selectFrom(ORDERS).fetch();                   // runs with acting's user, role and tenant
 *   db.transaction(tx -> ...);                       // so does every statement of a transaction
 * }
 *
 * RequestContext.as(db, acting).selectFrom(ORDERS).fetch();   // explicit: this DSLContext, any thread
 * }</pre>
 *
 * <p>With {@code AuditModule} installed, Ballast sets the context on the connection with {@code
 * set_config(…, true)} (transaction-local) in one round trip before the first statement of each
 * transaction; a statement outside a transaction runs in an implicit transaction so that it sees
 * the context too. Nothing is set at session level, so a pooled connection carries nothing to its
 * next borrower, and the same holds behind PgBouncer in transaction mode. Without a context nothing
 * is set: tables under Ballast's row-level security then show no rows and refuse writes.
 *
 * <p>Scopes nest (the innermost wins) and must be closed in reverse order on the thread that opened
 * them. The context does not follow work handed to other threads: open it there too, or use {@link
 * #as}.
 */
public final class RequestContext {
  private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();

  private RequestContext() {}

  /** Opens {@code context} on this thread until the returned scope is closed. */
  public static Scope open(ActingContext context) {
    if (context == null) {
      throw new IllegalArgumentException(
          "an acting context must not be null; to run without one, open no scope");
    }
    var scope = new Scope(context, CURRENT.get(), Thread.currentThread());
    CURRENT.set(scope);
    return scope;
  }

  /** The context open on this thread, if any. */
  public static Optional<ActingContext> current() {
    var scope = CURRENT.get();
    return scope == null ? Optional.empty() : Optional.of(scope.context);
  }

  /**
   * A {@link DSLContext} that runs every statement, and every transaction it starts, with {@code
   * context}, whatever is open on the calling thread.
   */
  public static DSLContext as(DSLContext db, ActingContext context) {
    if (context == null) {
      throw new IllegalArgumentException("an acting context must not be null");
    }
    var configuration = db.configuration().derive();
    configuration.data(ContextListener.EXPLICIT, context);
    return configuration.dsl();
  }

  static ActingContext currentOrNull() {
    var scope = CURRENT.get();
    return scope == null ? null : scope.context;
  }

  /** An open context; closing it restores the one that was open before. */
  public static final class Scope implements AutoCloseable {
    private final ActingContext context;
    private final Scope outer;
    private final Thread thread;
    private boolean closed;

    private Scope(ActingContext context, Scope outer, Thread thread) {
      this.context = context;
      this.outer = outer;
      this.thread = thread;
    }

    /** Who is acting in this scope. */
    public ActingContext context() {
      return context;
    }

    @Override
    public void close() {
      if (closed) {
        return;
      }
      if (Thread.currentThread() != thread) {
        throw new IllegalStateException(
            "a request context scope must be closed on the thread that opened it ("
                + thread.getName()
                + "), not on "
                + Thread.currentThread().getName());
      }
      if (CURRENT.get() != this) {
        throw new IllegalStateException(
            "request context scopes must be closed in reverse order: "
                + context
                + " was closed while an inner scope is still open");
      }
      closed = true;
      if (outer == null) {
        CURRENT.remove();
      } else {
        CURRENT.set(outer);
      }
    }
  }
}
