package io.ballast.pool;

import io.ballast.core.settings.AppEnv;
import io.ballast.core.settings.Checks;
import io.ballast.core.settings.Setting;
import io.ballast.core.settings.SettingException;
import io.ballast.core.settings.SettingValues;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.postgresql.PGProperty;

/**
 * Settings of a HikariCP pool on PostgreSQL. Immutable; build with {@link #fromEnv()} or {@link
 * #builder()}. Every value is checked when it is set and the error names the setting, the rule, the
 * value and its source, e.g. {@code connection_limit must be between 1 and 1000, but was -5 (from
 * DATABASE_URL)}. The password never appears in {@link #toString()} or in an error.
 *
 * <h2>Sources, later ones winning</h2>
 *
 * <ol>
 *   <li>the {@code APP_ENV} profile: development 10 connections and 10 s pool timeout, staging 15 /
 *       20 s, production 20 / 30 s; connect timeout 5 s everywhere;
 *   <li>{@code DATABASE_URL}: {@code
 *       postgresql://user:pass@host:5432/db?schema=public&connection_limit=10
 *       &pool_timeout=10&connect_timeout=5&pgbouncer=true}, any other pgjdbc connection property
 *       ({@code sslmode=require}, {@code ApplicationName=…}) passed to the driver;
 *   <li>{@code DB_CONNECTION_LIMIT}, {@code DB_POOL_TIMEOUT}, {@code DB_CONNECT_TIMEOUT} (seconds),
 *       {@code DB_INSTANCES}, {@code DB_PGBOUNCER}.
 * </ol>
 */
public final class PoolSettings {
  /** The variable holding the database URL. */
  public static final String DATABASE_URL = "DATABASE_URL";

  /**
   * The variable holding a URL that reaches the same database without PgBouncer, for work that
   * needs a session of its own (migrations).
   */
  public static final String DATABASE_DIRECT_URL = "DATABASE_DIRECT_URL";

  static final int MAX_CONNECTION_LIMIT_VALUE = 1000;

  /** The pool's maximum (and fixed) size; {@code connection_limit} in {@code DATABASE_URL}. */
  public static final Setting<Integer> CONNECTION_LIMIT =
      Setting.integer("connection_limit", 1, MAX_CONNECTION_LIMIT_VALUE)
          .variable("DB_CONNECTION_LIMIT")
          .build();

  /**
   * How long a caller waits for a free connection; {@code pool_timeout} (seconds) in {@code
   * DATABASE_URL}.
   */
  public static final Setting<Duration> POOL_TIMEOUT =
      Setting.seconds("pool_timeout", Duration.ofMillis(250), Duration.ofHours(1))
          .variable("DB_POOL_TIMEOUT_SECONDS")
          .deprecated("DB_POOL_TIMEOUT")
          .build();

  /**
   * How long the driver waits to open a connection; {@code connect_timeout} (seconds) in {@code
   * DATABASE_URL}.
   */
  public static final Setting<Duration> CONNECT_TIMEOUT =
      Setting.seconds("connect_timeout", Duration.ofSeconds(1), Duration.ofMinutes(5))
          .check(d -> d.toNanosPart() != 0 ? "be whole seconds" : null)
          .variable("DB_CONNECT_TIMEOUT_SECONDS")
          .deprecated("DB_CONNECT_TIMEOUT")
          .defaultValue(Duration.ofSeconds(5))
          .build();

  /** PgBouncer in transaction mode; {@code pgbouncer} in {@code DATABASE_URL}. */
  public static final Setting<Boolean> PGBOUNCER =
      Setting.bool("pgbouncer").variable("DB_PGBOUNCER").defaultValue(false).build();

  /** Instances sharing the server, for the {@code max_connections} check. */
  public static final Setting<Integer> INSTANCES =
      Setting.integer("instances", 1, 1000).variable("DB_INSTANCES").defaultValue(1).build();

