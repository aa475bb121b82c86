package io.ballast.core.admin;

import io.ballast.core.settings.Setting;
import io.ballast.core.settings.SettingValues;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Settings of the admin HTTP server. Immutable; build with {@link #defaults()}, {@link #builder()},
 * {@link #fromEnv()}, {@link #fromEnv(Map)}, or {@link #toBuilder()} / {@link
 * #from(AdminSettings)}.
 *
 * <table>
 *   <caption>Environment</caption>
 *   <tr><th>variable</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code BALLAST_ADMIN_ENABLED}</td><td>whether the server runs</td><td>true</td></tr>
 *   <tr><td>{@code BALLAST_ADMIN_PORT}</td><td>port, 0 for any free one</td><td>8081</td></tr>
 *   <tr><td>{@code BALLAST_ADMIN_BIND}</td><td>address to listen on</td><td>127.0.0.1</td></tr>
 *   <tr><td>{@code BALLAST_ADMIN_TOKEN}</td><td>bearer token every request must carry (16+ characters);
 *       never logged</td><td>none</td></tr>
 * </table>
 */
public final class AdminSettings {
  /** Whether the admin server runs. */
  public static final Setting<Boolean> ENABLED =
      Setting.bool("admin_enabled").variable("BALLAST_ADMIN_ENABLED").defaultValue(true).build();

  /** The port; 0 picks any free one. */
  public static final Setting<Integer> PORT =
      Setting.integer("admin_port", 0, 65535)
          .variable("BALLAST_ADMIN_PORT")
          .defaultValue(8081)
          .build();

  /** The address to listen on. */
  public static final Setting<String> BIND =
      Setting.text("admin_bind", Pattern.compile("\\S+"), "an address such as 127.0.0.1")
          .variable("BALLAST_ADMIN_BIND")
          .defaultValue("127.0.0.1")
          .build();

  /** The bearer token every request must carry. */
  public static final Setting<String> TOKEN =
      Setting.text(
              "admin_token",
              Pattern.compile(".{16,}", Pattern.DOTALL),
              "at least 16 characters long")
          .variable("BALLAST_ADMIN_TOKEN")
          .secret()
          .build();

  /** The variable of {@link #ENABLED}, as logs mention it. */
  public static final String ENABLED_VARIABLE = ENABLED.variable();

  private final SettingValues values;

  private AdminSettings(Builder b) {
    this.values = b.values.copy();
  }

  /** Every default. */
  public static AdminSettings defaults() {
    return builder().build();
  }

  /** A builder starting from every default. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding {@code base}'s values. */
  public static Builder from(AdminSettings base) {
    return base.toBuilder();
  }

  /** A builder holding these values. */
  public Builder toBuilder() {
    var b = new Builder();
    b.values = values.copy();
    return b;
  }

  /**
   * The settings from the process environment, like every other settings class's {@code fromEnv()}.
   */
  public static AdminSettings fromEnv() {
    return fromEnv(System::getenv);
  }

  /**
   * Settings from {@code env} (the variables of the class comment); a wrong value fails naming the
   * variable, the value and what is allowed.
   */
  public static AdminSettings fromEnv(Map<String, String> env) {
    return fromEnv(env::get);
  }

  /** Settings from a lookup of variables (the variables of the class comment). */
  public static AdminSettings fromEnv(Function<String, String> env) {
    var b = builder();
    b.values.read(env, ENABLED, PORT, BIND, TOKEN);
    return b.build();
  }

  /** Whether the admin server runs. */
  public boolean enabled() {
    return values.get(ENABLED);
  }

  /**
   * The configured port; 0 means any free port (see {@code AdminServer.port()} for the one bound).
   */
  public int port() {
    return values.get(PORT);
  }

  /** The address the admin server listens on (loopback by default). */
  public String bind() {
    return values.get(BIND);
  }

  /** The bearer token, or {@code null}. Never logged. */
  public String token() {
    return values.get(TOKEN);
  }

  @Override
  public String toString() {
    return "AdminSettings{enabled="
        + enabled()
        + ", bind="
        + bind()
        + ", port="
        + port()
        + (token() == null ? "" : ", token=****")
        + "}";
  }

  /** Builder of {@link AdminSettings}. */
  public static final class Builder {
    private SettingValues values = new SettingValues();

    private Builder() {}

    /** Whether the server runs; default true. */
    public Builder enabled(boolean enabled) {
      values.set(ENABLED, enabled);
      return this;
    }

    /** 0 to 65535; 0 picks any free port. Default 8081. */
    public Builder port(int port) {
      values.set(PORT, port);
      return this;
    }

    /**
     * The address to listen on; anything but loopback exposes health and metrics to the network.
     */
    public Builder bind(String address) {
      values.set(BIND, address);
      return this;
    }

    /** A bearer token of at least 16 characters that every request must carry. */
    public Builder token(String token) {
      values.set(TOKEN, token);
      return this;
    }

    /** The settings; fails with a message naming the settings when they do not fit together. */
    public AdminSettings build() {
      return new AdminSettings(this);
    }
  }
}
