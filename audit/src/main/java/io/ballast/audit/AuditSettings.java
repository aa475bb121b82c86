package io.ballast.audit;

import io.ballast.core.settings.AppEnv;
import io.ballast.core.settings.Setting;
import io.ballast.core.settings.SettingException;
import io.ballast.core.settings.SettingValues;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Settings of the audit module. Immutable; build with {@link #fromEnv()}, {@link #fromEnv(Map)},
 * {@link #defaults(AppEnv)}, {@link #builder(AppEnv)}, or {@link #toBuilder()} / {@link
 * #from(AuditSettings)}.
 *
 * <table>
 *   <caption>Environment</caption>
 *   <tr><th>variable</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code BALLAST_AUDIT_PREVIOUS_KEYS}</td><td>keys the chain was sealed with before, separated by
 *       spaces: verified with, and rotated from</td><td>none</td></tr>
 *   <tr><td>{@code BALLAST_AUDIT_KEY}</td><td>32+ characters keying the audit hash chain (HMAC-SHA256), the same
 *       on every instance; never logged</td><td>unset: an unkeyed SHA-256 chain (warned about in production)</td></tr>
 *   <tr><td>{@code BALLAST_AUDIT_SEAL_INTERVAL_MS}</td><td>how often new audit rows are sealed into the chain,
 *       10–3 600 000</td><td>1000</td></tr>
 *   <tr><td>{@code BALLAST_AUDIT_RETENTION_MONTHS}</td><td>whole months of audit data kept besides the current
 *       one; 0 keeps everything</td><td>0</td></tr>
 *   <tr><td>{@code BALLAST_AUDIT_PARTITIONS_AHEAD}</td><td>monthly partitions created ahead, 1–36</td><td>2</td></tr>
 *   <tr><td>{@code BALLAST_RLS_TABLES}</td><td>comma-separated tables that must be under row-level security
 *       (checked at start)</td><td>none</td></tr>
 *   <tr><td>{@code BALLAST_RLS_CHECK}</td><td>{@code enforce}: a role that bypasses row-level security fails
 *       the start; {@code warn}: it is logged</td><td>{@code enforce} in production, else {@code warn}</td></tr>
 * </table>
 */
public final class AuditSettings {
  /** What the start-up row-level security check does with a problem. */
  public enum RlsCheck {
    /** Fail the start. */
    ENFORCE,
    /** Log a warning naming the problem and its fix. */
    WARN
  }

  private static final Pattern TABLE =
      Pattern.compile("([A-Za-z_][A-Za-z0-9_$]*\\.)?[A-Za-z_][A-Za-z0-9_$]*");

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#key}, which gives its unit, range
   * and default.
   */
  public static final Setting<String> KEY =
      Setting.text(
              "audit_key", Pattern.compile(".{32,}", Pattern.DOTALL), "at least 32 characters long")
          .variable("BALLAST_AUDIT_KEY")
          .secret()
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#previousKeys}, which gives its form.
   */
  public static final Setting<List<String>> PREVIOUS_KEYS =
      Setting.<List<String>>of(
              "audit_previous_keys",
              AuditSettings::parseKeys,
              "keys of at least 32 characters each, separated by spaces")
          .variable("BALLAST_AUDIT_PREVIOUS_KEYS")
          .check(
              list ->
                  list.stream().anyMatch(k -> k == null || k.length() < 32)
                      ? "be keys of at least 32 characters each"
                      : null)
          .secret()
          .defaultValue(List.of())
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#adminRole}, which gives its form and
   * default.
   */
  public static final Setting<String> ADMIN_ROLE =
      Setting.text(
              "audit_admin_role",
              Pattern.compile("[^\\p{Cntrl}]{1,256}"),
              "1 to 256 characters without control characters")
          .variable("BALLAST_AUDIT_ADMIN_ROLE")
          .defaultValue("admin")
          .build();

  private static List<String> parseKeys(String raw) {
    var keys = List.of(raw.trim().split("\\s+", -1));
    for (var k : keys) {
      if (k.length() < 32) {
        throw new IllegalArgumentException("a key is shorter than 32 characters");
      }
    }
    return keys;
  }

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#sealInterval}, which gives its unit,
   * range and default.
   */
  public static final Setting<Duration> SEAL_INTERVAL =
      Setting.millis("audit_seal_interval", Duration.ofMillis(10), Duration.ofHours(1))
          .variable("BALLAST_AUDIT_SEAL_INTERVAL_MS")
          .defaultValue(Duration.ofSeconds(1))
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#retentionMonths}, which gives its
   * unit, range and default.
   */
  public static final Setting<Integer> RETENTION_MONTHS =
      Setting.integer("audit_retention_months", 0, 1200)
          .variable("BALLAST_AUDIT_RETENTION_MONTHS")
          .defaultValue(0)
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#partitionsAhead}, which gives its
   * unit, range and default.
   */
  public static final Setting<Integer> PARTITIONS_AHEAD =
      Setting.integer("audit_partitions_ahead", 1, 36)
          .variable("BALLAST_AUDIT_PARTITIONS_AHEAD")
          .defaultValue(2)
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#protectedTables}, which gives its
   * unit, range and default.
   */
  public static final Setting<Set<String>> RLS_TABLES =
      Setting.<Set<String>>of(
              "rls_tables",
              AuditSettings::parseTables,
              "tables listed as name or schema.name, comma-separated")
          .check(
              tables ->
                  tables.stream().allMatch(t -> t != null && TABLE.matcher(t).matches())
                      ? null
                      : "list tables as name or schema.name")
          .show(tables -> String.join(",", tables))
          .variable("BALLAST_RLS_TABLES")
          .defaultValue(Set.of())
          .build();

  /**
   * Declared once for {@link #fromEnv(Map)} and {@link Builder#rlsCheck}, which gives its unit,
   * range and default.
   */
  public static final Setting<RlsCheck> RLS_CHECK =
      Setting.oneOf("rls_check", RlsCheck.class).variable("BALLAST_RLS_CHECK").build();

  /** The variable of {@link #KEY}, as messages name it. */
  public static final String KEY_VARIABLE = KEY.variable();

  /** The variable of {@link #RLS_CHECK}, as messages name it. */
  public static final String RLS_CHECK_VARIABLE = RLS_CHECK.variable();

  private final AppEnv appEnv;
  private final SettingValues values;

  private AuditSettings(Builder b) {
    this.appEnv = b.appEnv;
    this.values = b.values.copy();
  }

  /** Every default for {@code env}. */
  public static AuditSettings defaults(AppEnv env) {
    return builder(env).build();
  }

  /** A builder starting from the defaults for {@code env}. */
  public static Builder builder(AppEnv env) {
    return new Builder(env);
  }

  /** A builder holding {@code base}'s values. */
  public static Builder from(AuditSettings base) {
    return base.toBuilder();
  }

  /** A builder holding these values. */
  public Builder toBuilder() {
    var b = new Builder(appEnv);
    b.values = values.copy();
    return b;
  }

  /** Settings from the process environment (the variables of the class comment). */
  public static AuditSettings fromEnv() {
    return fromEnv(System::getenv);
  }

  /**
   * Settings from {@code env} (the variables of the class comment); a wrong value fails naming the
   * variable, the value and what is allowed.
   */
  public static AuditSettings fromEnv(Map<String, String> env) {
    return fromEnv(env::get);
  }

  static AuditSettings fromEnv(Function<String, String> env) {
    var b = builder(AppEnv.fromEnv(env));
    b.values.read(
        env,
        KEY,
        PREVIOUS_KEYS,
        ADMIN_ROLE,
        SEAL_INTERVAL,
        RETENTION_MONTHS,
        PARTITIONS_AHEAD,
        RLS_TABLES,
        RLS_CHECK);
    return b.build();
  }

  private static Set<String> parseTables(String raw) {
    var tables = new LinkedHashSet<String>();
    Arrays.stream(raw.split(",", -1))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .forEach(tables::add);
    return tables;
  }

  /** The environment the defaults were chosen for. */
  public AppEnv appEnv() {
    return appEnv;
  }

  /** The chain key, or {@code null} for an unkeyed chain. A secret: never log it. */
  String key() {
    return values.get(KEY);
  }

  /** Keys the chain was sealed with before the current one, for verification. Secrets. */
  List<String> previousKeys() {
    return values.get(PREVIOUS_KEYS);
  }

  /**
   * The acting role that reads every tenant's trail, as set by {@link Builder#adminRole}; other
   * acting contexts read their own tenant's.
   */
  public String adminRole() {
    return values.get(ADMIN_ROLE);
  }

  /** Whether the hash chain is keyed. */
  public boolean keyed() {
    return key() != null;
  }

  /** As set by {@link Builder#sealInterval}. */
  public Duration sealInterval() {
    return values.get(SEAL_INTERVAL);
  }

  /** Whole months kept besides the current one; 0 keeps everything. */
  public int retentionMonths() {
    return values.get(RETENTION_MONTHS);
  }

  /** As set by {@link Builder#partitionsAhead}. */
  public int partitionsAhead() {
    return values.get(PARTITIONS_AHEAD);
  }

  /** Tables that must have row-level security, as set by {@link Builder#protectedTables}. */
  public Set<String> protectedTables() {
    return Set.copyOf(values.get(RLS_TABLES));
  }

  /** As set by {@link Builder#rlsCheck}. */
  public RlsCheck rlsCheck() {
    return values.get(RLS_CHECK);
  }

  @Override
  public String toString() {
    var tables = protectedTables();
    return "AuditSettings["
        + appEnv.id()
        + ", chain "
        + (keyed() ? "keyed (****)" : "unkeyed")
        + ", seal every "
        + SEAL_INTERVAL.show(sealInterval())
        + ", retention "
        + (retentionMonths() == 0 ? "forever" : retentionMonths() + " months")
        + ", partitions ahead "
        + partitionsAhead()
        + ", trail admin role "
        + adminRole()
        + ", rls check "
        + RLS_CHECK.show(rlsCheck())
        + (tables.isEmpty() ? "" : ", protected tables " + values.get(RLS_TABLES))
        + "]";
  }

  /** Builds {@link AuditSettings}; each setter checks its value. */
  public static final class Builder {
    private final AppEnv appEnv;
    private SettingValues values = new SettingValues();

    private Builder(AppEnv appEnv) {
      if (appEnv == null) {
        throw new SettingException(AppEnv.VARIABLE, "be set", null, SettingValues.BUILDER);
      }
      this.appEnv = appEnv;
      values.setDefault(
          RLS_CHECK,
          appEnv == AppEnv.PRODUCTION ? RlsCheck.ENFORCE : RlsCheck.WARN,
          "default for " + appEnv.id());
    }

    /**
     * The chain key: 32+ characters, the same on every instance; {@code null} for an unkeyed chain.
     */
    public Builder key(String key) {
      if (key == null) {
        values.setUnchecked(KEY, null, SettingValues.BUILDER);
      } else {
        values.set(KEY, key);
      }
      return this;
    }

    /**
     * Keys the chain was sealed with before {@link #key}: the chain's entries sealed with them are
     * verified with them, and the next sealing marks where the current key takes over (key
     * rotation). Default none.
     */
    public Builder previousKeys(String... keys) {
      values.set(PREVIOUS_KEYS, List.of(keys));
      return this;
    }

    /**
     * The acting role ({@link ActingContext#role()}) that reads every tenant's audit trail; a
     * context with another role reads only its tenant's entries. Default {@code admin}, like {@link
     * RowSecurity}'s.
     */
    public Builder adminRole(String role) {
      values.set(ADMIN_ROLE, role);
      return this;
    }

    /** How often new audit rows are sealed: 10 ms to 1 h, default 1 s. */
    public Builder sealInterval(Duration interval) {
      values.set(SEAL_INTERVAL, interval);
      return this;
    }

    /** Whole months kept besides the current one: 0 (keep everything, the default) to 1 200. */
    public Builder retentionMonths(int months) {
      values.set(RETENTION_MONTHS, months);
      return this;
    }

    /** Monthly partitions created ahead: 1 to 36, default 2. */
    public Builder partitionsAhead(int months) {
      values.set(PARTITIONS_AHEAD, months);
      return this;
    }

    /**
     * Tables that must be under row-level security, optionally schema-qualified; added to those
     * given before.
     */
    public Builder protectedTables(String... tables) {
      var all = new LinkedHashSet<>(values.get(RLS_TABLES));
      all.addAll(Arrays.asList(tables));
      values.set(RLS_TABLES, all);
      return this;
    }

    /** Enforce or warn; enforce in production, warn elsewhere. */
    public Builder rlsCheck(RlsCheck check) {
      values.set(RLS_CHECK, check);
      return this;
    }

    /** The settings; fails with a message naming the settings when they do not fit together. */
    public AuditSettings build() {
      return new AuditSettings(this);
    }
  }
}
