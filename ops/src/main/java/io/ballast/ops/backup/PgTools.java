package io.ballast.ops.backup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The PostgreSQL client tools of one major version ({@code pg_dump}, {@code pg_restore}), found in
 * a configured directory, in {@code /usr/lib/postgresql/<major>/bin} or on {@code PATH}, and run as
 * child processes with the connection in their environment and the password in a temporary password
 * file (mode 0600, deleted afterwards): never on the command line, never in a log.
 */
final class PgTools {
  private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)(?:\\.(\\d+))?");

  private final Path bin;
  private final int major;
  private final String version;

  private PgTools(Path bin, int major, String version) {
    this.bin = bin;
    this.major = major;
    this.version = version;
  }

  /**
   * The tools of {@code serverMajor}: in {@code configured} if set, else the first of {@code
   * /usr/lib/postgresql/<major>/bin} and the {@code PATH} entries whose {@code pg_dump} has that
   * major version.
   *
   * @throws BackupException naming what was found and what to install or set
   */
  static PgTools find(Optional<Path> configured, int serverMajor, String path) {
    var candidates = new LinkedHashSet<Path>();
    if (configured.isPresent()) {
      candidates.add(configured.get());
    } else {
      candidates.add(Path.of("/usr/lib/postgresql", Integer.toString(serverMajor), "bin"));
      if (path != null) {
        for (var entry : path.split(":", -1)) {
          if (!entry.isBlank()) {
            candidates.add(Path.of(entry));
          }
        }
      }
    }
    var found = new ArrayList<String>();
    for (var dir : candidates) {
      var dump = dir.resolve("pg_dump");
      if (!Files.isExecutable(dump) || !Files.isExecutable(dir.resolve("pg_restore"))) {
        continue;
      }
      var v = versionOf(dump);
      if (v == null) {
        found.add(dump + " (version unreadable)");
        continue;
      }
      var m = VERSION.matcher(v);
      if (m.find() && Integer.parseInt(m.group(1)) == serverMajor) {
        return new PgTools(dir, serverMajor, v);
      }
      found.add(dump + " (" + v + ")");
    }
    var where =
        configured
            .map(d -> "BALLAST_BACKUP_PG_BIN=" + d)
            .orElse("/usr/lib/postgresql/" + serverMajor + "/bin or PATH");
    throw new BackupException(
        "pg_dump and pg_restore of PostgreSQL "
            + serverMajor
            + " (the server's major version) not found in "
            + where
            + (found.isEmpty() ? "" : "; found only " + String.join(", ", found))
            + ": install the Debian package postgresql-client-"
            + serverMajor
            + " or set BALLAST_BACKUP_PG_BIN to their directory");
  }

  private static String versionOf(Path tool) {
    try {
      var p = new ProcessBuilder(tool.toString(), "--version").redirectErrorStream(true).start();
      var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** The tools' major version. */
  int major() {
    return major;
  }

  /** What {@code pg_dump --version} printed. */
  String version() {
    return version;
  }

  /** The path of {@code tool} in this directory. */
  String path(String tool) {
    return bin.resolve(tool).toString();
  }

  /**
   * Runs {@code arguments} of {@code tool} against {@code target} and waits up to {@code timeout};
   * the child's standard error goes to a file whose tail is in the failure's message.
   *
   * @throws BackupException when it exits non-zero, is killed or runs out of time
   */
  void run(String tool, List<String> arguments, PgConnection target, Duration timeout)
      throws IOException, InterruptedException {
    var command = new ArrayList<String>();
    command.add(path(tool));
    command.addAll(arguments);
    run(command, target, timeout, tool);
  }

  /** As {@link #run(String, List, PgConnection, Duration)} for any command. */
  static void run(List<String> command, PgConnection target, Duration timeout, String what)
      throws IOException, InterruptedException {
    exec(command, target, timeout, what, false);
  }

  /**
   * Runs {@code command} ({@code target}'s connection in its environment when not null) and waits
   * up to {@code timeout}; returns its standard output when {@code keepOutput}, else "".
   *
   * @throws BackupException when it exits non-zero, is killed or runs out of time, with the tail of
   *     what it printed
   */
  static String exec(
      List<String> command, PgConnection target, Duration timeout, String what, boolean keepOutput)
      throws IOException, InterruptedException {
    Path passFile = null;
    var log = Files.createTempFile("ballast-" + what + "-", ".log");
    var out = Files.createTempFile("ballast-" + what + "-", ".out");
    try {
      var builder = new ProcessBuilder(command);
      var env = builder.environment();
      env.keySet().removeIf(k -> k.startsWith("PG"));
      if (target != null) {
        if (target.password() != null) {
          passFile =
              Files.createTempFile(
                  "ballast-pgpass-",
                  "",
                  PosixFilePermissions.asFileAttribute(
                      PosixFilePermissions.fromString("rw-------")));
          Files.writeString(passFile, target.passFileLine() + "\n", StandardCharsets.UTF_8);
        }
        env.putAll(target.environment(passFile == null ? null : passFile.toString()));
      }
      builder.redirectError(log.toFile()).redirectOutput(out.toFile());
      var process = builder.start();
      boolean finished;
      try {
        finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        process.destroyForcibly();
        throw e;
      }
      if (!finished) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new BackupException(what + " ran longer than " + timeout + " and was killed");
      }
      var exit = process.exitValue();
      if (exit != 0) {
        throw new BackupException(
            what
                + (exit > 128
                    ? " was killed (signal " + (exit - 128) + ")"
                    : " failed (exit " + exit + ")")
                + tail(log, out));
      }
      return keepOutput ? Files.readString(out, StandardCharsets.UTF_8) : "";
    } finally {
      if (passFile != null) {
        Files.deleteIfExists(passFile);
      }
      Files.deleteIfExists(log);
      Files.deleteIfExists(out);
    }
  }

  /** The last lines the tool printed, for a failure's message. */
  private static String tail(Path log, Path out) {
    try {
      var lines = new ArrayList<>(Files.readAllLines(out, StandardCharsets.UTF_8));
      lines.addAll(Files.readAllLines(log, StandardCharsets.UTF_8));
      lines.removeIf(String::isBlank);
      if (lines.isEmpty()) {
        return "";
      }
      return ": " + String.join(" / ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    } catch (IOException e) {
      return "";
    }
  }
}
