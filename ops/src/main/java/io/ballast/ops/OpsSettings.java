package io.ballast.ops;

import io.ballast.core.settings.Setting;
import io.ballast.core.settings.SettingValues;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Settings of maintenance, retention and the job runner. Immutable; build with {@link #defaults()},
 * {@link #builder()}, {@link #fromEnv()}, {@link #fromEnv(Map)}, or {@link #toBuilder()} / {@link
 * #from(OpsSettings)}.
 *
 * <table>
 *   <caption>Environment</caption>
 *   <tr><th>variable</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code BALLAST_VACUUM_DEAD_PERCENT}</td><td>dead rows, in % of all rows, from which a table is
 *       vacuumed</td><td>10</td></tr>
 *   <tr><td>{@code BALLAST_VACUUM_MIN_DEAD_ROWS}</td><td>dead rows below which a table is never vacuumed</td>
 *       <td>1000</td></tr>
 *   <tr><td>{@code BALLAST_ANALYZE_CHANGED_PERCENT}</td><td>rows changed since the last analyze, in % of the live
 *       rows, from which a table is analyzed</td><td>10</td></tr>
 *   <tr><td>{@code BALLAST_REINDEX_BLOAT_PERCENT}</td><td>estimated bloat from which an index is rebuilt</td>
 *       <td>40</td></tr>
 *   <tr><td>{@code BALLAST_REINDEX_MIN_SIZE_MB}</td><td>indexes smaller than this are never rebuilt for bloat
 *       (invalid ones always are)</td><td>8</td></tr>
 *   <tr><td>{@code BALLAST_MAINTENANCE_LOCK_TIMEOUT_MS}</td><td>how long a maintenance statement waits for a lock
 *       before it gives up on that object</td><td>5000</td></tr>
 *   <tr><td>{@code BALLAST_RETENTION}</td><td>retention policies,
 *       {@code table.column:days[:archive[:purge_days[:key_column]]]} separated by {@code ;}</td><td>none</td></tr>
 *   <tr><td>{@code BALLAST_RETENTION_BATCH_SIZE}</td><td>rows moved or deleted per transaction</td><td>1000</td></tr>
 *   <tr><td>{@code BALLAST_RETENTION_BATCH_PAUSE_MS}</td><td>pause between batches</td><td>50</td></tr>
 *   <tr><td>{@code BALLAST_RETENTION_STATEMENT_TIMEOUT_MS}</td><td>time limit of one batch</td><td>30000</td></tr>
 *   <tr><td>{@code BALLAST_JOBS_ENABLED}</td><td>whether this instance runs scheduled jobs</td><td>true</td></tr>
 *   <tr><td>{@code BALLAST_JOBS_TICK_SECONDS}</td><td>how often the runner looks for due jobs</td><td>30</td></tr>
 *   <tr><td>{@code BALLAST_JOBS_TABLE}</td><td>the job history table</td><td>{@code ballast_job_runs}</td></tr>
 * </table>
 */
public final class OpsSettings {
  private static final Pattern TABLE =
      Pattern.compile("[a-z_][a-z0-9_]{0,62}(\\.[a-z_][a-z0-9_]{0,62})?");

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#vacuumDeadPercent}, which gives its
   * unit, range and default.
   */
  public static final Setting<Integer> VACUUM_DEAD_PERCENT =
      Setting.integer("vacuum_dead_percent", 0, 100)
          .variable("BALLAST_VACUUM_DEAD_PERCENT")
          .defaultValue(10)
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#vacuumMinDeadRows}, which gives its
   * unit, range and default.
   */
  public static final Setting<Integer> VACUUM_MIN_DEAD_ROWS =
      Setting.integer("vacuum_min_dead_rows", 0, 1_000_000_000)
          .variable("BALLAST_VACUUM_MIN_DEAD_ROWS")
          .defaultValue(1000)
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#analyzeChangedPercent}, which gives
   * its unit, range and default.
   */
  public static final Setting<Integer> ANALYZE_CHANGED_PERCENT =
      Setting.integer("analyze_changed_percent", 0, 1000)
          .variable("BALLAST_ANALYZE_CHANGED_PERCENT")
          .defaultValue(10)
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#reindexBloatPercent}, which gives
   * its unit, range and default.
   */
  public static final Setting<Integer> REINDEX_BLOAT_PERCENT =
      Setting.integer("reindex_bloat_percent", 1, 100)
          .variable("BALLAST_REINDEX_BLOAT_PERCENT")
          .defaultValue(40)
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#reindexMinSizeMb}, which gives its
   * unit, range and default.
   */
  public static final Setting<Integer> REINDEX_MIN_SIZE_MB =
      Setting.integer("reindex_min_size_mb", 0, 1_000_000)
          .variable("BALLAST_REINDEX_MIN_SIZE_MB")
          .defaultValue(8)
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#lockTimeout}, which gives its unit,
   * range and default.
   */
  public static final Setting<Duration> LOCK_TIMEOUT =
      Setting.millis("maintenance_lock_timeout", Duration.ofMillis(1), Duration.ofMinutes(10))
          .variable("BALLAST_MAINTENANCE_LOCK_TIMEOUT_MS")
          .defaultValue(Duration.ofSeconds(5))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#retention}, which gives its form.
   */
  public static final Setting<List<RetentionPolicy>> RETENTION =
      Setting.<List<RetentionPolicy>>of(
              "retention",
              RetentionPolicy::parseAll,
              "table.column:days[:archive_table[:purge_days[:key_column]]] entries separated by ;,"
                  + " the purge age longer than the archive age")
          .show(
              list ->
                  list.stream()
                      .map(p -> p.table() + "." + p.timestampColumn())
                      .collect(Collectors.joining(";")))
          .variable("BALLAST_RETENTION")
          .defaultValue(List.of())
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#batchSize}, which gives its unit,
   * range and default.
   */
  public static final Setting<Integer> BATCH_SIZE =
      Setting.integer("retention_batch_size", 1, 100_000)
          .variable("BALLAST_RETENTION_BATCH_SIZE")
          .defaultValue(1000)
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#batchPause}, which gives its unit,
   * range and default.
   */
  public static final Setting<Duration> BATCH_PAUSE =
      Setting.millis("retention_batch_pause", Duration.ZERO, Duration.ofMinutes(1))
          .variable("BALLAST_RETENTION_BATCH_PAUSE_MS")
          .defaultValue(Duration.ofMillis(50))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#batchTimeout}, which gives its unit,
   * range and default.
   */
  public static final Setting<Duration> BATCH_TIMEOUT =
      Setting.millis("retention_statement_timeout", Duration.ofMillis(100), Duration.ofMinutes(10))
          .variable("BALLAST_RETENTION_STATEMENT_TIMEOUT_MS")
          .defaultValue(Duration.ofSeconds(30))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#jobsEnabled}, which gives its
   * default.
   */
  public static final Setting<Boolean> JOBS_ENABLED =
      Setting.bool("jobs_enabled").variable("BALLAST_JOBS_ENABLED").defaultValue(true).build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#jobsTick}, which gives its unit,
   * range and default.
   */
  public static final Setting<Duration> JOBS_TICK =
      Setting.seconds("jobs_tick", Duration.ofSeconds(1), Duration.ofHours(1))
          .variable("BALLAST_JOBS_TICK_SECONDS")
          .defaultValue(Duration.ofSeconds(30))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#jobsTable}, which gives its form and
   * default.
   */
  public static final Setting<String> JOBS_TABLE =
      Setting.text("jobs_table", TABLE, "a lower-case table name, optionally schema-qualified")
          .variable("BALLAST_JOBS_TABLE")
          .defaultValue("ballast_job_runs")
          .build();

  private final SettingValues values;

  private OpsSettings(Builder b) {
    this.values = b.values.copy();
  }

  /** Every default. */
  public static OpsSettings defaults() {
    return builder().build();
  }

  /** A builder starting from every default. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding {@code base}'s values. */
  public static Builder from(OpsSettings base) {
    return base.toBuilder();
  }

  /** A builder holding these values. */
  public Builder toBuilder() {
    var b = new Builder();
    b.values = values.copy();
    return b;
  }

  /** Settings from the process environment (the variables of the class comment). */
  public static OpsSettings fromEnv() {
    return fromEnv(System::getenv);
  }

  /**
   * Settings from {@code env} (the variables of the class comment); a wrong value fails naming the
   * variable, the value and what is allowed.
   */
  public static OpsSettings fromEnv(Map<String, String> env) {
    return fromEnv(env::get);
  }

  static OpsSettings fromEnv(Function<String, String> env) {
    var b = builder();
    b.values.read(
        env,
        VACUUM_DEAD_PERCENT,
        VACUUM_MIN_DEAD_ROWS,
        ANALYZE_CHANGED_PERCENT,
        REINDEX_BLOAT_PERCENT,
        REINDEX_MIN_SIZE_MB,
        LOCK_TIMEOUT,
        RETENTION,
        BATCH_SIZE,
        BATCH_PAUSE,
        BATCH_TIMEOUT,
        JOBS_ENABLED,
        JOBS_TICK,
        JOBS_TABLE);
    return b.build();
  }

  /** As set by {@link Builder#vacuumDeadPercent}. */
  public int vacuumDeadPercent() {
    return values.get(VACUUM_DEAD_PERCENT);
  }

  /** As set by {@link Builder#vacuumMinDeadRows}. */
  public int vacuumMinDeadRows() {
    return values.get(VACUUM_MIN_DEAD_ROWS);
  }

  /** As set by {@link Builder#analyzeChangedPercent}. */
  public int analyzeChangedPercent() {
    return values.get(ANALYZE_CHANGED_PERCENT);
  }

  /** As set by {@link Builder#reindexBloatPercent}. */
  public int reindexBloatPercent() {
    return values.get(REINDEX_BLOAT_PERCENT);
  }

  /** As set by {@link Builder#reindexMinSizeMb}. */
  public int reindexMinSizeMb() {
    return values.get(REINDEX_MIN_SIZE_MB);
  }

  /** As set by {@link Builder#lockTimeout}. */
  public Duration lockTimeout() {
    return values.get(LOCK_TIMEOUT);
  }

  /** As set by {@link Builder#retention}. */
  public List<RetentionPolicy> retention() {
    return values.get(RETENTION);
  }

  /** As set by {@link Builder#batchSize}. */
  public int batchSize() {
    return values.get(BATCH_SIZE);
  }

  /** As set by {@link Builder#batchPause}. */
  public Duration batchPause() {
    return values.get(BATCH_PAUSE);
  }

  /** As set by {@link Builder#batchTimeout}. */
  public Duration batchTimeout() {
    return values.get(BATCH_TIMEOUT);
  }

  /** As set by {@link Builder#jobsEnabled}. */
  public boolean jobsEnabled() {
    return values.get(JOBS_ENABLED);
  }

  /** As set by {@link Builder#jobsTick}. */
  public Duration jobsTick() {
    return values.get(JOBS_TICK);
  }

  /** As set by {@link Builder#jobsTable}. */
  public String jobsTable() {
    return values.get(JOBS_TABLE);
  }

  @Override
  public String toString() {
    return "OpsSettings[vacuum at "
        + vacuumDeadPercent()
        + "% dead, reindex at "
        + reindexBloatPercent()
        + "% bloat, "
        + retention().size()
        + " retention policies, batches of "
        + batchSize()
        + ", jobs "
        + (jobsEnabled() ? "every " + jobsTick() : "off")
        + "]";
  }

  /** Builds {@link OpsSettings}; each setter checks its value, naming it in the error. */
  public static final class Builder {
    private SettingValues values = new SettingValues();

    private Builder() {}

    /** Dead rows, in % of all rows, from which a table is vacuumed: 0 to 100, default 10. */
    public Builder vacuumDeadPercent(int percent) {
      values.set(VACUUM_DEAD_PERCENT, percent);
      return this;
    }

    /** Dead rows below which a table is never vacuumed: 0 to 10⁹, default 1 000. */
    public Builder vacuumMinDeadRows(int rows) {
      values.set(VACUUM_MIN_DEAD_ROWS, rows);
      return this;
    }

    /**
     * Rows changed since the last analyze, in % of the live rows, from which a table is analyzed: 0
     * to 1 000, default 10.
     */
    public Builder analyzeChangedPercent(int percent) {
      values.set(ANALYZE_CHANGED_PERCENT, percent);
      return this;
    }

    /** Estimated bloat, in %, from which an index is rebuilt: 1 to 100, default 40. */
    public Builder reindexBloatPercent(int percent) {
      values.set(REINDEX_BLOAT_PERCENT, percent);
      return this;
    }

    /** Indexes smaller than this are not rebuilt for bloat: 0 to 10⁶ MB, default 8 MB. */
    public Builder reindexMinSizeMb(int megabytes) {
      values.set(REINDEX_MIN_SIZE_MB, megabytes);
      return this;
    }

    /** How long a maintenance statement waits for a lock: 1 ms to 10 min, default 5 s. */
    public Builder lockTimeout(Duration timeout) {
      values.set(LOCK_TIMEOUT, timeout);
      return this;
    }

    /** The retention policies that {@code archive} and {@code purge} apply; default none. */
    public Builder retention(RetentionPolicy... policies) {
      values.set(RETENTION, List.of(policies));
      return this;
    }

    /** Rows moved or deleted per transaction: 1 to 100 000, default 1 000. */
    public Builder batchSize(int rows) {
      values.set(BATCH_SIZE, rows);
      return this;
    }

    /** Pause between two batches: 0 to 1 min, default 50 ms. */
    public Builder batchPause(Duration pause) {
      values.set(BATCH_PAUSE, pause);
      return this;
    }

    /** Time limit of one batch's statements: 100 ms to 10 min, default 30 s. */
    public Builder batchTimeout(Duration timeout) {
      values.set(BATCH_TIMEOUT, timeout);
      return this;
    }

    /** Whether this instance runs scheduled jobs; default true. */
    public Builder jobsEnabled(boolean enabled) {
      values.set(JOBS_ENABLED, enabled);
      return this;
    }

    /** How often the runner looks for due jobs: 1 s to 1 h, default 30 s. */
    public Builder jobsTick(Duration tick) {
      values.set(JOBS_TICK, tick);
      return this;
    }

    /**
     * The job history table, lower-case, optionally schema-qualified; default {@code
     * ballast_job_runs}.
     */
    public Builder jobsTable(String table) {
      values.set(JOBS_TABLE, table);
      return this;
    }

    /** The settings. */
    public OpsSettings build() {
      return new OpsSettings(this);
    }
  }
}