  /**
   * Adaptive sizing: the pool grows under sustained acquisition pressure and shrinks back after a
   * quiet period. Off by default.
   */
  public static final Setting<Boolean> ADAPTIVE =
      Setting.bool("adaptive").variable("DB_POOL_ADAPTIVE").defaultValue(false).build();

  /** Adaptive sizing: a borrower waiting longer than this makes the pool grow. */
  public static final Setting<Duration> GROW_AFTER =
      Setting.millis("pool_grow_after", Duration.ofMillis(1), Duration.ofMinutes(1))
          .variable("DB_POOL_GROW_AFTER_MS")
          .defaultValue(Duration.ofMillis(100))
          .build();

  /** Adaptive sizing: how long no borrower may have waited before the pool shrinks back. */
  public static final Setting<Duration> SHRINK_AFTER =
      Setting.seconds("pool_shrink_after", Duration.ofSeconds(1), Duration.ofHours(24))
          .variable("DB_POOL_SHRINK_AFTER_SECONDS")
          .defaultValue(Duration.ofMinutes(5))
          .build();

  /**
   * Adaptive sizing: the most the pool may grow to; by default the largest size that keeps every
   * instance within 80 % of the server's {@code max_connections} ({@link PoolSizing}).
   */
  public static final Setting<Integer> MAX_CONNECTION_LIMIT =
      Setting.integer("max_connection_limit", 1, MAX_CONNECTION_LIMIT_VALUE)
          .variable("DB_POOL_MAX_CONNECTION_LIMIT")
          .build();

  /** The variable of {@link #PGBOUNCER}. */
  public static final String PGBOUNCER_VARIABLE = PGBOUNCER.variable();

  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
  private static final List<String> OWN_PARAMETERS =
      List.of("schema", "connection_limit", "pool_timeout", "connect_timeout", "pgbouncer");

  private final String name;
  private final AppEnv appEnv;
  private final List<String> hosts;
  private final List<Integer> ports;
  private final String database;
  private final String username;
  private final String password;
  private final String schema;
  private final SettingValues values;
  private final Map<String, String> driverProperties;
  private final PoolSettings direct;

  private PoolSettings(Builder b) {
    this.direct = b.direct;
    this.name = b.name;
    this.appEnv = b.appEnv;
    this.hosts = List.copyOf(b.hosts);
    this.ports = List.copyOf(b.ports);
    this.database = b.database;
    this.username = b.username;
    this.password = b.password;
    this.schema = b.schema;
    this.values = b.values.copy();
    this.driverProperties = Collections.unmodifiableMap(new LinkedHashMap<>(b.driverProperties));
  }

  /** A builder holding {@code base}'s values. */
  public static Builder from(PoolSettings base) {
    return base.toBuilder();
  }

  /** A builder holding these values: hosts, database, credentials, parameters and every setting. */
  public Builder toBuilder() {
    var b = new Builder(appEnv);
    b.name = name;
    b.hosts = new ArrayList<>(hosts);
    b.ports = new ArrayList<>(ports);
    b.database = database;
    b.username = username;
    b.password = password;
    b.schema = schema;
    b.values = values.copy();
    b.driverProperties.putAll(driverProperties);
    b.direct = direct;
    return b;
  }

  /** A builder with development defaults. */
  public static Builder builder() {
    return new Builder(AppEnv.DEVELOPMENT);
  }

  /** A builder with the defaults of {@code env}. */
  public static Builder builder(AppEnv env) {
    return new Builder(Objects.requireNonNull(env, "env"));
  }

  /** From the process environment; {@code DATABASE_URL} is required. */
  public static PoolSettings fromEnv() {
    return fromEnv(System::getenv);
  }

  /** From {@code env}, a map of variables; {@code DATABASE_URL} is required. */
  public static PoolSettings fromEnv(Map<String, String> env) {
    return fromEnv(env::get);
  }

