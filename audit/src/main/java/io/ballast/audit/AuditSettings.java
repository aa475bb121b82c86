package io.ballast.audit;

import io.ballast.core.AppEnv;
import io.ballast.core.SettingException;
import io.ballast.core.internal.Settings;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Settings of the audit module. Immutable; build with {@link #fromEnv()} or {@link #builder(AppEnv)}.
 *
 * <table>
 *   <caption>Environment</caption>
 *   <tr><th>variable</th><th>meaning</th><th>default</th></tr>
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
  public static final String KEY_VARIABLE = "BALLAST_AUDIT_KEY";
  public static final String SEAL_INTERVAL_VARIABLE = "BALLAST_AUDIT_SEAL_INTERVAL_MS";
  public static final String RETENTION_VARIABLE = "BALLAST_AUDIT_RETENTION_MONTHS";
  public static final String PARTITIONS_AHEAD_VARIABLE = "BALLAST_AUDIT_PARTITIONS_AHEAD";
  public static final String RLS_TABLES_VARIABLE = "BALLAST_RLS_TABLES";
  public static final String RLS_CHECK_VARIABLE = "BALLAST_RLS_CHECK";

  /** What the start-up row-level security check does with a problem. */
  public enum RlsCheck {
    /** Fail the start. */
    ENFORCE,
    /** Log a warning naming the problem and its fix. */
    WARN
  }

  private static final int MIN_KEY_LENGTH = 32;
  private static final Pattern TABLE = Pattern.compile("([A-Za-z_][A-Za-z0-9_$]*\\.)?[A-Za-z_][A-Za-z0-9_$]*");

  private final AppEnv appEnv;
  private final String key;
  private final Duration sealInterval;
  private final int retentionMonths;
  private final int partitionsAhead;
  private final Set<String> protectedTables;
  private final RlsCheck rlsCheck;

  private AuditSettings(Builder b) {
    this.appEnv = b.appEnv;
    this.key = b.key;
    this.sealInterval = b.sealInterval;
    this.retentionMonths = b.retentionMonths;
    this.partitionsAhead = b.partitionsAhead;
    this.protectedTables = Set.copyOf(b.protectedTables);
    this.rlsCheck = b.rlsCheck != null ? b.rlsCheck : b.appEnv == AppEnv.PRODUCTION ? RlsCheck.ENFORCE : RlsCheck.WARN;
  }

  public static AuditSettings defaults(AppEnv env) {
    return builder(env).build();
  }

  public static Builder builder(AppEnv env) {
    return new Builder(env);
  }

  public static AuditSettings fromEnv() {
    return fromEnv(System::getenv);
  }

  public static AuditSettings fromEnv(Map<String, String> env) {
    return fromEnv(env::get);
  }

  static AuditSettings fromEnv(Function<String, String> env) {
    var b = builder(AppEnv.fromEnv(env));
    var v = Settings.get(env, KEY_VARIABLE);
    if (v != null) {
      b.key(v, KEY_VARIABLE);
    }
    v = Settings.get(env, SEAL_INTERVAL_VARIABLE);
    if (v != null) {
      b.sealInterval = Duration.ofMillis(Settings.parseInt("audit_seal_interval", v, 10, 3_600_000,
          SEAL_INTERVAL_VARIABLE));
    }
    v = Settings.get(env, RETENTION_VARIABLE);
    if (v != null) {
      b.retentionMonths = Settings.parseInt("audit_retention_months", v, 0, 1200, RETENTION_VARIABLE);
    }
    v = Settings.get(env, PARTITIONS_AHEAD_VARIABLE);
    if (v != null) {
      b.partitionsAhead = Settings.parseInt("audit_partitions_ahead", v, 1, 36, PARTITIONS_AHEAD_VARIABLE);
    }
    v = Settings.get(env, RLS_TABLES_VARIABLE);
    if (v != null) {
      b.protectedTables(RLS_TABLES_VARIABLE, Arrays.stream(v.split(",")).map(String::trim)
          .filter(s -> !s.isEmpty()).toArray(String[]::new));
    }
    v = Settings.get(env, RLS_CHECK_VARIABLE);
    if (v != null) {
      b.rlsCheck = parseCheck(v, RLS_CHECK_VARIABLE);
    }
    return b.build();
  }

  private static RlsCheck parseCheck(String raw, String source) {
    for (var c : RlsCheck.values()) {
      if (c.name().equalsIgnoreCase(raw.trim())) {
        return c;
      }
    }
    throw new SettingException("rls_check", "be enforce or warn", raw, source);
  }

  public AppEnv appEnv() {
    return appEnv;
  }

  /** The chain key, or {@code null} for an unkeyed chain. A secret: never log it. */
  String key() {
    return key;
  }

  /** Whether the hash chain is keyed. */
  public boolean keyed() {
    return key != null;
  }

  public Duration sealInterval() {
    return sealInterval;
  }

  /** Whole months kept besides the current one; 0 keeps everything. */
  public int retentionMonths() {
    return retentionMonths;
  }

  public int partitionsAhead() {
    return partitionsAhead;
  }

  public Set<String> protectedTables() {
    return protectedTables;
  }

  public RlsCheck rlsCheck() {
    return rlsCheck;
  }

  @Override
  public String toString() {
    return "AuditSettings[" + appEnv.id() + ", chain " + (key == null ? "unkeyed" : "keyed (****)") + ", seal every "
        + Settings.human(sealInterval) + ", retention " + (retentionMonths == 0 ? "forever" : retentionMonths + " months")
        + ", partitions ahead " + partitionsAhead + ", rls check " + rlsCheck.name().toLowerCase(java.util.Locale.ROOT)
        + (protectedTables.isEmpty() ? "" : ", protected tables " + protectedTables) + "]";
  }

  /** Builds {@link AuditSettings}; each setter checks its value. */
  public static final class Builder {
    private final AppEnv appEnv;
    private String key;
    private Duration sealInterval = Duration.ofSeconds(1);
    private int retentionMonths;
    private int partitionsAhead = 2;
    private final Set<String> protectedTables = new LinkedHashSet<>();
    private RlsCheck rlsCheck;

    private Builder(AppEnv appEnv) {
      if (appEnv == null) {
        throw new SettingException(AppEnv.VARIABLE, "be set", null, Settings.BUILDER);
      }
      this.appEnv = appEnv;
    }

    /** The chain key: 32+ characters, the same on every instance. */
    public Builder key(String key) {
      return key(key, Settings.BUILDER);
    }

    private Builder key(String key, String source) {
      if (key != null && key.length() < MIN_KEY_LENGTH) {
        throw new SettingException("audit_key", "be at least " + MIN_KEY_LENGTH + " characters long",
            "a value of " + key.length() + " characters", source);
      }
      this.key = key;
      return this;
    }

    public Builder sealInterval(Duration interval) {
      this.sealInterval = Settings.requireBetween("audit_seal_interval", interval, Duration.ofMillis(10),
          Duration.ofHours(1), Settings.BUILDER);
      return this;
    }

    /** Whole months kept besides the current one; 0 keeps everything. */
    public Builder retentionMonths(int months) {
      this.retentionMonths = Settings.requireBetween("audit_retention_months", months, 0, 1200, Settings.BUILDER);
      return this;
    }

    public Builder partitionsAhead(int months) {
      this.partitionsAhead = Settings.requireBetween("audit_partitions_ahead", months, 1, 36, Settings.BUILDER);
      return this;
    }

    /** Tables that must be under row-level security, optionally schema-qualified. */
    public Builder protectedTables(String... tables) {
      return protectedTables(Settings.BUILDER, tables);
    }

    private Builder protectedTables(String source, String... tables) {
      for (var t : tables) {
        if (t == null || !TABLE.matcher(t).matches()) {
          throw new SettingException("rls_tables", "list tables as name or schema.name", t, source);
        }
        protectedTables.add(t);
      }
      return this;
    }

    public Builder rlsCheck(RlsCheck check) {
      if (check == null) {
        throw new SettingException("rls_check", "be enforce or warn", null, Settings.BUILDER);
      }
      this.rlsCheck = check;
      return this;
    }

    public AuditSettings build() {
      return new AuditSettings(this);
    }
  }
}
