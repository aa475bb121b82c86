package io.ballast.ops.backup;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.parser.CronParser;
import io.ballast.core.settings.Setting;
import io.ballast.core.settings.SettingValues;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Settings of {@link Backups} and {@link PgBackRest}. Immutable; build with {@link #builder()},
 * {@link #fromEnv(Map)} or {@link #toBuilder()}.
 *
 * <table>
 *   <caption>Environment</caption>
 *   <tr><th>variable</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code BALLAST_BACKUP_DIR}</td><td>where dumps and their manifests are written; backups are off
 *       without it</td><td>none</td></tr>
 *   <tr><td>{@code BALLAST_BACKUP_DATABASE_URL}</td><td>the database to dump, as {@code DATABASE_URL}; needed when
 *       {@code DATABASE_URL} goes through PgBouncer in transaction mode</td><td>{@code DATABASE_URL}</td></tr>
 *   <tr><td>{@code BALLAST_BACKUP_PG_BIN}</td><td>the directory of {@code pg_dump} and {@code pg_restore}</td>
 *       <td>found on {@code PATH}, then in {@code /usr/lib/postgresql/<server major>/bin}</td></tr>
 *   <tr><td>{@code BALLAST_BACKUP_KEEP_LAST}</td><td>backups always kept, newest first</td><td>7</td></tr>
 *   <tr><td>{@code BALLAST_BACKUP_KEEP_DAYS}</td><td>backups younger than this are always kept</td><td>30</td></tr>
 *   <tr><td>{@code BALLAST_BACKUP_MAX_AGE_HOURS}</td><td>the health check {@code backups} is degraded when the
 *       newest verified backup is older</td><td>26</td></tr>
 *   <tr><td>{@code BALLAST_BACKUP_SCHEDULE}</td><td>when the job {@code backup} (dump, verify, prune) runs, a
 *       UNIX cron expression in UTC</td><td>{@code 0 2 * * *}</td></tr>
 *   <tr><td>{@code BALLAST_BACKUP_TIMEOUT_MINUTES}</td><td>a dump or restore running longer is killed</td>
 *       <td>240</td></tr>
 *   <tr><td>{@code BALLAST_BACKUP_UPLOAD_DIR}</td><td>a directory every new backup is copied to (the shipped
 *       {@link BackupUpload}); bind your own for an object store</td><td>none</td></tr>
 *   <tr><td>{@code BALLAST_PGBACKREST_STANZA}</td><td>the pgBackRest stanza; pgBackRest is off without it</td>
 *       <td>none</td></tr>
 *   <tr><td>{@code BALLAST_PGBACKREST_CONFIG}</td><td>the pgBackRest configuration file</td>
 *       <td>pgBackRest's own default</td></tr>
 *   <tr><td>{@code BALLAST_PGBACKREST_COMMAND_PREFIX}</td><td>words put before every {@code pgbackrest} and
 *       {@code pg_ctl} command, to run them as the server's user (e.g. {@code sudo -u postgres})</td>
 *       <td>none</td></tr>
 * </table>
 */
public final class BackupSettings {
  private static final CronParser CRON =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
  private static final Pattern STANZA = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
  private static final Pattern WORDS =
      Pattern.compile("([^\\s'\"`$;&|<>]+(\\s+[^\\s'\"`$;&|<>]+)*)?");

  /** Declared once for {@link #fromEnv(Map)} and {@link Builder#directory}. */
  public static final Setting<Path> DIRECTORY =
      Setting.of("backup_dir", Path::of, "a directory path").variable("BALLAST_BACKUP_DIR").build();

  /** Declared once for {@link #fromEnv(Map)} and {@link Builder#databaseUrl}. */
  public static final Setting<String> DATABASE_URL =
      Setting.text(
              "backup_database_url",
              Pattern.compile("(postgres|postgresql)://.+"),
              "a postgresql:// URL, as DATABASE_URL")
          .variable("BALLAST_BACKUP_DATABASE_URL")
          .secret()
          .build();

  /** Declared once for {@link #fromEnv(Map)} and {@link Builder#pgBin}. */
  public static final Setting<Path> PG_BIN =
      Setting.of("backup_pg_bin", Path::of, "a directory path")
          .variable("BALLAST_BACKUP_PG_BIN")
          .build();

  /** Declared once for {@link #fromEnv(Map)} and {@link Builder#keepLast}. */
  public static final Setting<Integer> KEEP_LAST =
      Setting.integer("backup_keep_last", 1, 10_000)
          .variable("BALLAST_BACKUP_KEEP_LAST")
          .defaultValue(7)
          .build();

  /** Declared once for {@link #fromEnv(Map)} and {@link Builder#keepDays}. */
  public static final Setting<Integer> KEEP_DAYS =
      Setting.integer("backup_keep_days", 0, 36_500)
          .variable("BALLAST_BACKUP_KEEP_DAYS")
          .defaultValue(30)
          .build();

  /** Declared once for {@link #fromEnv(Map)} and {@link Builder#maxAge}. */
  public static final Setting<Integer> MAX_AGE_HOURS =
      Setting.integer("backup_max_age_hours", 1, 24 * 366)
          .variable("BALLAST_BACKUP_MAX_AGE_HOURS")
          .defaultValue(26)
          .build();

  /** Declared once for {@link #fromEnv(Map)} and {@link Builder#schedule}. */
  public static final Setting<String> SCHEDULE =
      Setting.of(
              "backup_schedule",
              BackupSettings::parseCron,
              "a UNIX cron expression of five fields (minute hour day month weekday)")
          .variable("BALLAST_BACKUP_SCHEDULE")
          .defaultValue("0 2 * * *")
          .build();

  /** Declared once for {@link #fromEnv(Map)} and {@link Builder#timeout}. */
  public static final Setting<Duration> TIMEOUT =
      Setting.minutes("backup_timeout", Duration.ofMinutes(1), Duration.ofDays(2))
          .variable("BALLAST_BACKUP_TIMEOUT_MINUTES")
          .defaultValue(Duration.ofHours(4))
          .build();

  /** Declared once for {@link #fromEnv(Map)} and {@link Builder#uploadDirectory}. */
  public static final Setting<Path> UPLOAD_DIR =
      Setting.of("backup_upload_dir", Path::of, "a directory path")
          .variable("BALLAST_BACKUP_UPLOAD_DIR")
          .build();

  /** Declared once for {@link #fromEnv(Map)} and {@link Builder#stanza}. */
  public static final Setting<String> STANZA_NAME =
      Setting.text("pgbackrest_stanza", STANZA, "a stanza name of letters, digits, _ . -")
          .variable("BALLAST_PGBACKREST_STANZA")
          .build();

  /** Declared once for {@link #fromEnv(Map)} and {@link Builder#pgBackRestConfig}. */
  public static final Setting<Path> PGBACKREST_CONFIG =
      Setting.of("pgbackrest_config", Path::of, "a file path")
          .variable("BALLAST_PGBACKREST_CONFIG")
          .build();

  /** Declared once for {@link #fromEnv(Map)} and {@link Builder#commandPrefix}. */
  public static final Setting<String> COMMAND_PREFIX =
      Setting.text(
              "pgbackrest_command_prefix",
              WORDS,
              "words separated by spaces, without quotes or shell characters")
          .variable("BALLAST_PGBACKREST_COMMAND_PREFIX")
          .defaultValue("")
          .build();

  private final SettingValues values;

  private BackupSettings(Builder b) {
    this.values = b.values.copy();
  }

  /** A builder starting from every default. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding these values. */
  public Builder toBuilder() {
    var b = new Builder();
    b.values = values.copy();
    return b;
  }

  /** Every default: backups off until a directory is set. */
  public static BackupSettings defaults() {
    return builder().build();
  }

  /** Settings from the process environment (the variables of the class comment). */
  public static BackupSettings fromEnv() {
    return fromEnv(System::getenv);
  }

  /**
   * Settings from {@code env}; a wrong value fails naming the variable, the value and what is
   * allowed.
   */
  public static BackupSettings fromEnv(Map<String, String> env) {
    return fromEnv(env::get);
  }

  static BackupSettings fromEnv(Function<String, String> env) {
    var b = builder();
    b.values.read(
        env,
        DIRECTORY,
        DATABASE_URL,
        PG_BIN,
        KEEP_LAST,
        KEEP_DAYS,
        MAX_AGE_HOURS,
        SCHEDULE,
        TIMEOUT,
        UPLOAD_DIR,
        STANZA_NAME,
        PGBACKREST_CONFIG,
        COMMAND_PREFIX);
    return b.build();
  }

  private static String parseCron(String value) {
    CRON.parse(value).validate();
    return value.trim();
  }

  /** As set by {@link Builder#directory}; empty when backups are off. */
  public Optional<Path> directory() {
    return Optional.ofNullable(values.get(DIRECTORY));
  }

  /** As set by {@link Builder#databaseUrl}; empty for the pool's {@code DATABASE_URL}. */
  public Optional<String> databaseUrl() {
    return Optional.ofNullable(values.get(DATABASE_URL));
  }

  /** As set by {@link Builder#pgBin}; empty to search. */
  public Optional<Path> pgBin() {
    return Optional.ofNullable(values.get(PG_BIN));
  }

  /** As set by {@link Builder#keepLast}. */
  public int keepLast() {
    return values.get(KEEP_LAST);
  }

  /** As set by {@link Builder#keepDays}. */
  public int keepDays() {
    return values.get(KEEP_DAYS);
  }

  /** As set by {@link Builder#maxAge}. */
  public Duration maxAge() {
    return Duration.ofHours(values.get(MAX_AGE_HOURS));
  }

  /** As set by {@link Builder#schedule}. */
  public String schedule() {
    return values.get(SCHEDULE);
  }

  /** As set by {@link Builder#timeout}. */
  public Duration timeout() {
    return values.get(TIMEOUT);
  }

  /** As set by {@link Builder#uploadDirectory}. */
  public Optional<Path> uploadDirectory() {
    return Optional.ofNullable(values.get(UPLOAD_DIR));
  }

  /** As set by {@link Builder#stanza}; empty when pgBackRest is off. */
  public Optional<String> stanza() {
    return Optional.ofNullable(values.get(STANZA_NAME));
  }

  /** As set by {@link Builder#pgBackRestConfig}. */
  public Optional<Path> pgBackRestConfig() {
    return Optional.ofNullable(values.get(PGBACKREST_CONFIG));
  }

  /** As set by {@link Builder#commandPrefix}, split into words. */
  public List<String> commandPrefix() {
    var prefix = values.get(COMMAND_PREFIX).trim();
    return prefix.isEmpty() ? List.of() : List.of(prefix.split("\\s+", -1));
  }

  @Override
  public String toString() {
    return "BackupSettings[dir "
        + directory().map(Path::toString).orElse("(off)")
        + ", keep last "
        + keepLast()
        + " and "
        + keepDays()
        + " days, schedule '"
        + schedule()
        + "', stanza "
        + stanza().orElse("(none)")
        + "]";
  }

  /** Builds {@link BackupSettings}; each setter checks its value, naming it in the error. */
  public static final class Builder {
    private SettingValues values = new SettingValues();

    private Builder() {}

    /** Where dumps and manifests are written; no default (backups are off without it). */
    public Builder directory(Path directory) {
      values.set(DIRECTORY, directory);
      return this;
    }

    /**
     * The database to dump, a {@code postgresql://} URL; default the pool's {@code DATABASE_URL}.
     */
    public Builder databaseUrl(String url) {
      values.set(DATABASE_URL, url);
      return this;
    }

    /** The directory of {@code pg_dump} and {@code pg_restore}; default: searched. */
    public Builder pgBin(Path directory) {
      values.set(PG_BIN, directory);
      return this;
    }

    /** Backups always kept, newest first: 1 to 10 000, default 7. */
    public Builder keepLast(int count) {
      values.set(KEEP_LAST, count);
      return this;
    }

    /** Backups younger than this many days are always kept: 0 to 36 500, default 30. */
    public Builder keepDays(int days) {
      values.set(KEEP_DAYS, days);
      return this;
    }

    /**
     * The newest verified backup's age past which the check is degraded: 1 h to 366 days, default
     * 26 h.
     */
    public Builder maxAge(Duration age) {
      values.set(MAX_AGE_HOURS, (int) Math.min(Integer.MAX_VALUE, age.toHours()));
      return this;
    }

    /** When the {@code backup} job runs: UNIX cron in UTC, default {@code 0 2 * * *}. */
    public Builder schedule(String cron) {
      values.set(SCHEDULE, cron);
      return this;
    }

    /** A dump or restore running longer is killed: 1 min to 2 days, default 4 h. */
    public Builder timeout(Duration timeout) {
      values.set(TIMEOUT, timeout);
      return this;
    }

    /** A directory every new backup is copied to; default none. */
    public Builder uploadDirectory(Path directory) {
      values.set(UPLOAD_DIR, directory);
      return this;
    }

    /** The pgBackRest stanza; default none (pgBackRest off). */
    public Builder stanza(String stanza) {
      values.set(STANZA_NAME, stanza);
      return this;
    }

    /** The pgBackRest configuration file; default pgBackRest's own. */
    public Builder pgBackRestConfig(Path file) {
      values.set(PGBACKREST_CONFIG, file);
      return this;
    }

    /** Words before every {@code pgbackrest} and {@code pg_ctl} command; default none. */
    public Builder commandPrefix(String words) {
      values.set(COMMAND_PREFIX, words);
      return this;
    }

    /** The settings. */
    public BackupSettings build() {
      return new BackupSettings(this);
    }
  }
}