  static PoolSettings fromEnv(Function<String, String> env) {
    var b = new Builder(AppEnv.fromEnv(env));
    var url = Checks.get(env, DATABASE_URL);
    if (url == null) {
      throw new SettingException(
          DATABASE_URL, "be set to postgresql://user:pass@host:5432/db", null, "environment");
    }
    b.applyUrl(url, DATABASE_URL);
    var directUrl = Checks.get(env, DATABASE_DIRECT_URL);
    b.values.read(
        env,
        CONNECTION_LIMIT,
        POOL_TIMEOUT,
        CONNECT_TIMEOUT,
        INSTANCES,
        PGBOUNCER,
        ADAPTIVE,
        GROW_AFTER,
        SHRINK_AFTER,
        MAX_CONNECTION_LIMIT);
    if (directUrl != null && !directUrl.isBlank()) {
      b.directUrl(directUrl.trim(), DATABASE_DIRECT_URL);
    }
    return b.build();
  }

  /** The pool's name ({@code primary} unless set), used in logs, errors and metric names. */
  public String name() {
    return name;
  }

  /** The environment whose defaults were the starting point. */
  public AppEnv appEnv() {
    return appEnv;
  }

  /** The hosts of the URL, in order (more than one for a multi-host URL). */
  public List<String> hosts() {
    return hosts;
  }

  /** The port of each host, in the order of {@link #hosts()}. */
  public List<Integer> ports() {
    return ports;
  }

  /** The database name. */
  public String database() {
    return database;
  }

  /** The user name, or {@code null} for the driver's default. */
  public String username() {
    return username;
  }

  /** The password, or {@code null}. Never logged. */
  public String password() {
    return password;
  }

  /**
   * The schema put first on the search path ({@code currentSchema}), or {@code null} for the server
   * default.
   */
  public String schema() {
    return schema;
  }

  /** The pool's maximum (and fixed) size. */
  public int connectionLimit() {
    return values.get(CONNECTION_LIMIT);
  }

  /** How long a caller waits for a free connection before {@link PoolExhaustedException}. */
  public Duration poolTimeout() {
    return values.get(POOL_TIMEOUT);
  }

  /** How long the driver waits to open a connection to the server. */
  public Duration connectTimeout() {
    return values.get(CONNECT_TIMEOUT);
  }

  /** Whether connections go through PgBouncer in transaction mode ({@code prepareThreshold=0}). */
  public boolean pgbouncer() {
    return values.get(PGBOUNCER);
  }

  /** How many instances of the service share the server, for the {@code max_connections} check. */
  public int instances() {
    return values.get(INSTANCES);
  }

  /** Whether the pool grows under acquisition pressure and shrinks back (off by default). */
  public boolean adaptive() {
    return values.get(ADAPTIVE);
  }

  /** Adaptive sizing: a borrower waiting longer than this makes the pool grow. */
  public Duration growAfter() {
    return values.get(GROW_AFTER);
  }

  /** Adaptive sizing: how long without such a wait before the pool shrinks back. */
  public Duration shrinkAfter() {
    return values.get(SHRINK_AFTER);
  }

  /**
   * Adaptive sizing: the most the pool may grow to, when set; otherwise the ceiling is computed
   * from the server's {@code max_connections} at start.
   */
  public java.util.OptionalInt maxConnectionLimit() {
    return values.isSet(MAX_CONNECTION_LIMIT)
        ? java.util.OptionalInt.of(values.get(MAX_CONNECTION_LIMIT))
        : java.util.OptionalInt.empty();
  }

  /**
   * The same database reached without PgBouncer ({@code DATABASE_DIRECT_URL}), for work that needs
   * a session of its own: named {@code direct}, with this pool's credentials and properties unless
   * its URL gives others. Empty when not set.
   */
  public java.util.Optional<PoolSettings> direct() {
    return java.util.Optional.ofNullable(direct);
  }

  /** Extra pgjdbc connection properties, e.g. {@code sslmode}. */
  public Map<String, String> driverProperties() {
    return driverProperties;
  }

