package io.ballast.migrations;

import io.ballast.core.AppEnv;
import io.ballast.core.SettingException;
import io.ballast.core.internal.Settings;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Settings of {@link MigrationsModule}: the start-up mode and the application's own migration set.
 * Immutable; build with {@link #fromEnv()}, {@link #defaults(AppEnv)} or {@link #builder(AppEnv)}.
 *
 * <table>
 *   <caption>Environment</caption>
 *   <tr><th>variable</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code BALLAST_MIGRATIONS_MODE}</td><td>migrate, validate or off</td>
 *       <td>migrate; validate in production</td></tr>
 *   <tr><td>{@code BALLAST_MIGRATIONS_LOCATIONS}</td><td>comma-separated Flyway locations of the application's
 *       set</td><td>{@code classpath:db/migration}</td></tr>
 *   <tr><td>{@code BALLAST_MIGRATIONS_TABLE}</td><td>the application set's history table</td>
 *       <td>{@code flyway_schema_history}</td></tr>
 *   <tr><td>{@code BALLAST_MIGRATIONS_ALLOW_CLEAN}</td><td>whether {@link Migrations#clean()} may drop
 *       everything; refused in production</td><td>false</td></tr>
 *   <tr><td>{@code BALLAST_MIGRATIONS_LOCK_TIMEOUT}</td><td>seconds start-up waits for locks in all: while another
 *       instance migrates, and while a migration's statements wait for table locks that the application holds
 *       (retried with back-off), before it fails naming the holder</td><td>600</td></tr>
 *   <tr><td>{@code BALLAST_MIGRATIONS_STATEMENT_LOCK_TIMEOUT}</td><td>seconds one attempt of a migration waits
 *       for a lock ({@code lock_timeout}) before it is rolled back, logged with the holder, and tried again</td>
 *       <td>5</td></tr>
 * </table>
 */
public final class MigrationSettings {
  public static final String MODE_VARIABLE = "BALLAST_MIGRATIONS_MODE";
  public static final String LOCATIONS_VARIABLE = "BALLAST_MIGRATIONS_LOCATIONS";
  public static final String TABLE_VARIABLE = "BALLAST_MIGRATIONS_TABLE";
  public static final String ALLOW_CLEAN_VARIABLE = "BALLAST_MIGRATIONS_ALLOW_CLEAN";
  public static final String LOCK_TIMEOUT_VARIABLE = "BALLAST_MIGRATIONS_LOCK_TIMEOUT";
  public static final String STATEMENT_LOCK_TIMEOUT_VARIABLE = "BALLAST_MIGRATIONS_STATEMENT_LOCK_TIMEOUT";
  private static final int MAX_STATEMENT_LOCK_TIMEOUT_SECONDS = 600;
  private static final int MAX_LOCK_TIMEOUT_SECONDS = 86_400;
  private static final Pattern LOCATION = Pattern.compile("(classpath|filesystem):\\S+");
  private static final Pattern TABLE = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private final AppEnv appEnv;
  private final MigrationMode mode;
  private final List<String> locations;
  private final String historyTable;
  private final boolean allowClean;
  private final Duration lockTimeout;
  private final Duration statementLockTimeout;

  private MigrationSettings(Builder b) {
    this.appEnv = b.appEnv;
    this.mode = b.mode;
    this.locations = List.copyOf(b.locations);
    this.historyTable = b.historyTable;
    this.allowClean = b.allowClean;
    this.lockTimeout = b.lockTimeout;
    this.statementLockTimeout = b.statementLockTimeout;
  }

  /** The defaults of {@code env}. */
  public static MigrationSettings defaults(AppEnv env) {
    return builder(env).build();
  }

  public static Builder builder(AppEnv env) {
    return new Builder(Objects.requireNonNull(env, "env"));
  }

  public static MigrationSettings fromEnv() {
    return fromEnv(System::getenv);
  }

  public static MigrationSettings fromEnv(Map<String, String> env) {
    return fromEnv(env::get);
  }

  static MigrationSettings fromEnv(Function<String, String> env) {
    var b = builder(AppEnv.fromEnv(env));
    var mode = Settings.get(env, MODE_VARIABLE);
    if (mode != null) {
      b.mode = parseMode(mode, MODE_VARIABLE);
    }
    var locations = Settings.get(env, LOCATIONS_VARIABLE);
    if (locations != null) {
      b.applyLocations(Arrays.stream(locations.split(",")).map(String::trim).toList(), LOCATIONS_VARIABLE);
    }
    var table = Settings.get(env, TABLE_VARIABLE);
    if (table != null) {
      b.applyTable(table, TABLE_VARIABLE);
    }
    var clean = Settings.get(env, ALLOW_CLEAN_VARIABLE);
    if (clean != null) {
      b.allowClean = Settings.parseBoolean("allow_clean", clean, ALLOW_CLEAN_VARIABLE);
      b.cleanSource = ALLOW_CLEAN_VARIABLE;
    }
    var lockTimeout = Settings.get(env, LOCK_TIMEOUT_VARIABLE);
    if (lockTimeout != null) {
      b.lockTimeout = Settings.parseSeconds("migrations_lock_timeout", lockTimeout, 1, MAX_LOCK_TIMEOUT_SECONDS,
          LOCK_TIMEOUT_VARIABLE);
    }
    var statementLockTimeout = Settings.get(env, STATEMENT_LOCK_TIMEOUT_VARIABLE);
    if (statementLockTimeout != null) {
      b.statementLockTimeout = Settings.parseSeconds("migrations_statement_lock_timeout", statementLockTimeout, 1,
          MAX_STATEMENT_LOCK_TIMEOUT_SECONDS, STATEMENT_LOCK_TIMEOUT_VARIABLE);
    }
    return b.build();
  }

  private static MigrationMode parseMode(String raw, String source) {
    for (var m : MigrationMode.values()) {
      if (m.name().equalsIgnoreCase(raw.trim())) {
        return m;
      }
    }
    throw new SettingException("migrations_mode", "be one of " + Arrays.stream(MigrationMode.values())
        .map(m -> m.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")), raw, source);
  }

  public AppEnv appEnv() {
    return appEnv;
  }

  public MigrationMode mode() {
    return mode;
  }

  /** Locations of the application's own set. */
  public List<String> locations() {
    return locations;
  }

  /** History table of the application's own set. */
  public String historyTable() {
    return historyTable;
  }

  public boolean allowClean() {
    return allowClean;
  }

  /**
   * How long start-up waits for locks in all (another instance's migrations, and table locks a migration needs)
   * before failing.
   */
  public Duration lockTimeout() {
    return lockTimeout;
  }

  /** The {@code lock_timeout} of one attempt of a migration; a timed-out attempt is logged and tried again. */
  public Duration statementLockTimeout() {
    return statementLockTimeout;
  }

  /** The application's own set, {@code app}, run after every module's set. */
  public MigrationSet applicationSet() {
    return new MigrationSet("app", MigrationSet.APPLICATION_ORDER, historyTable, locations);
  }

  @Override
  public String toString() {
    return "MigrationSettings{mode=" + mode.name().toLowerCase(Locale.ROOT) + ", locations=" + locations
        + ", historyTable=" + historyTable + ", allowClean=" + allowClean + ", lockTimeout="
        + Settings.human(lockTimeout) + ", statementLockTimeout=" + Settings.human(statementLockTimeout) + "}";
  }

  /** Builder for {@link MigrationSettings}. */
  public static final class Builder {
    private final AppEnv appEnv;
    private MigrationMode mode;
    private List<String> locations = List.of("classpath:db/migration");
    private String historyTable = "flyway_schema_history";
    private boolean allowClean;
    private String cleanSource = Settings.BUILDER;
    private Duration lockTimeout = Duration.ofMinutes(10);
    private Duration statementLockTimeout = Duration.ofSeconds(5);

    private Builder(AppEnv appEnv) {
      this.appEnv = appEnv;
      this.mode = appEnv == AppEnv.PRODUCTION ? MigrationMode.VALIDATE : MigrationMode.MIGRATE;
    }

    public Builder mode(MigrationMode mode) {
      this.mode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /** Flyway locations, each {@code classpath:…} or {@code filesystem:…}. */
    public Builder locations(String... locations) {
      applyLocations(List.of(locations), Settings.BUILDER);
      return this;
    }

    public Builder historyTable(String table) {
      applyTable(table, Settings.BUILDER);
      return this;
    }

    /** Whether {@link Migrations#clean()} may drop every object; never allowed in production. */
    public Builder allowClean(boolean allow) {
      this.allowClean = allow;
      this.cleanSource = Settings.BUILDER;
      return this;
    }

    /**
     * The {@code lock_timeout} of one attempt of a migration: a statement that waits longer for a lock (a table
     * the application holds in a long transaction) is rolled back, the holder is logged, and the migration is tried
     * again after a back-off, until {@link #lockTimeout(Duration)} in all. 100 ms to 10 min, default 5 s.
     */
    public Builder statementLockTimeout(Duration timeout) {
      this.statementLockTimeout = Settings.requireBetween("migrations_statement_lock_timeout", timeout,
          Duration.ofMillis(100), Duration.ofSeconds(MAX_STATEMENT_LOCK_TIMEOUT_SECONDS), Settings.BUILDER);
      return this;
    }

    /** How long start-up waits for locks in all (another instance migrating, table locks); 1 s to 24 h, 10 min. */
    public Builder lockTimeout(Duration timeout) {
      this.lockTimeout = Settings.requireBetween("migrations_lock_timeout", timeout, Duration.ofSeconds(1),
          Duration.ofSeconds(MAX_LOCK_TIMEOUT_SECONDS), Settings.BUILDER);
      return this;
    }

    /**
     * Builds the settings.
     *
     * @throws SettingException when clean is allowed in production
     */
    public MigrationSettings build() {
      if (allowClean && appEnv == AppEnv.PRODUCTION) {
        throw new SettingException("allow_clean", "be false in production (clean drops every object in the schema)",
            true, cleanSource);
      }
      return new MigrationSettings(this);
    }

    private void applyLocations(List<String> values, String source) {
      if (values.isEmpty()) {
        throw new SettingException("migrations_locations", "name at least one location", "nothing", source);
      }
      for (var location : values) {
        if (!LOCATION.matcher(location).matches()) {
          throw new SettingException("migrations_locations",
              "be classpath:<path> or filesystem:<path>, comma-separated", location, source);
        }
      }
      this.locations = List.copyOf(values);
    }

    private void applyTable(String table, String source) {
      if (table == null || !TABLE.matcher(table).matches()) {
        throw new SettingException("migrations_table", "match [a-z_][a-z0-9_]{0,62}", table, source);
      }
      this.historyTable = table;
    }
  }
}
