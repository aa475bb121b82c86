package io.ballast.pool;

import io.ballast.core.settings.SettingException;
import io.ballast.core.settings.Urls;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A parsed {@code DATABASE_URL}: {@code postgresql://user:pass@host:5432/db?param=value&…}, also
 * {@code postgres://…} and {@code jdbc:postgresql://host:5432/db?user=…&password=…}. Several hosts
 * may be given comma-separated ({@code host1:5432,host2:5433}), as pgjdbc accepts. Percent-escapes
 * in the user and password are decoded. Immutable.
 *
 * <p>Parsing checks form only (scheme, hosts, ports, database); {@link PoolSettings} gives the
 * parameters their meaning. Neither the user name nor the password is ever part of {@link
 * #toString()} or of an error message, whatever the URL looks like (see {@link #mask(String)}).
 *
 * @param hosts host names, at least one
 * @param ports one port per host
 * @param database the database name
 * @param user the user, or {@code null} if the URL has none
 * @param password the password, or {@code null}
 * @param parameters the query parameters in order, without {@code user} and {@code password}
 */
record DatabaseUrl(
    List<String> hosts,
    List<Integer> ports,
    String database,
    String user,
    String password,
    Map<String, String> parameters) {
  private static final Pattern PARAMETER_START =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]*=.*", Pattern.DOTALL);

  public DatabaseUrl {
    hosts = List.copyOf(hosts);
    ports = List.copyOf(ports);
    parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
  }

  /**
   * Parses {@code url}.
   *
   * @param source where the URL came from, for error messages ({@code DATABASE_URL} or {@code
   *     builder})
   * @throws SettingException when the URL is not of a form above, with the URL's password masked
   */
  public static DatabaseUrl parse(String url, String source) {
    if (url == null || url.isBlank()) {
      throw new SettingException(
          "DATABASE_URL", "be set to postgresql://user:pass@host:5432/db", null, source);
    }
    var raw = url.trim();
    var masked = Urls.redact(raw);
    String rest;
    if (raw.startsWith("postgresql://")) {
      rest = raw.substring("postgresql://".length());
    } else if (raw.startsWith("postgres://")) {
      rest = raw.substring("postgres://".length());
    } else if (raw.startsWith("jdbc:postgresql://")) {
      rest = raw.substring("jdbc:postgresql://".length());
    } else {
      var scheme = raw.contains("://") ? raw.substring(0, raw.indexOf("://")) : null;
      throw new SettingException(
          "DATABASE_URL",
          "start with postgresql://, postgres:// or jdbc:postgresql://",
          scheme == null ? masked : "a URL with scheme " + scheme + " (" + masked + ")",
          source);
    }

    // User information first: a password may hold unencoded / ? @ (wrong, but it must not be
    // mistaken for the
    // host or the query, nor echoed in a message).
    String userInfo = null;
    var at = Urls.userInfoEnd(rest);
    if (at >= 0) {
      userInfo = rest.substring(0, at);
      rest = rest.substring(at + 1);
    }
    String query = null;
    var q = rest.indexOf('?');
    if (q >= 0) {
      query = rest.substring(q + 1);
      rest = rest.substring(0, q);
    }
    var slash = rest.indexOf('/');
    var hostPart = slash >= 0 ? rest.substring(0, slash) : rest;
    var database = slash >= 0 ? decode(rest.substring(slash + 1), masked, source) : "";

    var hosts = new ArrayList<String>();
    var ports = new ArrayList<Integer>();
    if (hostPart.isEmpty()) {
      throw new SettingException(
          "DATABASE_URL", "name a host (postgresql://user:pass@<host>:5432/db)", masked, source);
    }
    for (var spec : hostPart.split(",", -1)) {
      parseHost(spec, hosts, ports, masked, source);
    }
    if (database.isEmpty()) {
      throw new SettingException(
          "DATABASE_URL",
          "name a database (postgresql://user:pass@host:5432/<database>)",
          masked,
          source);
    }
    if (database.contains("/")) {
      throw new SettingException(
          "DATABASE_URL", "have a single path segment, the database name", masked, source);
    }

    String user = null;
    String password = null;
    if (userInfo != null && !userInfo.isEmpty()) {
      var colon = userInfo.indexOf(':');
      user = decode(colon >= 0 ? userInfo.substring(0, colon) : userInfo, masked, source);
      password = colon >= 0 ? decode(userInfo.substring(colon + 1), masked, source) : null;
    }

    var params = new LinkedHashMap<String, String>();
    if (query != null && !query.isEmpty()) {
      var pairs = query.split("&", -1);
      for (int i = 0; i < pairs.length; i++) {
        var pair = pairs[i];
        if (pair.isEmpty()) {
          continue;
        }
        if (isPasswordParameter(pair)) {
          // an unencoded & inside a password: its value runs to the next name=value pair
          while (i + 1 < pairs.length && !PARAMETER_START.matcher(pairs[i + 1]).matches()) {
            pair = pair + "&" + pairs[++i];
          }
        }
        var eq = pair.indexOf('=');
        var key = decode(eq >= 0 ? pair.substring(0, eq) : pair, masked, source);
        var value = eq >= 0 ? decode(pair.substring(eq + 1), masked, source) : "";
        if (key.equals("user")) {
          user = user == null ? value : user;
        } else if (key.equals("password")) {
          password = password == null ? value : password;
        } else if (params.putIfAbsent(key, value) != null) {
          throw new SettingException(
              "DATABASE_URL",
              "give each parameter once, but " + key + " appears twice in it",
              masked,
              source);
        }
      }
    }
    return new DatabaseUrl(hosts, ports, database, user, password, params);
  }

  private static void parseHost(
      String spec, List<String> hosts, List<Integer> ports, String masked, String source) {
    String host;
    String port = null;
    if (spec.startsWith("[")) {
      var close = spec.indexOf(']');
      if (close < 0) {
        throw new SettingException("DATABASE_URL", "close the IPv6 address with ]", masked, source);
      }
      host = spec.substring(0, close + 1);
      if (spec.length() > close + 1) {
        if (spec.charAt(close + 1) != ':') {
          throw new SettingException("DATABASE_URL", "have host:port pairs", masked, source);
        }
        port = spec.substring(close + 2);
      }
    } else {
      var colon = spec.indexOf(':');
      host = colon >= 0 ? spec.substring(0, colon) : spec;
      port = colon >= 0 ? spec.substring(colon + 1) : null;
    }
    if (host.isEmpty()) {
      throw new SettingException(
          "DATABASE_URL", "name a host (postgresql://user:pass@<host>:5432/db)", masked, source);
    }
    int number = 5432;
    if (port != null) {
      // the message shows the redacted URL, not the fragment: a fragment may be a piece of a
      // mangled password
      if (!port.matches("[0-9]{1,5}")) {
        throw new SettingException(
            "DATABASE_URL",
            "have a port that is a whole number between 1 and 65535",
            masked,
            source);
      }
      number = Integer.parseInt(port);
      if (number < 1 || number > 65535) {
        throw new SettingException(
            "DATABASE_URL", "have a port between 1 and 65535", masked, source);
      }
    }
    hosts.add(host);
    ports.add(number);
  }

  @SuppressWarnings(
      "OrphanedFormatString") // "%XX" in the message is the escape's shape, not a format
  private static String decode(String s, String masked, String source) {
    try {
      return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new SettingException("DATABASE_URL", "use valid percent-escapes (%XX)", masked, source);
    }
  }

  private static boolean isPasswordParameter(String pair) {
    var lower = pair.toLowerCase(java.util.Locale.ROOT);
    return lower.startsWith("password=") || lower.startsWith("sslpassword=");
  }

  /**
   * {@code url} with its user information and password parameters replaced by ****, whatever the
   * URL looks like (no character of the user name or password survives, even when the URL does not
   * parse).
   */
  public static String mask(String url) {
    return Urls.redact(url);
  }

  /** A JDBC URL for the hosts and database, without credentials or parameters. */
  public String jdbcUrl() {
    var sb = new StringBuilder("jdbc:postgresql://");
    for (int i = 0; i < hosts.size(); i++) {
      sb.append(i == 0 ? "" : ",").append(hosts.get(i)).append(':').append(ports.get(i));
    }
    return sb.append('/').append(database).toString();
  }

  /**
   * The URL without user information: {@code postgresql://****@host:5432/db}; no user name, no
   * password.
   */
  @Override
  public String toString() {
    var sb = new StringBuilder("postgresql://");
    if (user != null || password != null) {
      sb.append("****@");
    }
    sb.append(jdbcUrl().substring("jdbc:postgresql://".length()));
    return sb.toString();
  }
}
