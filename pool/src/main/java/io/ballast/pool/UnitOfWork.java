package io.ballast.pool;

/**
 * A unit of work that reads its own writes. While it is open on a thread, it notes every use of a
 * connection that thread borrows from the primary pool; the next {@link #position()} (which {@link
 * Replicas#read} calls) then reads the primary's WAL insert position once, a position at or past
 * every commit made before it. {@link Replicas#read} sends a read to a replica only if the replica
 * has replayed past that position; else the primary serves it. Open one per request (or per job
 * step), carry {@link #position()} to the next request when it may land on another instance (a
 * cookie, a header), and pass it to {@link Replicas#unitOfWork(WalPosition)} there.
 *
 * <p>The cost is one round trip to the primary ({@code select pg_current_wal_insert_lsn()}) at the
 * first read or {@link #position()} after the unit used the primary, however many statements it ran
 * there; a unit that does not use the primary, and threads without a unit, pay nothing. When that
 * read fails the unit cannot know what it wrote, and every later read in it goes to the primary.
 * Units nest: closing an inner one hands its position to the outer one. Not shared between threads:
 * for work that hops threads, pass {@link #position()} explicitly to {@link
 * Replicas#read(WalPosition, java.util.function.Function)}.
 */
public final class UnitOfWork implements AutoCloseable {
  private static final ThreadLocal<UnitOfWork> CURRENT = new ThreadLocal<>();

  /** Past any position: reads go to the primary. */
  static final WalPosition UNKNOWN = new WalPosition(-1L);

  private final UnitOfWork outer;
  private final Thread owner;
  private final java.util.function.Supplier<WalPosition> primaryPosition;
  private WalPosition position;
  private boolean usedPrimary;
  private boolean closed;

  UnitOfWork(WalPosition after, java.util.function.Supplier<WalPosition> primaryPosition) {
    this.outer = CURRENT.get();
    this.owner = Thread.currentThread();
    this.primaryPosition = primaryPosition;
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
    if (usedPrimary) {
      usedPrimary = false; // cleared first: a use after the read below sets it again
      WalPosition reached;
      try {
        reached = primaryPosition.get();
      } catch (RuntimeException e) {
        reached = UNKNOWN; // cannot know what was written: reads go to the primary
      }
      wrote(reached);
    }
    return position;
  }

  /**
   * A primary connection of this unit was used: the next {@link #position()} reads the primary's.
   */
  void usedPrimary() {
    usedPrimary = true;
  }

  /** Records that the primary was at {@code reached}, past what this unit wrote. */
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
        if (usedPrimary) {
          outer.usedPrimary();
        }
        CURRENT.set(outer);
      } else {
        CURRENT.remove();
      }
    }
  }

  @Override
  public String toString() {
    return "UnitOfWork["
        + (position == null ? "no position" : position)
        + (usedPrimary ? ", primary used since" : "")
        + "]";
  }
}
