package io.ballast.core.settings;

/**
 * A setting with a value that is not allowed, thrown when settings are built (so at start-up). The
 * message has the form {@code <setting> must <rule>, but was <value> (from <source>)}, where the
 * source is {@code DATABASE_URL}, an environment variable or {@code builder}. Secret values are
 * masked before they reach the message.
 */
public final class SettingException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String setting;
  private final String source;

  /**
   * A setting whose value broke a rule.
   *
   * @param setting the setting's name, e.g. {@code connection_limit}
   * @param rule what is allowed, phrased to follow "must", e.g. {@code be between 1 and 1000}
   * @param value the offending value, already masked if it may hold a secret
   * @param source where the value came from
   */
  public SettingException(String setting, String rule, Object value, String source) {
    super(
        setting
            + " must "
            + rule
            + ", but was "
            + (value == null ? "unset" : value)
            + " (from "
            + source
            + ")");
    this.setting = setting;
    this.source = source;
  }

  /** The name of the setting that was wrong. */
  public String setting() {
    return setting;
  }

  /**
   * Where the wrong value came from: {@code DATABASE_URL}, an environment variable or {@code
   * builder}.
   */
  public String source() {
    return source;
  }
}
