package io.ballast.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PgBouncer (the machine's {@code pgbouncer}, Debian package {@code pgbouncer}) in front of
 * a test database, on a free loopback port, in the pool mode and with the server pool size a test
 * asks for. Started by {@link Builder#start()}, stopped by {@link #close()}; as root it runs as
 * {@code nobody} (PgBouncer refuses root).
 *
 * <pre>{@code
 * try (var bouncer = PgBouncer.builder(PG).poolMode(PgBouncer.PoolMode.TRANSACTION).poolSize(4)
 *     .user(role.name(), role.password()).start()) {
 *   var url = bouncer.databaseUrl(role.name(), role.password()); // postgresql://…@127.0.0.1:<port>/<db>
 * }
 * }</pre>
 *
 * <p>When {@code pgbouncer} is not installed, {@link Builder#start()} fails naming the package: a
 * test never skips for it.
 */
public final class PgBouncer implements AutoCloseable {
  /** How PgBouncer hands server connections to clients. */
  public enum PoolMode {
    /** A server connection per client session (safe for everything). */
    SESSION,
    /**
     * A server connection per transaction: session state (prepared statements, SET) does not carry
     * over.
     */
    TRANSACTION
  }

  private static final List<Path> LOCATIONS =
      List.of(
          Path.of("/usr/sbin/pgbouncer"),
          Path.of("/usr/bin/pgbouncer"),
          Path.of("/usr/local/bin/pgbouncer"),
          Path.of("/usr/local/sbin/pgbouncer"));

  private final Process process;
  private final Path dir;
  private final int port;
  private final String database;

  private PgBouncer(Process process, Path dir, int port, String database) {
    this.process = process;
    this.dir = dir;
    this.port = port;
    this.database = database;
  }

  /** A bouncer in front of the test class's database. */
  public static Builder builder(PostgresExtension pg) {
    return new Builder(pg);
  }

  /** The loopback address it listens on. */
  public String host() {
    return "127.0.0.1";
  }

  /** The port it listens on. */
  public int port() {
    return port;
  }

  /** {@code postgresql://user:password@127.0.0.1:<port>/<database>}, user and password encoded. */
  public String databaseUrl(String user, String password) {
    var userInfo =
        URLEncoder.encode(user, StandardCharsets.UTF_8)
            + (password == null ? "" : ":" + URLEncoder.encode(password, StandardCharsets.UTF_8));
    return "postgresql://" + userInfo + "@" + host() + ":" + port + "/" + database;
  }

  /** A JDBC URL through the bouncer, without credentials. */
  public String jdbcUrl() {
    return "jdbc:postgresql://" + host() + ":" + port + "/" + database;
  }

  /** Opens a plain connection through the bouncer (unpooled, server-side prepares off). */
  public Connection connect(String user, String password) throws SQLException {
    var props = new Properties();
    props.setProperty("user", user);
    if (password != null) {
      props.setProperty("password", password);
    }
    props.setProperty("prepareThreshold", "0");
    return DriverManager.getConnection(jdbcUrl(), props);
  }

  /** The last lines of PgBouncer's log, for a failing assertion's message. */
  public String logTail() {
    try {
      var lines = Files.readAllLines(dir.resolve("pgbouncer.log"), StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** The number of times PgBouncer logged {@code text} so far. */
  public long logCount(String text) {
    try (var lines = Files.lines(dir.resolve("pgbouncer.log"), StandardCharsets.UTF_8)) {
      return lines.filter(l -> l.contains(text)).count();
    } catch (IOException e) {
      return 0;
    }
  }

  /**
   * Stops PgBouncer at once (SIGTERM: client and server connections are closed) and removes its
   * files.
   */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp directory left behind is harmless
    }
  }

  /** Where {@code pgbouncer} is, or a failure naming the package to install. */
  static Path executable() {
    for (var p : LOCATIONS) {
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    var path = System.getenv("PATH");
    if (path != null) {
      for (var d : path.split(":", -1)) {
        var p = Path.of(d, "pgbouncer");
        if (Files.isExecutable(p)) {
          return p;
        }
      }
    }
    throw new IllegalStateException(
        "pgbouncer is not installed: install the Debian package 'pgbouncer' "
            + "(apt-get install pgbouncer; the README's test command does it when run as root)");
  }

  /** Options of a bouncer; {@link #start()} launches it. */
  public static final class Builder {
    private final PostgresExtension pg;
    private PoolMode poolMode = PoolMode.TRANSACTION;
    private int poolSize = 4;
    private final Map<String, String> users = new LinkedHashMap<>();

    private Builder(PostgresExtension pg) {
      this.pg = pg;
      users.put(pg.username(), pg.password());
    }

    /** The pool mode: session, transaction or statement. */
    public Builder poolMode(PoolMode mode) {
      this.poolMode = mode;
      return this;
    }

    /** Server connections per user and database ({@code default_pool_size}). */
    public Builder poolSize(int size) {
      this.poolSize = size;
      return this;
    }

    /**
     * A user the bouncer lets in and logs into the server with (the administrative user is always
     * there).
     */
    public Builder user(String name, String password) {
      users.put(name, password);
      return this;
    }

    /** Starts PgBouncer on a free loopback port, once it accepts connections. */
    public PgBouncer start() {
      var exe = executable();
      var server = pg.server();
      try {
        var dir = Files.createTempDirectory("ballast-pgbouncer-");
        var port = Ports.free();
        var auth = new StringBuilder();
        users.forEach(
            (user, password) ->
                auth.append('"')
                    .append(user.replace("\"", "\"\""))
                    .append("\" \"")
                    .append(password == null ? "" : password.replace("\"", "\"\""))
                    .append("\"\n"));
        Files.writeString(dir.resolve("users.txt"), auth);
        var ini =
            String.join(
                "\n",
                "[databases]",
                pg.databaseName()
                    + " = host="
                    + server.host()
                    + " port="
                    + server.port()
                    + " dbname="
                    + pg.databaseName(),
                "",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                "listen_port = " + port,
                "unix_socket_dir =",
                "auth_type = trust",
                "auth_file = " + dir.resolve("users.txt"),
                "pool_mode = " + poolMode.name().toLowerCase(java.util.Locale.ROOT),
                "default_pool_size = " + poolSize,
                "min_pool_size = 0",
                "reserve_pool_size = 0",
                "max_client_conn = 500",
                "ignore_startup_parameters = extra_float_digits",
                "server_reset_query = DISCARD ALL",
                "logfile = " + dir.resolve("pgbouncer.log"),
                "pidfile = " + dir.resolve("pgbouncer.pid"),
                "log_connections = 0",
                "log_disconnections = 0",
                "");
        Files.writeString(dir.resolve("pgbouncer.ini"), ini);
        var command = new ArrayList<String>(List.of(exe.toString()));
        if (EmbeddedPostgres.isRoot()) {
          Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
          for (var f : List.of("users.txt", "pgbouncer.ini")) {
            Files.setPosixFilePermissions(
                dir.resolve(f), PosixFilePermissions.fromString("rw-r--r--"));
          }
          command.addAll(List.of("-u", "nobody"));
        }
        command.add(dir.resolve("pgbouncer.ini").toString());
        var process =
            new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("stdout.log").toFile())
                .start();
        var bouncer = new PgBouncer(process, dir, port, pg.databaseName());
        awaitListening(bouncer, process, dir);
        return bouncer;
      } catch (IOException e) {
        throw new UncheckedIOException("Could not start pgbouncer: " + e.getMessage(), e);
      }
    }

    private static void awaitListening(PgBouncer bouncer, Process process, Path dir)
        throws IOException {
      var deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new IllegalStateException(
              "pgbouncer exited at start ("
                  + process.exitValue()
                  + "): "
                  + Files.readString(dir.resolve("stdout.log"))
                  + "\n"
                  + bouncer.logTail());
        }
        try (var socket = new Socket()) {
          socket.connect(new InetSocketAddress(bouncer.host(), bouncer.port()), 200);
          return;
        } catch (IOException notYet) {
          try {
            Thread.sleep(20);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
        }
      }
      bouncer.close();
      throw new IllegalStateException("pgbouncer did not listen within 20 s: " + bouncer.logTail());
    }
  }
}
