package io.ballast.ops.backup;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where a new, verified backup is copied after it is written: an object store, another disk.
 * Ballast ships {@link LocalDirectoryUpload} ({@code BALLAST_BACKUP_UPLOAD_DIR}); bind your own in
 * Guice to reach a cloud store without Ballast depending on its SDK:
 *
 * <pre>{@code
 * OptionalBinder.newOptionalBinder(binder, BackupUpload.class)
 *     .setBinding()
 *     .toInstance((dump, manifest) -> myStore.put(dump, manifest));
 * }</pre>
 *
 * <p>Upload the dump first and the manifest last, so that the far side too only holds a manifest
 * for a complete dump.
 */
@FunctionalInterface
public interface BackupUpload {
  /**
   * Copies {@code dump} and then {@code manifest}; throws when either did not arrive whole (the job
   * then fails, keeping the local backup).
   */
  void upload(Path dump, Path manifest) throws IOException;
}
