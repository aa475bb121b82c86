package io.ballast.pool;

import java.util.List;
import java.util.function.Function;
import org.jooq.DSLContext;

/**
 * Reads routed to streaming replicas, bound by {@link ReplicaModule}. A read runs on a replica that
 * may serve it (where every transaction is read-only), and in one read-only transaction on the
 * primary when none may:
 *
 * <ul>
 *   <li>a read with a position (the current {@link UnitOfWork}'s, or one passed in) goes to a
 *       replica that has replayed past it and is within the lag bound, else to the primary, so a
 *       caller always reads its own writes;
 *   <li>a read without one goes to any replica within the lag bound ({@link
 *       ReplicaSettings#maxLag()}, {@link ReplicaSettings#maxLagBytes()});
 *   <li>a replica that is down, lagging past the bound, or no longer in recovery is skipped (logged
 *       once per change, counted); a read that fails on a replica for a connection-class reason is
 *       run again on the next server, so the work may run more than once (keep side effects out of
 *       it, as in a retried transaction);
 *   <li>nothing is sent to a replica by looking at SQL text: only work given to {@code read} goes
 *       there, and every other statement goes to the primary.
 * </ul>
 *
 * <pre>{@code
 * try (var unit = replicas.unitOfWork(WalPosition.parse(cookie))) {
 *   db.insertInto(ORDERS).set(ORDERS.ID, 42L).execute();                   // primary
 *   var order = replicas.read(r -> r.selectFrom(ORDERS).where(ORDERS.ID.eq(42L)).fetchOne());
 *   cookie = unit.position().toString();                                   // for the next request
 * }
 * }</pre>
 */
public interface Replicas {
  /**
   * Runs {@code work} on a replica that may serve it, or read-only on the primary (see above), with
   * the current unit of work's position if one is open, and returns its result. Every listener of
   * the application's {@code DSLContext} runs (acting context, breaker of that server, timeouts,
   * the query monitor).
   */
  <T> T read(Function<DSLContext, T> work);

  /**
   * As {@link #read(Function)}, on a server that has replayed past {@code after} ({@code null}: no
   * position).
   */
  <T> T read(WalPosition after, Function<DSLContext, T> work);

  /** Opens a unit of work on this thread with no position yet. */
  UnitOfWork unitOfWork();

  /**
   * Opens a unit of work on this thread that has already written up to {@code after}, as carried
   * from an earlier request ({@code null}: nothing).
   */
  UnitOfWork unitOfWork(WalPosition after);

  /** The primary's WAL insert position now (a round trip to the primary). */
  WalPosition primaryPosition();

  /** Each replica's state as last checked, in the order configured. */
  List<ReplicaState> states();
}
