package io.ballast.ops.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Objects;

/**
 * Copies backups into another directory (a mounted network share, another disk), each file under a
 * temporary name, flushed, then renamed: the manifest arrives last and only for a complete dump.
 */
public final class LocalDirectoryUpload implements BackupUpload {
  private final Path directory;

  /** Copies into {@code directory}, created when missing. */
  public LocalDirectoryUpload(Path directory) {
    this.directory = Objects.requireNonNull(directory, "directory");
  }

  @Override
  public void upload(Path dump, Path manifest) throws IOException {
    Files.createDirectories(directory);
    copy(dump);
    copy(manifest);
    Backups.fsync(directory);
  }

  private void copy(Path file) throws IOException {
    var target = directory.resolve(file.getFileName());
    var partial = directory.resolve("." + file.getFileName() + ".partial");
    try {
      Files.copy(file, partial, StandardCopyOption.REPLACE_EXISTING);
      Backups.fsync(partial);
      Files.move(
          partial, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(partial);
    }
  }

  @Override
  public String toString() {
    return directory.toString();
  }
}
