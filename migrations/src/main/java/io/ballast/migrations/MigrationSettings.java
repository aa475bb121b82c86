package io.ballast.migrations;

import io.ballast.core.MigrationSet;
import io.ballast.core.settings.AppEnv;
import io.ballast.core.settings.Setting;
import io.ballast.core.settings.SettingException;
import io.ballast.core.settings.SettingValues;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Settings of {@link MigrationsModule}: the start-up mode and the application's own migration set.
 * Immutable; build with {@link #fromEnv()}, {@link #fromEnv(Map)}, {@link #defaults(AppEnv)},
 * {@link #builder(AppEnv)}, or {@link #toBuilder()} / {@link #from(MigrationSettings)}.
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
 *   <tr><td>{@code BALLAST_MIGRATIONS_LOCK_TIMEOUT_SECONDS} (was {@code BALLAST_MIGRATIONS_LOCK_TIMEOUT})</td>
 *       <td>seconds start-up waits for locks in all: while another instance migrates, and while a migration's
 *       statements wait for table locks that the application holds (retried with back-off), before it fails
 *       naming the holder</td><td>600</td></tr>
 *   <tr><td>{@code BALLAST_MIGRATIONS_STATEMENT_LOCK_TIMEOUT_SECONDS} (was without {@code _SECONDS})</td><td>seconds
 *       one attempt of a migration waits for a lock ({@code lock_timeout}) before it is rolled back, logged with the
 *       holder, and tried again</td><td>5</td></tr>
 * </table>
 */
public final class MigrationSettings {
  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#mode}, which gives its unit, range
   * and default.
   */
  public static final Setting<MigrationMode> MODE =
      Setting.oneOf("migrations_mode", MigrationMode.class)
          .variable("BALLAST_MIGRATIONS_MODE")
          .build();

  private static final Pattern LOCATION = Pattern.compile("(classpath|filesystem):\\S+");

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#locations}, which gives its unit,
   * range and default.
   */
  public static final Setting<List<String>> LOCATIONS =
      Setting.<List<String>>of(
              "migrations_locations",
              MigrationSettings::parseLocations,
              "classpath:<path> or filesystem:<path>, comma-separated")
          .check(
              l ->
                  l.isEmpty() || !l.stream().allMatch(x -> LOCATION.matcher(x).matches())
                      ? "be classpath:<path> or filesystem:<path>, comma-separated"
                      : null)
          .show(l -> String.join(",", l))
          .variable("BALLAST_MIGRATIONS_LOCATIONS")
          .defaultValue(List.of("classpath:db/migration"))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#historyTable}, which gives its unit,
   * range and default.
   */
  public static final Setting<String> TABLE =
      Setting.text(
              "migrations_table",
              Pattern.compile("[a-z_][a-z0-9_]{0,62}"),
              "a table name matching [a-z_][a-z0-9_]{0,62}")
          .variable("BALLAST_MIGRATIONS_TABLE")
          .defaultValue("flyway_schema_history")
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#allowClean}, which gives its unit,
   * range and default.
   */
  public static final Setting<Boolean> ALLOW_CLEAN =
      Setting.bool("allow_clean")
          .variable("BALLAST_MIGRATIONS_ALLOW_CLEAN")
          .defaultValue(false)
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#lockTimeout}, which gives its unit,
   * range and default.
   */
  public static final Setting<Duration> LOCK_TIMEOUT =
      Setting.seconds("migrations_lock_timeout", Duration.ofSeconds(1), Duration.ofDays(1))
          .variable("BALLAST_MIGRATIONS_LOCK_TIMEOUT_SECONDS")
          .deprecated("BALLAST_MIGRATIONS_LOCK_TIMEOUT")
          .defaultValue(Duration.ofMinutes(10))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#statementLockTimeout}, which gives
   * its unit, range and default.
   */
  public static final Setting<Duration> STATEMENT_LOCK_TIMEOUT =
      Setting.seconds(
              "migrations_statement_lock_timeout", Duration.ofMillis(100), Duration.ofMinutes(10))
          .variable("BALLAST_MIGRATIONS_STATEMENT_LOCK_TIMEOUT_SECONDS")
          .deprecated("BALLAST_MIGRATIONS_STATEMENT_LOCK_TIMEOUT")
          .defaultValue(Duration.ofSeconds(5))
          .build();

  /** The variable of {@link #LOCK_TIMEOUT}, as messages name it. */
  public static final String LOCK_TIMEOUT_VARIABLE = LOCK_TIMEOUT.variable();

  private final AppEnv appEnv;
  private final SettingValues values;

  private MigrationSettings(Builder b) {
    this.appEnv = b.appEnv;
    this.values = b.values.copy();
  }

  /** The defaults of {@code env}. */
  public static MigrationSettings defaults(AppEnv env) {
    return builder(env).build();
  }

  /** A builder starting from the defaults for {@code env}. */
  public static Builder builder(AppEnv env) {
    return new Builder(Objects.requireNonNull(env, "env"));
  }

  /** A builder holding {@code base}'s values. */
  public static Builder from(MigrationSettings base) {
    return base.toBuilder();
  }

  /** A builder holding these values. */
  public Builder toBuilder() {
    var b = new Builder(appEnv);
    b.values = values.copy();
    return b;
  }

  /** Settings from the process environment (the variables of the class comment). */
  public static MigrationSettings fromEnv() {
    return fromEnv(System::getenv);
  }

  /**
   * Settings from {@code env} (the variables of the class comment); a wrong value fails naming the
   * variable, the value and what is allowed.
   */
  public static MigrationSettings fromEnv(Map<String, String> env) {
    return fromEnv(env::get);
  }

  static MigrationSettings fromEnv(Function<String, String> env) {
    var b = builder(AppEnv.fromEnv(env));
    b.values.read(env, MODE, LOCATIONS, TABLE, ALLOW_CLEAN, LOCK_TIMEOUT, STATEMENT_LOCK_TIMEOUT);
    return b.build();
  }

  private static List<String> parseLocations(String raw) {
    return Arrays.stream(raw.split(",", -1)).map(String::trim).toList();
  }

  /** The environment the defaults were chosen for. */
  public AppEnv appEnv() {
    return appEnv;
  }

  /** As set by {@link Builder#mode}. */
  public MigrationMode mode() {
    return values.get(MODE);
  }

  /** Locations of the application's own set. */
  public List<String> locations() {
    return values.get(LOCATIONS);
  }

  /** History table of the application's own set. */
  public String historyTable() {
    return values.get(TABLE);
  }

  /** As set by {@link Builder#allowClean}. */
  public boolean allowClean() {
    return values.get(ALLOW_CLEAN);
  }

  /**
   * How long start-up waits for locks in all (another instance's migrations, and table locks a
   * migration needs) before failing.
   */
  public Duration lockTimeout() {
    return values.get(LOCK_TIMEOUT);
  }

  /**
   * The {@code lock_timeout} of one attempt of a migration; a timed-out attempt is logged and tried
   * again.
   */
  public Duration statementLockTimeout() {
    return values.get(STATEMENT_LOCK_TIMEOUT);
  }

  /** The application's own set, {@code app}, run after every module's set. */
  public MigrationSet applicationSet() {
    return new MigrationSet("app", MigrationSet.APPLICATION_ORDER, historyTable(), locations());
  }

  @Override
  public String toString() {
    return "MigrationSettings{mode="
        + MODE.show(mode())
        + ", locations="
        + locations()
        + ", historyTable="
        + historyTable()
        + ", allowClean="
        + allowClean()
        + ", lockTimeout="
        + LOCK_TIMEOUT.show(lockTimeout())
        + ", statementLockTimeout="
        + STATEMENT_LOCK_TIMEOUT.show(statementLockTimeout())
        + "}";
  }

  /** Builder for {@link MigrationSettings}. */
  public static final class Builder {
    private final AppEnv appEnv;
    private SettingValues values = new SettingValues();

    private Builder(AppEnv appEnv) {
      this.appEnv = appEnv;
      values.setDefault(
          MODE,
          appEnv == AppEnv.PRODUCTION ? MigrationMode.VALIDATE : MigrationMode.MIGRATE,
          "default for " + appEnv.id());
    }

    /** Migrate, validate or off; migrate by default, validate in production. */
    public Builder mode(MigrationMode mode) {
      values.set(MODE, mode);
      return this;
    }

    /**
     * Flyway locations, each {@code classpath:…} or {@code filesystem:…}; default {@code
     * classpath:db/migration}.
     */
    public Builder locations(String... locations) {
      values.set(LOCATIONS, List.of(locations));
      return this;
    }

    /** The application set's history table, matching {@code [a-z_][a-z0-9_]{0,62}}. */
    public Builder historyTable(String table) {
      values.set(TABLE, table);
      return this;
    }

    /**
     * Whether {@link Migrations#clean()} may drop every object; never allowed in production.
     * Default false.
     */
    public Builder allowClean(boolean allow) {
      values.set(ALLOW_CLEAN, allow);
      return this;
    }

    /**
     * The {@code lock_timeout} of one attempt of a migration: a statement that waits longer for a
     * lock (a table the application holds in a long transaction) is rolled back, the holder is
     * logged, and the migration is tried again after a back-off, until {@link
     * #lockTimeout(Duration)} in all. 100 ms to 10 min, default 5 s.
     */
    public Builder statementLockTimeout(Duration timeout) {
      values.set(STATEMENT_LOCK_TIMEOUT, timeout);
      return this;
    }

    /**
     * How long start-up waits for locks in all (another instance migrating, table locks); 1 s to 24
     * h, 10 min.
     */
    public Builder lockTimeout(Duration timeout) {
      values.set(LOCK_TIMEOUT, timeout);
      return this;
    }

    /**
     * Builds the settings.
     *
     * @throws SettingException when clean is allowed in production
     */
    public MigrationSettings build() {
      if (values.get(ALLOW_CLEAN) && appEnv == AppEnv.PRODUCTION) {
        throw new SettingException(
            ALLOW_CLEAN.name(),
            "be false in production (clean drops every object in the " + "schema)",
            true,
            values.source(ALLOW_CLEAN));
      }
      return new MigrationSettings(this);
    }
  }
}
