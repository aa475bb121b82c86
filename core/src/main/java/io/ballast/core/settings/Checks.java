package io.ballast.core.settings;

import java.time.Duration;
import java.util.function.Function;

/**
 * Range checks for values that are not environment settings of their own (a cache region's TTL, a
 * pool's port given to a builder), in the same message shape as {@link Setting}'s: {@code <name>
 * must <rule>, but was <value> (from <source>)}. Settings read from the environment are declared as
 * {@link Setting}s instead.
 */
public final class Checks {
  /** The source name for values given through a settings builder. */
  public static final String BUILDER = "builder";

  private Checks() {}

  /** The trimmed value of {@code name}, or {@code null} when unset or blank. */
  public static String get(Function<String, String> env, String name) {
    var value = env.apply(name);
    return value == null || value.isBlank() ? null : value.trim();
  }

  /** Parses a whole number in {@code [min, max]}. */
  public static int parseInt(String setting, String raw, int min, int max, String source) {
    var value =
        parseWhole(setting, raw, "be a whole number between " + min + " and " + max, source);
    return requireBetween(setting, value, min, max, source);
  }

  private static int parseWhole(String setting, String raw, String rule, String source) {
    try {
      return Integer.parseInt(raw.trim());
    } catch (NumberFormatException e) {
      throw new SettingException(setting, rule, raw, source);
    }
  }

  /** Checks {@code value} is in {@code [min, max]}. */
  public static int requireBetween(String setting, int value, int min, int max, String source) {
    if (value < min || value > max) {
      throw new SettingException(setting, "be between " + min + " and " + max, value, source);
    }
    return value;
  }

  /** Parses whole seconds in {@code [min, max]}. */
  public static Duration parseSeconds(String setting, String raw, int min, int max, String source) {
    var value =
        parseWhole(
            setting, raw, "be a whole number of seconds between " + min + " and " + max, source);
    if (value < min || value > max) {
      throw new SettingException(
          setting, "be between " + min + " and " + max + " seconds", value, source);
    }
    return Duration.ofSeconds(value);
  }

  /** Checks {@code value} is in {@code [min, max]}. */
  public static Duration requireBetween(
      String setting, Duration value, Duration min, Duration max, String source) {
    if (value == null) {
      throw new SettingException(setting, "be set", null, source);
    }
    if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
      throw new SettingException(
          setting, "be between " + human(min) + " and " + human(max), human(value), source);
    }
    return value;
  }

  /** Parses {@code true} or {@code false} (any case). */
  public static boolean parseBoolean(String setting, String raw, String source) {
    var v = raw.trim();
    if (v.equalsIgnoreCase("true")) {
      return true;
    }
    if (v.equalsIgnoreCase("false")) {
      return false;
    }
    throw new SettingException(setting, "be true or false", raw, source);
  }

  /**
   * {@code 10s}, {@code 250ms}, {@code 2m}, {@code 1h}, {@code 30d}: the way durations are printed
   * in settings and messages.
   */
  public static String human(Duration d) {
    if (d.isNegative()) {
      return "-" + human(d.negated());
    }
    if (d.isZero()) {
      return "0s";
    }
    if (d.toMillisPart() != 0 || d.toNanosPart() % 1_000_000 != 0 || d.toMillis() < 1000) {
      return d.toMillis() + "ms";
    }
    if (d.toSeconds() % 60 != 0 || d.toSeconds() < 60) {
      return d.toSeconds() + "s";
    }
    if (d.toMinutes() % 60 != 0 || d.toMinutes() < 60) {
      return d.toMinutes() + "m";
    }
    if (d.toHours() % 24 != 0 || d.toHours() < 24) {
      return d.toHours() + "h";
    }
    return d.toDays() + "d";
  }
}
