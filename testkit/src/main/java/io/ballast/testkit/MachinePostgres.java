package io.ballast.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A throw-away PostgreSQL cluster run from the machine's own PostgreSQL installation ({@code
 * /usr/lib/postgresql/<major>/bin}, Debian package {@code postgresql-<major>}), for tests that
 * drive the machine's client tools ({@code pg_dump}, {@code pg_restore}) or pgBackRest: those need
 * a server of their own major, which the embedded server (PostgreSQL 16) is not.
 *
 * <p>initdb runs on a temporary data directory; the server listens on a free loopback port. The
 * superuser {@code postgres} connects without a password; every other role must give its password
 * (SCRAM), so a test of how credentials are passed proves they were. As root, the server runs as
 * {@code nobody} (PostgreSQL refuses root); {@link #serverUserPrefix()} is the prefix that runs a
 * command as that user.
 *
 * <pre>{@code
 * try (var pg = MachinePostgres.builder().config("archive_mode = on").start()) {
 *   pg.execute("postgres", "create database app");
 *   var url = pg.databaseUrl("app"); // postgresql://postgres@127.0.0.1:<port>/app
 * }
 * }</pre>
 *
 * <p>When no installation is found, {@link Builder#start()} fails naming the package: a test never
 * skips for it.
 */
public final class MachinePostgres implements AutoCloseable {
  private static final Path ROOT = Path.of("/usr/lib/postgresql");
  private static final Pattern MAJOR = Pattern.compile("\\d+");

  private final EmbeddedPostgres server;
  private final Path bin;
  private final int major;

  private MachinePostgres(EmbeddedPostgres server, Path bin, int major) {
    this.server = server;
    this.bin = bin;
    this.major = major;
  }

  /** A builder for the newest installed major version. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The newest major version installed under {@code /usr/lib/postgresql} with its server binaries
   * ({@code initdb} and {@code postgres}), if any.
   */
  public static Optional<Integer> installedMajor() {
    if (!Files.isDirectory(ROOT)) {
      return Optional.empty();
    }
    try (Stream<Path> dirs = Files.list(ROOT)) {
      return dirs.filter(d -> MAJOR.matcher(d.getFileName().toString()).matches())
          .filter(d -> Files.isExecutable(d.resolve("bin/initdb")))
          .filter(d -> Files.isExecutable(d.resolve("bin/postgres")))
          .map(d -> Integer.parseInt(d.getFileName().toString()))
          .max(Comparator.naturalOrder());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The loopback address it listens on. */
  public String host() {
    return "127.0.0.1";
  }

  /** The port it listens on. */
  public int port() {
    return server.port();
  }

  /** Its major version. */
  public int major() {
    return major;
  }

  /** The directory of its binaries and client tools ({@code pg_dump}, {@code pg_ctl}…). */
  public Path binDir() {
    return bin;
  }

  /** The directory of its Unix socket, for tools that connect through one (pgBackRest). */
  public Path socketDir() {
    return server.socketDir();
  }

  /** Its data directory. */
  public Path dataDir() {
    return server.dataDir();
  }

  /**
   * The words that run a command as the server's operating-system user: {@code setpriv
   * --reuid=nobody …} when this JVM runs as root, else none.
   */
  public List<String> serverUserPrefix() {
    return server.dropsPrivileges()
        ? List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")
        : List.of();
  }

  /** Whether the server processes run as {@code nobody} (this JVM runs as root). */
  public boolean runsAsNobody() {
    return server.dropsPrivileges();
  }

  /** A JDBC URL of {@code database}, without credentials. */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://" + host() + ":" + port() + "/" + database;
  }

  /** {@code postgresql://postgres@127.0.0.1:<port>/<database>}: the superuser, no password. */
  public String databaseUrl(String database) {
    return "postgresql://postgres@" + host() + ":" + port() + "/" + database;
  }

  /** A new connection to {@code database} as the superuser. */
  public Connection connect(String database) throws SQLException {
    var props = new Properties();
    props.setProperty("user", "postgres");
    return DriverManager.getConnection(jdbcUrl(database), props);
  }

  /** Runs {@code statements} on {@code database} as the superuser, each in its own transaction. */
  public void execute(String database, String... statements) throws SQLException {
    try (var c = connect(database);
        var s = c.createStatement()) {
      for (var sql : statements) {
        s.execute(sql);
      }
    }
  }

  /**
   * Starts a streaming replica of this server: a base backup ({@code pg_basebackup -R -X stream})
   * into a new data directory, started on another free loopback port as a hot standby that replays
   * this server's WAL as it is written. Close it before this server.
   *
   * <pre>{@code
   * try (var primary = MachinePostgres.builder().start();
   *     var replica = primary.startReplica()) {
   *   replica.pauseReplay();   // lag grows from here, deterministically
   *   replica.resumeReplay();
   * }
   * }</pre>
   */
  public MachinePostgres startReplica() {
    return new MachinePostgres(EmbeddedPostgres.replicaOf(server), bin, major);
  }

  /** Pauses WAL replay on this replica ({@code pg_wal_replay_pause()}): reads see no newer data. */
  public void pauseReplay() throws SQLException {
    execute("postgres", "select pg_wal_replay_pause()");
  }

  /** Resumes WAL replay on this replica ({@code pg_wal_replay_resume()}). */
  public void resumeReplay() throws SQLException {
    execute("postgres", "select pg_wal_replay_resume()");
  }

  /**
   * Kills the server's processes with SIGKILL ({@code kill -9}), as a crash would; {@link #start()}
   * starts it again, with crash recovery.
   */
  public void kill() {
    server.kill();
  }

  /** Stops the server (fast mode), keeping its data directory. */
  public void stop() {
    server.stopServer();
  }

  /** Starts it again after {@link #stop()}, on the same port. */
  public void start() {
    server.startServer();
  }

  /** Stops the server and removes its data directory. */
  @Override
  public void close() {
    server.destroy();
  }

  /** Configures and starts a {@link MachinePostgres}. */
  public static final class Builder {
    private final List<String> config = new ArrayList<>();

    private Builder() {}

    /** A line for {@code postgresql.conf}, as {@code name = 'value'}. */
    public Builder config(String line) {
      config.add(line);
      return this;
    }

    /** Runs initdb and starts the server; fails naming the package when none is installed. */
    public MachinePostgres start() {
      var major =
          installedMajor()
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "No PostgreSQL server installation under "
                              + ROOT
                              + " (initdb and postgres): install the Debian package"
                              + " postgresql-15 (apt-get install postgresql-15)"));
      var home = ROOT.resolve(Integer.toString(major));
      var hba =
          List.of(
              "local all all trust",
              "host all postgres 127.0.0.1/32 trust",
              "host all all 127.0.0.1/32 scram-sha-256",
              "host replication all 127.0.0.1/32 trust");
      var lines = new ArrayList<String>();
      lines.add("password_encryption = 'scram-sha-256'");
      lines.addAll(config);
      return new MachinePostgres(
          EmbeddedPostgres.start(home, lines, hba, true), home.resolve("bin"), major);
    }
  }
}
