package io.ballast.ops.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.google.inject.Module;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.settings.SettingException;
import io.ballast.ops.OpsModule;
import io.ballast.ops.OpsSettings;
import io.ballast.ops.backup.BackupSettings;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ballast} command line: migrations, health, maintenance and jobs for an operator or a
 * cron job, reading the same {@code DATABASE_URL} and settings as the library.
 *
 * <p>Exit codes: 0 when all is well, 1 for findings, an unhealthy database or a failed action, 2
 * for a usage or settings error. Output is a readable table, or JSON with {@code --json}; progress
 * and errors go to standard error, never a stack trace for an expected failure.
 *
 * <pre>
 * java -jar ops/target/ballast.jar maintain report
 * java -jar ops/target/ballast.jar maintain vacuum --dry-run
 * java -jar ops/target/ballast.jar backup --verify
 * java -jar ops/target/ballast.jar --help
 * </pre>
 */
@Command(
    name = "ballast",
    mixinStandardHelpOptions = true,
    versionProvider = BallastCli.Version.class,
    description =
        "Operations on a Ballast service's PostgreSQL: migrations, health, maintenance, jobs,"
            + " audit, backups, load tests.",
    footer = {
      "",
      "Reads DATABASE_URL and the BALLAST_* settings, as the library does.",
      "Exit codes: 0 ok, 1 findings / unhealthy / failed, 2 usage or settings error."
    },
    subcommands = {
      MigrateCommand.class,
      HealthCommand.class,
      MaintainCommand.class,
      JobsCommand.class,
      AuditCommand.class,
      BackupCommand.class,
      LoadCommand.class,
      CommandLine.HelpCommand.class
    })
public final class BallastCli implements Runnable {
  /** Exit code: all is well. */
  public static final int OK = 0;

  /** Exit code: findings, an unhealthy database, or a failed action. */
  public static final int FINDINGS = 1;

  /** Exit code: a usage or settings error. */
  public static final int USAGE = 2;

  private Map<String, String> env = Map.of();
  private PrintStream out = System.out;
  private PrintStream err = System.err;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Runs the command line and exits with its code. */
  public static void main(String[] args) {
    // the command line's own logging: warnings and errors only, on standard error, so standard
    // output stays for results (an application's configuration is left alone)
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "io/ballast/ops/cli/logback-cli.xml");
    }
    System.exit(run(args, System.getenv(), System.out, System.err));
  }

  /**
   * Runs {@code args} with {@code env} as the environment; returns the exit code. What {@code main}
   * does, without exiting, for tests and embedding.
   */
  public static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    var cli = new BallastCli();
    cli.env = Map.copyOf(Objects.requireNonNull(env, "env"));
    cli.out = out;
    cli.err = err;
    var commandLine = new CommandLine(cli).setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
    commandLine.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    commandLine.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          cmd.getErr().println("ballast " + cmd.getCommandName() + ": " + message(e));
          return e instanceof SettingException || e instanceof IllegalArgumentException
              ? USAGE
              : FINDINGS;
        });
    return commandLine.execute(args);
  }

  /** Without a command: the usage, as a usage error. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing a command");
  }

  /** An expected failure's message, causes included where they say more; no stack trace. */
  static String message(Throwable e) {
    var parts = new ArrayList<String>();
    for (var t = e; t != null && parts.size() < 3; t = t.getCause()) {
      var m = t.getMessage();
      if (m != null && parts.stream().noneMatch(p -> p.contains(m))) {
        parts.add(m);
      }
      if (t instanceof SettingException) {
        break;
      }
    }
    return parts.isEmpty() ? e.getClass().getSimpleName() : String.join(": ", parts);
  }

  // ------------------------------------------------------------------ for the commands

  /** The environment the settings are read from. */
  Map<String, String> env() {
    return env;
  }

  /** Where results go. */
  PrintStream out() {
    return out;
  }

  /** Where progress and errors go. */
  PrintStream err() {
    return err;
  }

  /** Core and the pool on {@code DATABASE_URL}, plus {@code extra} modules, started. */
  Ballast start(Module... extra) {
    var modules = new ArrayList<Module>();
    modules.add(new CoreModule(CoreSettings.fromEnv(env)));
    modules.add(new PoolModule(PoolSettings.fromEnv(env)));
    modules.addAll(List.of(extra));
    return Ballast.start(modules);
  }

  /** Core and the pool, with the ops settings of the environment bound for maintenance. */
  Ballast startMaintenance() {
    var settings = opsSettings();
    return start(binder -> binder.bind(OpsSettings.class).toInstance(settings));
  }

  /** Core, the pool and the ops module with its jobs not scheduled (this is not the service). */
  Ballast startOps() {
    return start(
        new OpsModule(
            OpsSettings.from(opsSettings()).jobsEnabled(false).build(),
            BackupSettings.fromEnv(env)));
  }

  /** The ops settings of the environment. */
  OpsSettings opsSettings() {
    return OpsSettings.fromEnv(env);
  }

  /** Writes {@code value} as indented JSON on standard output. */
  void json(Object value) {
    try {
      out.println(JSON.writeValueAsString(value));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("could not write JSON: " + e.getOriginalMessage(), e);
    }
  }

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(new JavaTimeModule())
          .registerModule(
              new com.fasterxml.jackson.databind.module.SimpleModule()
                  .addSerializer(
                      java.nio.file.Path.class,
                      new com.fasterxml.jackson.databind.ser.std.ToStringSerializer()))
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .enable(SerializationFeature.INDENT_OUTPUT);

  /** The version of the jar, from its manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      var v = BallastCli.class.getPackage().getImplementationVersion();
      return new String[] {"ballast " + (v == null ? "(development build)" : v)};
    }
  }
}