  /** The JDBC URL without credentials or properties. */
  public String jdbcUrl() {
    return new DatabaseUrl(hosts, ports, database, null, null, Map.of()).jdbcUrl();
  }

  /**
   * The connection as a {@code postgresql://} URL with the password masked, for logs and messages.
   */
  public String maskedUrl() {
    return new DatabaseUrl(hosts, ports, database, username, password, Map.of()).toString();
  }

  @Override
  public String toString() {
    return "PoolSettings{name="
        + name
        + ", url="
        + maskedUrl()
        + ", appEnv="
        + appEnv.id()
        + (schema != null ? ", schema=" + schema : "")
        + ", connection_limit="
        + connectionLimit()
        + ", pool_timeout="
        + POOL_TIMEOUT.show(poolTimeout())
        + ", connect_timeout="
        + CONNECT_TIMEOUT.show(connectTimeout())
        + ", pgbouncer="
        + pgbouncer()
        + ", instances="
        + instances()
        + (adaptive()
            ? ", adaptive (grow after "
                + GROW_AFTER.show(growAfter())
                + ", shrink after "
                + SHRINK_AFTER.show(shrinkAfter())
                + (maxConnectionLimit().isPresent()
                    ? ", max_connection_limit " + maxConnectionLimit().getAsInt()
                    : "")
                + ")"
            : "")
        + (direct == null ? "" : ", direct=" + direct.maskedUrl())
        + (driverProperties.isEmpty()
            ? ""
            : ", driverProperties=" + maskProperties(driverProperties))
        + "}";
  }

  private static Map<String, String> maskProperties(Map<String, String> props) {
    var masked = new LinkedHashMap<String, String>();
    props.forEach(
        (k, v) ->
            masked.put(k, k.toLowerCase(java.util.Locale.ROOT).contains("password") ? "****" : v));
    return masked;
  }

  /**
   * Builder for {@link PoolSettings}. Each setter checks its value; {@link #build()} checks the
   * whole.
   */
  public static final class Builder {
    private final AppEnv appEnv;
    private String name = "primary";
    private List<String> hosts = new ArrayList<>();
    private List<Integer> ports = new ArrayList<>();
    private String database;
    private String username;
    private String password;
    private String schema;
    private SettingValues values = new SettingValues();
    private final Map<String, String> driverProperties = new LinkedHashMap<>();
    private PoolSettings direct;

    private Builder(AppEnv appEnv) {
      this.appEnv = appEnv;
      var why = "default for " + appEnv.id();
      switch (appEnv) {
        case DEVELOPMENT -> {
          values.setDefault(CONNECTION_LIMIT, 10, why);
          values.setDefault(POOL_TIMEOUT, Duration.ofSeconds(10), why);
        }
        case STAGING -> {
          values.setDefault(CONNECTION_LIMIT, 15, why);
          values.setDefault(POOL_TIMEOUT, Duration.ofSeconds(20), why);
        }
        case PRODUCTION -> {
          values.setDefault(CONNECTION_LIMIT, 20, why);
          values.setDefault(POOL_TIMEOUT, Duration.ofSeconds(30), why);
        }
        default -> throw new AssertionError(appEnv);
      }
    }

    /** Takes hosts, database, credentials and parameters from a {@code DATABASE_URL}-style URL. */
    public Builder url(String databaseUrl) {
      applyUrl(databaseUrl, Checks.BUILDER);
      return this;
    }

    /** The pool's name, {@code [A-Za-z0-9][A-Za-z0-9_.-]*}; {@code primary} by default. */
    public Builder name(String name) {
      if (name == null || !NAME.matcher(name).matches()) {
        throw new SettingException(
            "name", "match [A-Za-z0-9][A-Za-z0-9_.-]{0,62}", name, Checks.BUILDER);
      }
      this.name = name;
      return this;
    }

