package io.ballast.core.settings;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * One setting, declared once: its name in messages, its environment variable (whose name carries
 * the unit) and the older names it still answers to, how a value is parsed and checked, how it is
 * shown, its default, and whether it is secret. Both {@code fromEnv} and a settings builder go
 * through the same declaration ({@link SettingValues#read} and {@link SettingValues#set}), so the
 * rule, the range and the message are written once and read the same whatever the source.
 *
 * <pre>{@code
 * static final Setting<Duration> GRACE = Setting.seconds("shutdown_grace", Duration.ZERO, Duration.ofMinutes(10))
 *     .variable("BALLAST_SHUTDOWN_GRACE_SECONDS").deprecated("BALLAST_SHUTDOWN_GRACE")
 *     .defaultValue(Duration.ofSeconds(10)).build();
 * }</pre>
 *
 * <p>Every message has the form {@code <name> must <rule>, but was <value> (from <source>)}.
 * Immutable and thread-safe.
 *
 * @param <T> the value's type
 */
public final class Setting<T> {
  private static final Set<String> VARIABLES = ConcurrentHashMap.newKeySet();

  private final String name;
  private final String variable;
  private final List<String> deprecated;
  private final Function<String, T> parse;
  private final String parseRule;
  private final Function<T, String> check;
  private final Function<T, String> show;
  private final T defaultValue;
  private final boolean secret;

  private Setting(Builder<T> b) {
    this.name = b.name;
    this.variable = b.variable;
    this.deprecated = List.copyOf(b.deprecated);
    this.parse = b.parse;
    this.parseRule = b.parseRule;
    this.check = b.check;
    this.show = b.show;
    this.defaultValue = b.defaultValue;
    this.secret = b.secret;
    if (variable != null) {
      VARIABLES.add(variable);
    }
    VARIABLES.addAll(deprecated);
  }

  /** A whole number in {@code [min, max]}. */
  public static Builder<Integer> integer(String name, int min, int max) {
    return new Builder<Integer>(
            name,
            s -> Integer.valueOf(s.trim()),
            "be a whole number between " + min + " and " + max)
        .check(v -> v < min || v > max ? "be between " + min + " and " + max : null);
  }

  /**
   * A duration in {@code [min, max]} whose variable is in whole seconds (its name ends in {@code
   * _SECONDS}).
   */
  public static Builder<Duration> seconds(String name, Duration min, Duration max) {
    return durationIn(name, min, max, "seconds", Duration::ofSeconds);
  }

  /**
   * A duration in {@code [min, max]} whose variable is in milliseconds (its name ends in {@code
   * _MS}).
   */
  public static Builder<Duration> millis(String name, Duration min, Duration max) {
    return durationIn(name, min, max, "milliseconds", Duration::ofMillis);
  }

  /**
   * A duration in {@code [min, max]} whose variable is in whole minutes (its name ends in {@code
   * _MINUTES}).
   */
  public static Builder<Duration> minutes(String name, Duration min, Duration max) {
    return durationIn(name, min, max, "minutes", Duration::ofMinutes);
  }

  private static Builder<Duration> durationIn(
      String name,
      Duration min,
      Duration max,
      String unit,
      java.util.function.LongFunction<Duration> of) {
    var range = "between " + Checks.human(min) + " and " + Checks.human(max);
    return new Builder<Duration>(
            name,
            s -> of.apply(Long.parseLong(s.trim())),
            "be a whole number of " + unit + ", " + range)
        .check(v -> v.compareTo(min) < 0 || v.compareTo(max) > 0 ? "be " + range : null)
        .show(Checks::human);
  }

  /** {@code true} or {@code false}, in any case. */
  public static Builder<Boolean> bool(String name) {
    return new Builder<Boolean>(
        name,
        s -> {
          var v = s.trim();
          if (v.equalsIgnoreCase("true")) {
            return Boolean.TRUE;
          }
          if (v.equalsIgnoreCase("false")) {
            return Boolean.FALSE;
          }
          throw new IllegalArgumentException(v);
        },
        "be true or false");
  }

  /**
   * One of an enum's constants, written in lower case ({@code migrate}, {@code validate}, …), any
   * case accepted.
   */
  public static <E extends Enum<E>> Builder<E> oneOf(String name, Class<E> type) {
    var names =
        Arrays.stream(type.getEnumConstants())
            .map(e -> e.name().toLowerCase(Locale.ROOT))
            .collect(Collectors.joining(", "));
    return new Builder<E>(
            name, s -> Enum.valueOf(type, s.trim().toUpperCase(Locale.ROOT)), "be one of " + names)
        .show(e -> e.name().toLowerCase(Locale.ROOT));
  }

  /**
   * Text matching {@code pattern}, {@code rule} saying what that means ("a plain identifier
   * ([a-z_]…)").
   */
  public static Builder<String> text(String name, Pattern pattern, String rule) {
    return new Builder<String>(name, String::trim, "be " + rule)
        .check(v -> pattern.matcher(v).matches() ? null : "be " + rule);
  }

  /**
   * A setting of another type: {@code parse} turns the variable's text into a value (throwing when
   * it cannot), {@code rule} says what is allowed when it throws ("be classpath:… or filesystem:…,
   * comma-separated").
   */
  public static <T> Builder<T> of(String name, Function<String, T> parse, String rule) {
    return new Builder<>(name, parse, "be " + rule);
  }

  /**
   * Every environment variable any setting declared so far answers to, deprecated names included.
   */
  public static Set<String> knownVariables() {
    return Set.copyOf(VARIABLES);
  }

  /** The name used in messages, e.g. {@code shutdown_grace}. */
  public String name() {
    return name;
  }

  /**
   * The environment variable, e.g. {@code BALLAST_SHUTDOWN_GRACE_SECONDS}, or {@code null} (builder
   * only).
   */
  public String variable() {
    return variable;
  }

  /** Older variable names, still read, with a warning. */
  public List<String> deprecatedVariables() {
    return deprecated;
  }

  /** The default, or {@code null} when the setting has none (unset means "off" or "required"). */
  public T defaultValue() {
    return defaultValue;
  }

  /** Whether the value is a secret: messages and {@code toString} never show it. */
  public boolean secret() {
    return secret;
  }

  /**
   * Parses {@code raw} from {@code source} and checks it.
   *
   * @throws SettingException naming this setting, the rule, the value (masked when secret) and the
   *     source
   */
  public T parse(String raw, String source) {
    T value;
    try {
      value = parse.apply(raw);
    } catch (RuntimeException e) {
      throw new SettingException(name, parseRule, shown(raw), source);
    }
    return check(value, source);
  }

  /**
   * Checks {@code value} from {@code source}.
   *
   * @throws SettingException naming this setting, the rule, the value (masked when secret) and the
   *     source
   */
  public T check(T value, String source) {
    if (value == null) {
      throw new SettingException(name, "be set", null, source);
    }
    var rule = check.apply(value);
    if (rule != null) {
      throw new SettingException(name, rule, secret ? masked(value) : show.apply(value), source);
    }
    return value;
  }

  /** The value as messages and {@code toString} show it: masked when secret. */
  public String show(T value) {
    if (value == null) {
      return "unset";
    }
    return secret ? "****" : show.apply(value);
  }

  private String shown(String raw) {
    return secret ? "a value of " + raw.length() + " characters" : raw;
  }

  private String masked(T value) {
    return "a value of " + String.valueOf(value).length() + " characters";
  }

  @Override
  public String toString() {
    return name + (variable == null ? "" : " (" + variable + ")");
  }

  /** Declares a {@link Setting}. */
  public static final class Builder<T> {
    private final String name;
    private final Function<String, T> parse;
    private final String parseRule;
    private Function<T, String> check = v -> null;
    private Function<T, String> show = String::valueOf;
    private String variable;
    private final List<String> deprecated = new ArrayList<>();
    private T defaultValue;
    private boolean secret;

    private Builder(String name, Function<String, T> parse, String parseRule) {
      this.name = Objects.requireNonNull(name, "name");
      this.parse = parse;
      this.parseRule = parseRule;
    }

    /** The environment variable; its name should carry the unit ({@code _SECONDS}, {@code _MS}). */
    public Builder<T> variable(String variable) {
      this.variable = variable;
      return this;
    }

    /** An older name of the variable: still read, with a warning naming the new one. */
    public Builder<T> deprecated(String... variables) {
      deprecated.addAll(List.of(variables));
      return this;
    }

    /**
     * The value when neither the builder nor the environment sets one; checked against the rules.
     */
    public Builder<T> defaultValue(T value) {
      this.defaultValue = value;
      return this;
    }

    /**
     * A further rule: returns what is allowed (to follow "must") when {@code value} breaks it, else
     * null.
     */
    public Builder<T> check(Function<T, String> rule) {
      var previous = this.check;
      this.check =
          v -> {
            var first = previous.apply(v);
            return first != null ? first : rule.apply(v);
          };
      return this;
    }

    /** How a value is printed in messages and {@code toString}. */
    public Builder<T> show(Function<T, String> show) {
      this.show = show;
      return this;
    }

    /** Never shown: messages say how long it was, {@code toString} prints {@code ****}. */
    public Builder<T> secret() {
      this.secret = true;
      return this;
    }

    /** The declaration. */
    public Setting<T> build() {
      return new Setting<>(this);
    }
  }
}
