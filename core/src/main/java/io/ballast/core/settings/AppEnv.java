package io.ballast.core.settings;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The environment a service runs in, from {@code APP_ENV}. It picks defaults (pool size, timeouts,
 * log thresholds); every default it picks can still be set explicitly.
 */
public enum AppEnv {
  /** A developer's machine: verbose defaults, development-only settings allowed. */
  DEVELOPMENT,
  /** A pre-production deployment: production's defaults. */
  STAGING,
  /** Production: the strictest defaults; development-only settings refused. */
  PRODUCTION;

  /** The environment variable that names the environment. */
  public static final String VARIABLE = "APP_ENV";

  /** The lower-case name used in {@code APP_ENV}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses {@code development}, {@code staging} or {@code production} (any case).
   *
   * @param source where the value came from, for the error message
   * @throws SettingException naming the allowed values otherwise
   */
  public static AppEnv parse(String value, String source) {
    for (var env : values()) {
      if (env.id().equalsIgnoreCase(value == null ? "" : value.trim())) {
        return env;
      }
    }
    throw new SettingException(
        VARIABLE,
        "be one of " + Arrays.stream(values()).map(AppEnv::id).collect(Collectors.joining(", ")),
        value,
        source);
  }

  /** {@code APP_ENV} from {@code env}, or {@link #DEVELOPMENT} when it is unset or blank. */
  public static AppEnv fromEnv(java.util.function.Function<String, String> env) {
    var raw = Checks.get(env, VARIABLE);
    return raw == null ? DEVELOPMENT : parse(raw, VARIABLE);
  }
}
