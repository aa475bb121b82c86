package io.ballast.core.admin;

import io.ballast.core.SettingException;
import io.ballast.core.internal.Settings;
import java.util.Map;
import java.util.function.Function;

/**
 * Settings of the admin HTTP server. Immutable; part of {@code CoreSettings}.
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
  public static final String ENABLED_VARIABLE = "BALLAST_ADMIN_ENABLED";
  public static final String PORT_VARIABLE = "BALLAST_ADMIN_PORT";
  public static final String BIND_VARIABLE = "BALLAST_ADMIN_BIND";
  public static final String TOKEN_VARIABLE = "BALLAST_ADMIN_TOKEN";
  private static final int MIN_TOKEN = 16;

  private final boolean enabled;
  private final int port;
  private final String bind;
  private final String token;

  private AdminSettings(Builder b) {
    this.enabled = b.enabled;
    this.port = b.port;
    this.bind = b.bind;
    this.token = b.token;
  }

  public static AdminSettings defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The settings from the process environment, like every other settings class's {@code fromEnv()}. */
  public static AdminSettings fromEnv() {
    return fromEnv(System::getenv);
  }

  public static AdminSettings fromEnv(Map<String, String> env) {
    return fromEnv(env::get);
  }

  public static AdminSettings fromEnv(Function<String, String> env) {
    var b = builder();
    var enabled = Settings.get(env, ENABLED_VARIABLE);
    if (enabled != null) {
      b.enabled = Settings.parseBoolean("admin_enabled", enabled, ENABLED_VARIABLE);
    }
    var port = Settings.get(env, PORT_VARIABLE);
    if (port != null) {
      b.port = Settings.parseInt("admin_port", port, 0, 65535, PORT_VARIABLE);
    }
    var bind = Settings.get(env, BIND_VARIABLE);
    if (bind != null) {
      b.bind = bind;
    }
    var token = Settings.get(env, TOKEN_VARIABLE);
    if (token != null) {
      b.applyToken(token, TOKEN_VARIABLE);
    }
    return b.build();
  }

  public boolean enabled() {
    return enabled;
  }

  /** The configured port; 0 means any free port (see {@code AdminServer.port()} for the one bound). */
  public int port() {
    return port;
  }

  public String bind() {
    return bind;
  }

  /** The bearer token, or {@code null}. Never logged. */
  public String token() {
    return token;
  }

  @Override
  public String toString() {
    return "AdminSettings{enabled=" + enabled + ", bind=" + bind + ", port=" + port
        + (token == null ? "" : ", token=****") + "}";
  }

  /** Builder of {@link AdminSettings}. */
  public static final class Builder {
    private boolean enabled = true;
    private int port = 8081;
    private String bind = "127.0.0.1";
    private String token;

    private Builder() {}

    public Builder enabled(boolean enabled) {
      this.enabled = enabled;
      return this;
    }

    /** 0 to 65535; 0 picks any free port. */
    public Builder port(int port) {
      this.port = Settings.requireBetween("admin_port", port, 0, 65535, Settings.BUILDER);
      return this;
    }

    /** The address to listen on; anything but loopback exposes health and metrics to the network. */
    public Builder bind(String address) {
      if (address == null || address.isBlank()) {
        throw new SettingException("admin_bind", "be an address such as 127.0.0.1", address, Settings.BUILDER);
      }
      this.bind = address;
      return this;
    }

    /** A bearer token of at least 16 characters that every request must carry. */
    public Builder token(String token) {
      applyToken(token, Settings.BUILDER);
      return this;
    }

    private void applyToken(String value, String source) {
      if (value == null || value.length() < MIN_TOKEN) {
        throw new SettingException("admin_token", "be at least " + MIN_TOKEN + " characters long",
            value == null ? null : "a token of " + value.length() + " characters", source);
      }
      this.token = value;
    }

    public AdminSettings build() {
      return new AdminSettings(this);
    }
  }
}
