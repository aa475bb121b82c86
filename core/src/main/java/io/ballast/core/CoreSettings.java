package io.ballast.core;

import io.ballast.core.internal.Settings;
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
 * </table>
 */
public final class CoreSettings {
  /** Environment variable for {@link #shutdownGrace()}, in seconds. */
  public static final String SHUTDOWN_GRACE_VARIABLE = "BALLAST_SHUTDOWN_GRACE";
  private static final Duration MAX_GRACE = Duration.ofMinutes(10);

  private final AppEnv appEnv;
  private final Duration shutdownGrace;

  private CoreSettings(Builder b) {
    this.appEnv = b.appEnv;
    this.shutdownGrace = b.shutdownGrace;
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
    var b = builder().appEnv(AppEnv.fromEnv(env));
    var grace = Settings.get(env, SHUTDOWN_GRACE_VARIABLE);
    if (grace != null) {
      b.shutdownGrace = Settings.parseSeconds("shutdown_grace", grace, 0, (int) MAX_GRACE.toSeconds(),
          SHUTDOWN_GRACE_VARIABLE);
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

  @Override
  public String toString() {
    return "CoreSettings{appEnv=" + appEnv.id() + ", shutdownGrace=" + Settings.human(shutdownGrace) + "}";
  }

  /** Builder for {@link CoreSettings}; not thread-safe. */
  public static final class Builder {
    private AppEnv appEnv = AppEnv.DEVELOPMENT;
    private Duration shutdownGrace = Duration.ofSeconds(10);

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

    public CoreSettings build() {
      return new CoreSettings(this);
    }
  }
}