    /**
     * A single host, replacing any hosts set before; the port stays 5432 unless {@link #port} sets
     * it.
     */
    public Builder host(String host) {
      if (host == null || host.isBlank()) {
        throw new SettingException("host", "be a host name or address", host, Checks.BUILDER);
      }
      this.hosts = new ArrayList<>(List.of(host.trim()));
      this.ports = new ArrayList<>(List.of(ports.isEmpty() ? 5432 : ports.get(0)));
      return this;
    }

    /** The port of the single host. */
    public Builder port(int port) {
      Checks.requireBetween("port", port, 1, 65535, Checks.BUILDER);
      if (hosts.size() > 1) {
        throw new SettingException(
            "port",
            "be given per host in url(…) when there are several hosts",
            port,
            Checks.BUILDER);
      }
      this.ports = new ArrayList<>(List.of(port));
      return this;
    }

    /** The database name, replacing the URL's. */
    public Builder database(String database) {
      if (database == null || database.isBlank()) {
        throw new SettingException("database", "be a database name", database, Checks.BUILDER);
      }
      this.database = database;
      return this;
    }

    /** The user name, replacing the URL's. */
    public Builder username(String username) {
      if (username == null || username.isBlank()) {
        throw new SettingException("username", "be a role name", username, Checks.BUILDER);
      }
      this.username = username;
      return this;
    }

    /** The password; {@code null} for none (trust or certificate authentication). */
    public Builder password(String password) {
      this.password = password;
      return this;
    }

    /**
     * The schema to put first on the search path, a plain identifier; {@code null} for the server
     * default.
     */
    public Builder schema(String schema) {
      applySchema(schema, Checks.BUILDER);
      return this;
    }

    /** The pool's size: 1 to 1 000; 10 / 15 / 20 by {@code APP_ENV}. */
    public Builder connectionLimit(int limit) {
      values.set(CONNECTION_LIMIT, limit);
      return this;
    }

    /**
     * How long a caller waits for a connection: 250 ms to 1 hour; 10 / 20 / 30 s by {@code
     * APP_ENV}.
     */
    public Builder poolTimeout(Duration timeout) {
      values.set(POOL_TIMEOUT, timeout);
      return this;
    }

    /**
     * How long opening a connection may take: 1 s to 5 min, whole seconds (the driver's unit);
     * default 5 s.
     */
    public Builder connectTimeout(Duration timeout) {
      values.set(CONNECT_TIMEOUT, timeout);
      return this;
    }

    /** PgBouncer in transaction mode: no server-side prepared statements. Default false. */
    public Builder pgbouncer(boolean pgbouncer) {
      values.set(PGBOUNCER, pgbouncer);
      return this;
    }

    /** How many instances of the service share the server: 1 to 1 000, default 1. */
    public Builder instances(int instances) {
      values.set(INSTANCES, instances);
      return this;
    }

    /**
     * Adaptive sizing: grow under acquisition pressure up to a ceiling, shrink back when quiet.
     * Default false.
     */
    public Builder adaptive(boolean adaptive) {
      values.set(ADAPTIVE, adaptive);
      return this;
    }

    /** Adaptive sizing: a wait longer than this makes the pool grow; 1 ms to 1 min, 100 ms. */
    public Builder growAfter(Duration wait) {
      values.set(GROW_AFTER, wait);
      return this;
    }

    /** Adaptive sizing: quiet time before shrinking back; 1 s to 24 h, 5 min. */
    public Builder shrinkAfter(Duration quiet) {
      values.set(SHRINK_AFTER, quiet);
      return this;
    }

    /**
     * Adaptive sizing: the most the pool may grow to, 1 to 1 000 and at least connection_limit; by
     * default computed from the server's {@code max_connections}.
     */
    public Builder maxConnectionLimit(int limit) {
      values.set(MAX_CONNECTION_LIMIT, limit);
      return this;
    }

    /**
     * The same database reached without PgBouncer, in {@code DATABASE_URL}'s form; what it leaves
     * out (user, password, properties) is this pool's. Migrations run through it.
     */
    public Builder directUrl(String url) {
      return directUrl(url, Checks.BUILDER);
    }

