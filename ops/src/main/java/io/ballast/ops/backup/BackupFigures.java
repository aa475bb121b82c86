package io.ballast.ops.backup;

/**
 * Where a kind of backup stands, as {@code /metrics} exports it.
 *
 * @param kind {@code logical} (pg_dump, {@link Backups}) or {@code pgbackrest} ({@link PgBackRest})
 * @param lastSuccessEpochSeconds when the newest backup finished, in Unix seconds (0: none yet)
 * @param lastVerifiedEpochSeconds when the newest backup proven by a restore or verification
 *     finished, in Unix seconds (0: none yet)
 * @param sizeBytes the newest backup's size
 * @param failures backups and verifications that failed since start
 */
public record BackupFigures(
    String kind,
    long lastSuccessEpochSeconds,
    long lastVerifiedEpochSeconds,
    long sizeBytes,
    long failures) {}
