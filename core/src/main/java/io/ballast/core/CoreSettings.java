package io.ballast.core;

import io.ballast.core.internal.Settings;
import io.ballast.core.monitor.MonitorSettings;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Settings of {@link CoreModule}: the environment and the shutdown grace period. Immutable; build with
 * {@link #builder()}, {@link #defaults()} or {@link #fromEnv()}.
 *
 * <table>
 *   <caption>Environment</caption>
 *   <tr><th>variable</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code APP_ENV}</td><td>development, staging or production</td><td>development</td></tr>
 *   <tr><td>{@code BALLAST_SHUTDOWN_GRACE}</td><td>seconds that stopping waits for work in flight, 0–600</td>
 *       <td>10</td></tr>
 *   <tr><td>{@code BALLAST_HEALTH_TIMEOUT_MS}</td><td>time limit of one health check</td><td>2000</td></tr>
 *   <tr><td>{@code BALLAST_CURSOR_SECRET}</td><td>secret (32+ characters) signing page cursors, shared by all
 *       instances</td><td>unset: a random key per process</td></tr>
 * </table>
 */
public final class CoreSettings {
  /** Environment variable for {@link #shutdownGrace()}, in seconds. */
  public static final String SHUTDOWN_GRACE_VARIABLE = "BALLAST_SHUTDOWN_GRACE";
  /** Environment variable for {@link #healthCheckTimeout()}, in milliseconds. */
  public static final String HEALTH_TIMEOUT_VARIABLE = "BALLAST_HEALTH_TIMEOUT_MS";
  /** Environment variable for {@link #cursorSecret()}. */
  public static final String CURSOR_SECRET_VARIABLE = "BALLAST_CURSOR_SECRET";
  private static final int MIN_SECRET_LENGTH = 32;
  private static final Duration MAX_GRACE = Duration.ofMinutes(10);

  private final AppEnv appEnv;
  private final Duration shutdownGrace;
  private final String cursorSecret;
  private final MonitorSettings monitor;
  private final Duration healthCheckTimeout;

  private CoreSettings(Builder b) {
    this.appEnv = b.appEnv;
    this.shutdownGrace = b.shutdownGrace;
    this.cursorSecret = b.cursorSecret;
    this.monitor = b.monitor != null ? b.monitor : MonitorSettings.defaults(b.appEnv);
    this.healthCheckTimeout = b.healthCheckTimeout;
  }

  /** Development defaults. */
  public static CoreSettings defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
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
    var healthTimeout = Settings.get(env, HEALTH_TIMEOUT_VARIABLE);
    if (healthTimeout != null) {
      b.healthCheckTimeout = Duration.ofMillis(Settings.parseInt("health_check_timeout_ms", healthTimeout, 100, 60_000,
          HEALTH_TIMEOUT_VARIABLE));
    }
    var grace = Settings.get(env, SHUTDOWN_GRACE_VARIABLE);
    if (grace != null) {
      b.shutdownGrace = Settings.parseSeconds("shutdown_grace", grace, 0, (int) MAX_GRACE.toSeconds(),
          SHUTDOWN_GRACE_VARIABLE);
    }
    var secret = Settings.get(env, CURSOR_SECRET_VARIABLE);
    if (secret != null) {
      b.applyCursorSecret(secret, CURSOR_SECRET_VARIABLE);
    }
    return b.build();
  }

  public AppEnv appEnv() {
    return appEnv;
  }

  /** How long stopping waits, in all, for work in flight before closing resources under it. */
  public Duration shutdownGrace() {
    return shutdownGrace;
  }

  /**
   * The secret page cursors are signed with, shared by every instance; {@code null} when unset (cursors are
   * then signed with a random key and stop working at restart). Never logged.
   */
  public String cursorSecret() {
    return cursorSecret;
  }

  /** How long one health check may take before it counts as failed. */
  public Duration healthCheckTimeout() {
    return healthCheckTimeout;
  }

  /** The query monitor's and query timeouts' settings. */
  public MonitorSettings monitor() {
    return monitor;
  }

  @Override
  public String toString() {
    return "CoreSettings{appEnv=" + appEnv.id() + ", shutdownGrace=" + Settings.human(shutdownGrace)
        + (cursorSecret == null ? "" : ", cursorSecret=****") + "}";
  }

  /** Builder for {@link CoreSettings}; not thread-safe. */
  public static final class Builder {
    private AppEnv appEnv = AppEnv.DEVELOPMENT;
    private Duration shutdownGrace = Duration.ofSeconds(10);
    private String cursorSecret;
    private MonitorSettings monitor;
    private Duration healthCheckTimeout = Duration.ofSeconds(2);

    private Builder() {}

    public Builder appEnv(AppEnv appEnv) {
      this.appEnv = Objects.requireNonNull(appEnv, "appEnv");
      return this;
    }

    /** Between 0 and 10 minutes. */
    public Builder shutdownGrace(Duration grace) {
      this.shutdownGrace = Settings.requireBetween("shutdown_grace", grace, Duration.ZERO, MAX_GRACE, Settings.BUILDER);
      return this;
    }

    /** How long one health check may take; 100 ms to 1 min, default 2 s. */
    public Builder healthCheckTimeout(Duration timeout) {
      this.healthCheckTimeout = Settings.requireBetween("health_check_timeout", timeout, Duration.ofMillis(100),
          Duration.ofMinutes(1), Settings.BUILDER);
      return this;
    }

    /** The query monitor's settings; by default those of the environment. */
    public Builder monitor(MonitorSettings monitor) {
      this.monitor = Objects.requireNonNull(monitor, "monitor");
      return this;
    }

    /** The page-cursor signing secret, at least 32 characters, the same on every instance. */
    public Builder cursorSecret(String secret) {
      applyCursorSecret(secret, Settings.BUILDER);
      return this;
    }

    private void applyCursorSecret(String secret, String source) {
      if (secret == null || secret.length() < MIN_SECRET_LENGTH) {
        throw new SettingException("cursor_secret", "be at least " + MIN_SECRET_LENGTH + " characters long",
            secret == null ? null : "a secret of " + secret.length() + " characters", source);
      }
      this.cursorSecret = secret;
    }

    public CoreSettings build() {
      return new CoreSettings(this);
    }
  }
}