    Builder directUrl(String url, String source) {
      if (url == null) {
        direct = null;
        return this;
      }
      var b = new Builder(appEnv);
      b.name = "direct";
      b.username = username;
      b.password = password;
      b.schema = schema;
      b.values = values.copy();
      b.driverProperties.putAll(driverProperties);
      b.driverProperties.remove("prepareThreshold");
      b.applyUrl(url, source);
      b.values.set(PGBOUNCER, false, source);
      direct = b.build();
      return this;
    }

    /** An extra pgjdbc connection property (see {@code org.postgresql.PGProperty}). */
    public Builder driverProperty(String key, String value) {
      applyDriverProperty(key, value, Checks.BUILDER);
      return this;
    }

    /**
     * Builds the settings.
     *
     * @throws SettingException when no host, database or user was given
     */
    public PoolSettings build() {
      if (hosts.isEmpty()) {
        throw new SettingException(
            "host",
            "be set, through DATABASE_URL or the builder's url(…) or host(…)",
            null,
            Checks.BUILDER);
      }
      if (database == null) {
        throw new SettingException(
            "database",
            "be set, through DATABASE_URL or the builder's url(…) or database(…)",
            null,
            Checks.BUILDER);
      }
      if (username == null) {
        throw new SettingException(
            "username",
            "be set, through DATABASE_URL or the builder's url(…) or username(…)",
            null,
            Checks.BUILDER);
      }
      if (values.isSet(MAX_CONNECTION_LIMIT)) {
        values.requireAtLeast(MAX_CONNECTION_LIMIT, CONNECTION_LIMIT);
      }
      return new PoolSettings(this);
    }

    void applyUrl(String raw, String source) {
      var url = DatabaseUrl.parse(raw, source);
      hosts = new ArrayList<>(url.hosts());
      ports = new ArrayList<>(url.ports());
      database = url.database();
      if (url.user() != null) {
        username = url.user();
      }
      if (url.password() != null) {
        password = url.password();
      }
      url.parameters().forEach((key, value) -> applyParameter(key, value, source));
    }

    private void applyParameter(String key, String value, String source) {
      switch (key) {
        case "schema", "currentSchema" -> applySchema(value, source);
        case "connection_limit" ->
            values.set(CONNECTION_LIMIT, CONNECTION_LIMIT.parse(value, source), source);
        case "pool_timeout" -> values.set(POOL_TIMEOUT, POOL_TIMEOUT.parse(value, source), source);
        case "connect_timeout", "connectTimeout" ->
            values.set(CONNECT_TIMEOUT, CONNECT_TIMEOUT.parse(value, source), source);
        case "pgbouncer" -> values.set(PGBOUNCER, PGBOUNCER.parse(value, source), source);
        case "application_name" ->
            applyDriverProperty(PGProperty.APPLICATION_NAME.getName(), value, source);
        default -> applyDriverProperty(key, value, source);
      }
    }

    private void applySchema(String value, String source) {
      if (value == null) {
        schema = null;
        return;
      }
      if (!IDENTIFIER.matcher(value).matches()) {
        throw new SettingException(
            "schema",
            "be a plain identifier ([A-Za-z_][A-Za-z0-9_$]*, at most 63 characters)",
            value,
            source);
      }
      schema = value;
    }

    private void applyDriverProperty(String key, String value, String source) {
      if (PGProperty.forName(key) == null) {
        var known = new TreeSet<String>();
        for (var p : PGProperty.values()) {
          known.add(p.getName());
        }
        throw new SettingException(
            "parameter " + key,
            "be one of "
                + String.join(", ", OWN_PARAMETERS)
                + " or a pgjdbc connection property (such as sslmode, ApplicationName, tcpKeepAlive; "
                + known.size()
                + " in all)",
            key
                + "="
                + (key.toLowerCase(java.util.Locale.ROOT).contains("password") ? "****" : value),
            source);
      }
      driverProperties.put(key, value);
    }
  }
}
