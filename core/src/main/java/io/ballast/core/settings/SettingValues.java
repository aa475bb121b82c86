package io.ballast.core.settings;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The values a settings builder holds and where each came from: {@value #BUILDER}, {@value
 * #DEFAULT}, an environment variable, or another source a settings class names ({@code
 * DATABASE_URL}). Settings classes keep one of these in their builder, fill it from the environment
 * with {@link #read} and from builder methods with {@link #set}, and cross-check with {@link
 * #requireAtLeast}, so every message names the source of each value it mentions. Not thread-safe (a
 * builder's).
 */
public final class SettingValues {
  /** The source of values given through a builder method. */
  public static final String BUILDER = "builder";

  /** The source of values nobody set. */
  public static final String DEFAULT = "default";

  private static final Logger LOG = LoggerFactory.getLogger(SettingValues.class);

  private record Value(Object value, String source) {}

  private final Map<Setting<?>, Value> values = new LinkedHashMap<>();

  /** No values set: every setting has its default. */
  public SettingValues() {}

  /** A copy, for {@code toBuilder()}. */
  public SettingValues copy() {
    var copy = new SettingValues();
    copy.values.putAll(values);
    return copy;
  }

  /** Checks {@code value} and keeps it as given by {@code source}. */
  public <T> SettingValues set(Setting<T> setting, T value, String source) {
    values.put(setting, new Value(setting.check(value, source), source));
    return this;
  }

  /**
   * Keeps {@code value} (or clears it with {@code null}) without a check: for settings that may be
   * unset.
   */
  public <T> SettingValues setUnchecked(Setting<T> setting, T value, String source) {
    values.put(setting, new Value(value, source));
    return this;
  }

  /**
   * A default that depends on something else ({@code APP_ENV}'s profile): used unless somebody sets
   * the value, and named {@code why} in messages, e.g. {@code default for production}.
   */
  public <T> SettingValues setDefault(Setting<T> setting, T value, String why) {
    values.put(setting, new Value(value, why));
    return this;
  }

  /** Sets {@code value} as given through the builder. */
  public <T> SettingValues set(Setting<T> setting, T value) {
    return set(setting, value, BUILDER);
  }

  /**
   * Reads each setting's variable from {@code env} (its deprecated names too, with a warning),
   * parses and checks it; unset and blank variables leave the value as it was.
   */
  public SettingValues read(Function<String, String> env, Setting<?>... settings) {
    for (var setting : settings) {
      readOne(env, setting);
    }
    return this;
  }

  private <T> void readOne(Function<String, String> env, Setting<T> setting) {
    var variable = setting.variable();
    var raw = variable == null ? null : env.apply(variable);
    var source = variable;
    if (raw == null || raw.isBlank()) {
      for (var old : setting.deprecatedVariables()) {
        var value = env.apply(old);
        if (value != null && !value.isBlank()) {
          LOG.warn(
              "{} is deprecated: use {} (same meaning{})", old, variable, unitNote(old, variable));
          raw = value;
          source = old;
          break;
        }
      }
    }
    if (raw == null || raw.isBlank()) {
      return;
    }
    set(setting, setting.parse(raw, source), source);
  }

  private static String unitNote(String old, String current) {
    return current != null && current.length() > old.length() && current.startsWith(old)
        ? ", unit now in its name: "
            + current.substring(old.length() + 1).toLowerCase(java.util.Locale.ROOT)
        : "";
  }

  /** The value, or the setting's default when nobody set it. */
  @SuppressWarnings("unchecked")
  public <T> T get(Setting<T> setting) {
    var v = values.get(setting);
    return v == null ? setting.defaultValue() : (T) v.value();
  }

  /**
   * Where the value came from: {@value #BUILDER}, a variable's name, another source, or {@value
   * #DEFAULT}.
   */
  public String source(Setting<?> setting) {
    var v = values.get(setting);
    return v == null ? DEFAULT : v.source();
  }

  /** Whether somebody set it (from any source). */
  public boolean isSet(Setting<?> setting) {
    return values.containsKey(setting);
  }

  /**
   * A cross-check: {@code high} must be at least {@code low}. The message names both values with
   * their sources: {@code redis_reconnect_delay_max must be at least redis_retry_delay (15s, from
   * REDIS_RETRY_DELAY_MS), but was 10s (from default)}.
   */
  public <T extends Comparable<T>> void requireAtLeast(Setting<T> high, Setting<T> low) {
    var h = get(high);
    var l = get(low);
    if (h != null && l != null && h.compareTo(l) < 0) {
      throw new SettingException(
          high.name(),
          "be at least " + low.name() + " (" + low.show(l) + ", from " + source(low) + ")",
          high.show(h),
          source(high));
    }
  }
}
