package io.ballast.pool;

import java.time.Duration;
import java.time.Instant;

/**
 * A replica as last checked.
 *
 * @param name the replica's pool name ({@code replica-1}, …)
 * @param status whether it serves reads, and if not why
 * @param replayed the WAL position it has replayed, or {@code null} when unknown
 * @param lag how far behind the primary it is in time (the age of the oldest primary position it
 *     has not replayed), or {@code null} when unknown
 * @param lagBytes how far behind in WAL bytes, or -1 when unknown
 * @param replayPaused whether its replay is paused ({@code pg_wal_replay_pause()})
 * @param reason why it is not serving, or an empty string
 * @param checkedAt when it was last checked, or {@code null} before the first check
 */
public record ReplicaState(
    String name,
    Status status,
    WalPosition replayed,
    Duration lag,
    long lagBytes,
    boolean replayPaused,
    String reason,
    Instant checkedAt) {

  /** Whether a replica serves reads. */
  public enum Status {
    /** Not checked yet: skipped. */
    UNKNOWN,
    /** Reachable, replaying, within the lag bound: serves reads. */
    USABLE,
    /** Reachable but behind the primary by more than the bound: skipped. */
    LAGGING,
    /** Not reachable, or its check failed: skipped. */
    DOWN,
    /** Reachable but not in recovery (promoted, or not a standby): skipped. */
    NOT_A_REPLICA
  }

  /** Whether it serves reads. */
  public boolean usable() {
    return status == Status.USABLE;
  }
}
