package io.ballast.core;

import io.ballast.core.monitor.MonitorSettings;
import io.ballast.core.settings.AppEnv;
import io.ballast.core.settings.Setting;
import io.ballast.core.settings.SettingValues;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Settings of {@link CoreModule}: the environment, the shutdown grace period, the health-check time
 * limit, the cursor secret, and the query monitor's {@link MonitorSettings}. Immutable; build with
 * {@link #defaults()}, {@link #builder()}, {@link #fromEnv()}, {@link #fromEnv(Map)}, or {@link
 * #toBuilder()} / {@link #from(CoreSettings)}.
 *
 * <table>
 *   <caption>Environment</caption>
 *   <tr><th>variable</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code APP_ENV}</td><td>development, staging or production</td><td>development</td></tr>
 *   <tr><td>{@code BALLAST_SHUTDOWN_GRACE_SECONDS} (was {@code BALLAST_SHUTDOWN_GRACE})</td><td>seconds that
 *       stopping waits for work in flight, 0–600</td><td>10</td></tr>
 *   <tr><td>{@code BALLAST_HEALTH_TIMEOUT_MS}</td><td>time limit of one health check, 100–60000</td><td>2000</td></tr>
 *   <tr><td>{@code BALLAST_CURSOR_SECRET}</td><td>secret (32+ characters) signing page cursors, shared by all
 *       instances; never shown</td><td>unset: a random key per process</td></tr>
 * </table>
 */
public final class CoreSettings {
  /** How long stopping waits for work in flight. */
  public static final Setting<Duration> SHUTDOWN_GRACE =
      Setting.seconds("shutdown_grace", Duration.ZERO, Duration.ofMinutes(10))
          .variable("BALLAST_SHUTDOWN_GRACE_SECONDS")
          .deprecated("BALLAST_SHUTDOWN_GRACE")
          .defaultValue(Duration.ofSeconds(10))
          .build();

  /** The time limit of one health check. */
  public static final Setting<Duration> HEALTH_CHECK_TIMEOUT =
      Setting.millis("health_check_timeout", Duration.ofMillis(100), Duration.ofMinutes(1))
          .variable("BALLAST_HEALTH_TIMEOUT_MS")
          .defaultValue(Duration.ofSeconds(2))
          .build();

  /** The secret page cursors are signed with. */
  public static final Setting<String> CURSOR_SECRET =
      Setting.text(
              "cursor_secret",
              Pattern.compile(".{32,}", Pattern.DOTALL),
              "at least 32 characters long")
          .variable("BALLAST_CURSOR_SECRET")
          .secret()
          .build();

  private final AppEnv appEnv;
  private final SettingValues values;
  private final MonitorSettings monitor;

  private CoreSettings(Builder b) {
    this.appEnv = b.appEnv;
    this.values = b.values.copy();
    this.monitor = b.monitor != null ? b.monitor : MonitorSettings.defaults(b.appEnv);
  }

  /** Development defaults. */
  public static CoreSettings defaults() {
    return builder().build();
  }

  /** A builder starting from every default. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding {@code base}'s values, as Resilience4j's {@code from(base)}. */
  public static Builder from(CoreSettings base) {
    return base.toBuilder();
  }

  /** A builder holding these values. */
  public Builder toBuilder() {
    var b = new Builder();
    b.appEnv = appEnv;
    b.values = values.copy();
    b.monitor = monitor;
    return b;
  }

  /** From the process environment. */
  public static CoreSettings fromEnv() {
    return fromEnv(System::getenv);
  }

  /** From {@code env} (a map of variables, for tests and for configuration kept elsewhere). */
  public static CoreSettings fromEnv(Map<String, String> env) {
    return fromEnv(env::get);
  }

  static CoreSettings fromEnv(Function<String, String> env) {
    var appEnv = AppEnv.fromEnv(env);
    var b = builder().appEnv(appEnv).monitor(MonitorSettings.fromEnv(appEnv, env));
    b.values.read(env, SHUTDOWN_GRACE, HEALTH_CHECK_TIMEOUT, CURSOR_SECRET);
    return b.build();
  }

  /** The environment the defaults were chosen for. */
  public AppEnv appEnv() {
    return appEnv;
  }

  /** How long stopping waits, in all, for work in flight before closing resources under it. */
  public Duration shutdownGrace() {
    return values.get(SHUTDOWN_GRACE);
  }

  /**
   * The secret page cursors are signed with, shared by every instance; {@code null} when unset
   * (cursors are then signed with a random key and stop working at restart). Never logged.
   */
  public String cursorSecret() {
    return values.get(CURSOR_SECRET);
  }

  /** How long one health check may take before it counts as failed. */
  public Duration healthCheckTimeout() {
    return values.get(HEALTH_CHECK_TIMEOUT);
  }

  /** The query monitor's and query timeouts' settings. */
  public MonitorSettings monitor() {
    return monitor;
  }

  @Override
  public String toString() {
    return "CoreSettings{appEnv="
        + appEnv.id()
        + ", shutdownGrace="
        + SHUTDOWN_GRACE.show(shutdownGrace())
        + (cursorSecret() == null ? "" : ", cursorSecret=****")
        + "}";
  }

  /** Builder for {@link CoreSettings}; not thread-safe. */
  public static final class Builder {
    private AppEnv appEnv = AppEnv.DEVELOPMENT;
    private SettingValues values = new SettingValues();
    private MonitorSettings monitor;

    private Builder() {}

    /** The environment, which picks the defaults of the other settings. */
    public Builder appEnv(AppEnv appEnv) {
      this.appEnv = Objects.requireNonNull(appEnv, "appEnv");
      return this;
    }

    /** How long stopping waits for work in flight: 0 to 10 minutes, default 10 s. */
    public Builder shutdownGrace(Duration grace) {
      values.set(SHUTDOWN_GRACE, grace);
      return this;
    }

    /** How long one health check may take: 100 ms to 1 min, default 2 s. */
    public Builder healthCheckTimeout(Duration timeout) {
      values.set(HEALTH_CHECK_TIMEOUT, timeout);
      return this;
    }

    /** The query monitor's settings; by default those of the environment. */
    public Builder monitor(MonitorSettings monitor) {
      this.monitor = Objects.requireNonNull(monitor, "monitor");
      return this;
    }

    /** The page-cursor signing secret: at least 32 characters, the same on every instance. */
    public Builder cursorSecret(String secret) {
      values.set(CURSOR_SECRET, secret);
      return this;
    }

    /** The settings; fails with a message naming the settings when they do not fit together. */
    public CoreSettings build() {
      return new CoreSettings(this);
    }
  }
}
