package io.ballast.audit;

/**
 * The outcome of {@link AuditLog#verify()}.
 *
 * @param intact whether every check passed
 * @param checked chain entries checked
 * @param firstSeq the chain position verification started from: 1, or the first entry retention
 *     kept (whose link to the dropped entries before it is taken on trust)
 * @param lastSeq the last chain position checked
 * @param badSeq the chain position of the first bad entry, or {@code null}
 * @param badLogId the audit row id of the first bad entry, or {@code null}
 * @param problem what is wrong with it, or {@code null}
 * @param unsealed audit rows not yet in the chain (written after the last sealing)
 * @param head the hex hash of the last entry: keep it outside the database to detect a truncated
 *     tail later
 * @param badRow within the first bad entry, when it is a change set whose rows were tampered with,
 *     the 1-based position of the first bad row; else {@code null}
 */
public record ChainVerification(
    boolean intact,
    long checked,
    long firstSeq,
    long lastSeq,
    Long badSeq,
    Long badLogId,
    String problem,
    long unsealed,
    String head,
    Integer badRow) {

  /**
   * {@code audit chain intact: …}, or {@code audit chain broken at entry N (audit row M): …}; an
   * inserted row (in the sealed range, in no entry) is named by its audit row, a missing entry by
   * its position.
   */
  @Override
  public String toString() {
    if (intact) {
      return "audit chain intact: "
          + checked
          + " entries ("
          + firstSeq
          + ".."
          + lastSeq
          + "), "
          + unsealed
          + " unsealed";
    }
    var where =
        badSeq != null && badLogId != null
            ? " at entry "
                + badSeq
                + " (audit row "
                + badLogId
                + (badRow != null ? ", row " + badRow : "")
                + ")"
            : badSeq != null
                ? " at entry " + badSeq
                : badLogId != null ? " at audit row " + badLogId : "";
    return "audit chain broken" + where + ": " + problem;
  }
}
