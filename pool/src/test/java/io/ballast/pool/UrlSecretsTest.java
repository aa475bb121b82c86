package io.ballast.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.testkit.FaultProxy;
import io.ballast.testkit.LogCapture;
import io.ballast.testkit.PostgresExtension;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Regression: a {@code DATABASE_URL} whose password held an unencoded {@code /}, {@code @} or
 * {@code ?} printed all or part of it in start-up errors. Every reserved character, in the password
 * and the user name, encoded (valid) and raw (usually invalid): no message, log line or {@code
 * toString} shows either.
 */
class UrlSecretsTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  /** RFC 3986 gen-delims and sub-delims, plus % space and a quote. */
  static final String RESERVED = ":/?#[]@!$&'()*+,;=% \"";

  static final String HEAD = "Zq7Head";
  static final String TAIL = "Wv9Tail";

  static List<String> secrets() {
    var out = new ArrayList<String>();
    for (int i = 0; i < RESERVED.length(); i++) {
      var c = RESERVED.charAt(i);
      out.add(HEAD + c + TAIL);
      out.add(HEAD + c + c + "x" + TAIL + c);
    }
    out.add(HEAD + RESERVED + TAIL);
    return out;
  }

  static List<String> urls(String user, String secret, String host) {
    var encUser = URLEncoder.encode(user, StandardCharsets.UTF_8);
    var encSecret = URLEncoder.encode(secret, StandardCharsets.UTF_8);
    return List.of(
        "postgresql://" + user + ":" + secret + "@" + host + "/d",
        "postgresql://" + user + ":" + secret + "@" + host + "/d?connection_limit=0",
        "postgresql://" + user + ":" + secret + "@" + host,
        "postgresql://" + user + ":" + secret + "@" + host + ":notaport/d",
        "postgres://" + user + ":" + secret + "@/d",
        "mysql://" + user + ":" + secret + "@" + host + "/d",
        user + ":" + secret + "@" + host + "/d",
        "postgresql://" + encUser + ":" + encSecret + "@" + host + "/d?connection_limit=0",
        "postgresql://" + encUser + ":" + encSecret + "@" + host + ":99999/d",
        "jdbc:postgresql://" + host + "/d?user=" + encUser + "&password=" + secret + "&bogus=1",
        "jdbc:postgresql://"
            + host
            + "/d?user="
            + encUser
            + "&password="
            + secret
            + "&connection_limit=x",
        "postgresql://" + encUser + "@" + host + "/d?sslpassword=" + secret + "&nope=1");
  }

  private static void assertClean(String what, String text) {
    assertThat(text).as(what).doesNotContain(HEAD).doesNotContain(TAIL);
  }

  private static String messages(Throwable e) {
    var sb = new StringBuilder();
    for (var t = e; t != null; t = t.getCause()) {
      sb.append(t).append('\n');
    }
    return sb.toString();
  }

  @Test
  void reservedCharactersInPasswordOrUser_neverReachAMessageOrToString() {
    var checked = 0;
    for (var secret : secrets()) {
      var urls = new ArrayList<>(urls("app", secret, "h"));
      urls.addAll(urls(secret, "pw", "h"));
      for (var url : urls) {
        try {
          var settings = PoolSettings.fromEnv(Map.of("DATABASE_URL", url));
          assertClean(url, settings.toString());
          assertClean(url, settings.maskedUrl());
          assertClean(url, PoolSettings.builder().url(url).build().toString());
        } catch (RuntimeException e) {
          assertClean(url, messages(e));
        }
        assertClean(url, DatabaseUrl.mask(url));
        checked++;
      }
    }
    assertThat(checked).isGreaterThan(400);
  }

  @Test
  void encodedReservedPassword_connectsToARealServer_andNothingLogsIt() throws Exception {
    var role = PG.createRole("secretive");
    var secret = HEAD + RESERVED + TAIL;
    PG.execute("ALTER ROLE " + role.name() + " PASSWORD '" + secret.replace("'", "''") + "'");
    var url =
        "postgresql://"
            + role.name()
            + ":"
            + URLEncoder.encode(secret, StandardCharsets.UTF_8)
            + "@"
            + role.host()
            + ":"
            + role.port()
            + "/"
            + role.database();
    try (var logs = new LogCapture()) {
      try (var app =
          Ballast.start(
              new CoreModule(CoreSettings.defaults()),
              new PoolModule(PoolSettings.fromEnv(Map.of("DATABASE_URL", url))))) {
        assertThat(app.get(DSLContext.class).fetchValue("select current_user"))
            .isEqualTo(role.name());
        assertClean("pool", app.get(Pool.class).toString());
      }
      // a server that cannot be reached (the test server trusts loopback, so a wrong password would
      // connect):
      // the failure names the server, never the secret
      try (var proxy = FaultProxy.to(role.host(), role.port())) {
        proxy.cut();
        var unreachable =
            url.replace(
                "@" + role.host() + ":" + role.port(), "@" + proxy.host() + ":" + proxy.port());
        try (var app =
            Ballast.start(
                new CoreModule(CoreSettings.defaults()),
                new PoolModule(
                    PoolSettings.fromEnv(
                        Map.of(
                            "DATABASE_URL",
                            unreachable,
                            "DB_CONNECT_TIMEOUT_SECONDS",
                            "1",
                            "DB_POOL_TIMEOUT_SECONDS",
                            "1"))))) {
          throw new AssertionError("started without a server");
        } catch (RuntimeException e) {
          assertThat(messages(e)).contains(proxy.host() + ":" + proxy.port());
          assertClean("start-up failure", messages(e));
        }
      }
      assertThat(logs.lines()).isNotEmpty();
      for (var line : logs.lines()) {
        assertClean("log", line);
      }
    }
  }
}
