package io.ballast.ops.backup;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What a backup holds and how it was proven, written next to it as {@code
 * <database>-<timestamp>.manifest.json}. A backup exists only once its manifest does: the manifest
 * is renamed into place last.
 *
 * @param format the manifest format, 1
 * @param kind {@code logical} (pg_dump)
 * @param file the dump's file name, in the same directory
 * @param database the database dumped
 * @param serverVersion the server's {@code server_version}
 * @param toolVersion what {@code pg_dump --version} printed
 * @param startedAt when the snapshot was taken
 * @param finishedAt when the dump was complete on disk
 * @param durationMillis how long the dump took
 * @param sizeBytes the dump's size
 * @param sha256 the dump's SHA-256, lower-case hex
 * @param tables rows per table ({@code schema.table}), counted in the dump's own snapshot
 * @param verification the latest restore test, or null before the first
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record BackupManifest(
    int format,
    String kind,
    String file,
    String database,
    String serverVersion,
    String toolVersion,
    Instant startedAt,
    Instant finishedAt,
    long durationMillis,
    long sizeBytes,
    String sha256,
    Map<String, Long> tables,
    Verification verification) {

  /** The manifest format this version writes and reads. */
  public static final int FORMAT = 1;

  /** Checks the fields. */
  public BackupManifest {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(sha256, "sha256");
    Objects.requireNonNull(finishedAt, "finishedAt");
    tables = tables == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(tables));
  }

  /** Whether the latest restore test passed. */
  public boolean verified() {
    return verification != null && verification.ok();
  }

  /** This manifest with {@code result} as its latest restore test. */
  public BackupManifest withVerification(Verification result) {
    return new BackupManifest(
        format,
        kind,
        file,
        database,
        serverVersion,
        toolVersion,
        startedAt,
        finishedAt,
        durationMillis,
        sizeBytes,
        sha256,
        tables,
        result);
  }

  /**
   * A restore test's outcome.
   *
   * @param at when it finished
   * @param ok whether the dump restored and every check passed
   * @param detail what was checked, or what failed
   * @param durationMillis how long it took
   */
  public record Verification(Instant at, boolean ok, String detail, long durationMillis) {}
}
