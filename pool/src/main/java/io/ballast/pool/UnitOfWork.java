package io.ballast.pool;

/**
 * A unit of work that reads its own writes: while it is open on a thread, every connection that
 * thread borrows from the primary pool reads the primary's WAL insert position when it is handed
 * back, and the unit keeps the latest ({@link #position()}). {@link Replicas#read} then sends a
 * read to a replica only if the replica has replayed past that position; else the primary serves
 * it. Open one per request (or per job step), carry {@link #position()} to the next request when it
 * may land on another instance (a cookie, a header), and pass it to {@link
 * Replicas#unitOfWork(WalPosition)} there.
 *
 * <p>The cost is one round trip to the primary each time a connection borrowed inside the unit is
 * handed back ({@code select pg_current_wal_insert_lsn()}); threads without a unit pay nothing.
 * When that read fails the unit cannot know what it wrote, and every later read in it goes to the
 * primary. Units nest: closing an inner one hands its position to the outer one. Not shared between
 * threads: for work that hops threads, pass {@link #position()} explicitly to {@link
 * Replicas#read(WalPosition, java.util.function.Function)}.
 */
public final class UnitOfWork implements AutoCloseable {
  private static final ThreadLocal<UnitOfWork> CURRENT = new ThreadLocal<>();

  /** Past any position: reads go to the primary. */
  static final WalPosition UNKNOWN = new WalPosition(-1L);

  private final UnitOfWork outer;
  private final Thread owner;
  private WalPosition position;
  private boolean closed;

  UnitOfWork(WalPosition after) {
    this.outer = CURRENT.get();
    this.owner = Thread.currentThread();
    this.position = after;
    CURRENT.set(this);
  }

  /** The unit open on this thread, or {@code null}. */
  static UnitOfWork currentOrNull() {
    return CURRENT.get();
  }

  /**
   * The latest primary position this unit wrote at, or was opened with; {@code null} when neither.
   * A unit that could not read its position answers a position past every server's, so its reads go
   * to the primary.
   */
  public WalPosition position() {
    return position;
  }

  /** Records that the primary was at {@code reached} after a connection of this unit came back. */
  void wrote(WalPosition reached) {
    position = position == null ? reached : position.max(reached);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    if (Thread.currentThread() != owner) {
      throw new IllegalStateException(
          "a UnitOfWork must be closed on the thread that opened it (" + owner.getName() + ")");
    }
    closed = true;
    if (CURRENT.get() == this) {
      if (outer != null) {
        if (position != null) {
          outer.wrote(position);
        }
        CURRENT.set(outer);
      } else {
        CURRENT.remove();
      }
    }
  }

  @Override
  public String toString() {
    return "UnitOfWork[" + (position == null ? "no write" : position) + "]";
  }
}
