package io.ballast.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.core.settings.AppEnv;
import io.ballast.core.settings.SettingException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PoolSettingsTest {
  private static final String SECRET = "pa55-s3cret";

  private static Map<String, String> env(String... pairs) {
    var map = new HashMap<String, String>();
    for (int i = 0; i < pairs.length; i += 2) {
      map.put(pairs[i], pairs[i + 1]);
    }
    return map;
  }

  @Test
  void fromEnv_readsEveryPartOfAPostgresqlUrl() {
    var s =
        PoolSettings.fromEnv(
            env(
                "DATABASE_URL",
                "postgresql://app:"
                    + SECRET
                    + "@db.internal:6432/orders"
                    + "?schema=sales&connection_limit=12&pool_timeout=7&connect_timeout=3&sslmode=require"));
    assertThat(s.hosts()).containsExactly("db.internal");
    assertThat(s.ports()).containsExactly(6432);
    assertThat(s.database()).isEqualTo("orders");
    assertThat(s.username()).isEqualTo("app");
    assertThat(s.password()).isEqualTo(SECRET);
    assertThat(s.schema()).isEqualTo("sales");
    assertThat(s.connectionLimit()).isEqualTo(12);
    assertThat(s.poolTimeout()).isEqualTo(Duration.ofSeconds(7));
    assertThat(s.connectTimeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(s.driverProperties()).containsExactly(Map.entry("sslmode", "require"));
    assertThat(s.jdbcUrl()).isEqualTo("jdbc:postgresql://db.internal:6432/orders");
    assertThat(s.name()).isEqualTo("primary");
  }

  @Test
  void fromEnv_acceptsPostgresAndJdbcSchemesAndSeveralHosts() {
    var a = PoolSettings.fromEnv(env("DATABASE_URL", "postgres://u:p@h/d"));
    assertThat(a.ports()).containsExactly(5432);
    var b =
        PoolSettings.fromEnv(
            env(
                "DATABASE_URL",
                "jdbc:postgresql://h1:5432,h2:5433/d?user=u&password="
                    + SECRET
                    + "&currentSchema=s1&ApplicationName=svc"));
    assertThat(b.hosts()).containsExactly("h1", "h2");
    assertThat(b.ports()).containsExactly(5432, 5433);
    assertThat(b.username()).isEqualTo("u");
    assertThat(b.password()).isEqualTo(SECRET);
    assertThat(b.schema()).isEqualTo("s1");
    assertThat(b.driverProperties()).containsEntry("ApplicationName", "svc");
    assertThat(b.jdbcUrl()).isEqualTo("jdbc:postgresql://h1:5432,h2:5433/d");
  }

  @Test
  void fromEnv_decodesPercentEscapesInCredentials() {
    var s = PoolSettings.fromEnv(env("DATABASE_URL", "postgresql://app%40corp:p%3Aw%2Fd+1@h/d"));
    assertThat(s.username()).isEqualTo("app@corp");
    assertThat(s.password()).isEqualTo("p:w/d+1");
  }

  @ParameterizedTest
  @CsvSource({"development,10,10", "staging,15,20", "production,20,30"})
  void appEnvProfiles_pickPoolSizeAndTimeout(String appEnv, int limit, int timeoutSeconds) {
    var s = PoolSettings.fromEnv(env("APP_ENV", appEnv, "DATABASE_URL", "postgresql://u@h/d"));
    assertThat(s.appEnv()).isEqualTo(AppEnv.parse(appEnv, "test"));
    assertThat(s.connectionLimit()).isEqualTo(limit);
    assertThat(s.poolTimeout()).isEqualTo(Duration.ofSeconds(timeoutSeconds));
    assertThat(s.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void environmentOverrides_winOverTheUrlAndTheProfile() {
    var s =
        PoolSettings.fromEnv(
            env(
                "APP_ENV",
                "production",
                "DATABASE_URL",
                "postgresql://u@h/d?connection_limit=12&pool_timeout=7&connect_timeout=3",
                "DB_CONNECTION_LIMIT",
                "40",
                "DB_POOL_TIMEOUT",
                "9",
                "DB_CONNECT_TIMEOUT",
                "2",
                "DB_INSTANCES",
                "4",
                "DB_PGBOUNCER",
                "true"));
    assertThat(s.connectionLimit()).isEqualTo(40);
    assertThat(s.poolTimeout()).isEqualTo(Duration.ofSeconds(9));
    assertThat(s.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(s.instances()).isEqualTo(4);
    assertThat(s.pgbouncer()).isTrue();
  }

  @Test
  void builder_buildsTheSameSettingsAsTheEnvironment() {
    var s =
        PoolSettings.builder(AppEnv.STAGING)
            .host("h")
            .port(6543)
            .database("d")
            .username("u")
            .password(SECRET)
            .schema("s")
            .connectionLimit(7)
            .poolTimeout(Duration.ofMillis(1500))
            .connectTimeout(Duration.ofSeconds(2))
            .pgbouncer(true)
            .instances(3)
            .name("reports")
            .driverProperty("sslmode", "disable")
            .build();
    assertThat(s.jdbcUrl()).isEqualTo("jdbc:postgresql://h:6543/d");
    assertThat(s.poolTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(s.name()).isEqualTo("reports");
    assertThat(s.appEnv()).isEqualTo(AppEnv.STAGING);
    assertThat(s)
        .hasToString(
            "PoolSettings{name=reports, url=postgresql://****@h:6543/d, appEnv=staging, schema=s,"
                + " connection_limit=7, pool_timeout=1500ms, connect_timeout=2s, pgbouncer=true, instances=3,"
                + " driverProperties={sslmode=disable}}");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "postgresql://u:pw@h/d?connection_limit=-5 | connection_limit must be between 1 and 1000, but was -5 (from DATABASE_URL)",
        "postgresql://u:pw@h/d?connection_limit=1001 | connection_limit must be between 1 and 1000, but was 1001 (from DATABASE_URL)",
        "postgresql://u:pw@h/d?connection_limit=ten | connection_limit must be a whole number between 1 and 1000, but was ten (from DATABASE_URL)",
        "postgresql://u:pw@h/d?pool_timeout=0 | pool_timeout must be between 250ms and 1h, but was 0s (from DATABASE_URL)",
        "postgresql://u:pw@h/d?pool_timeout=1.5 | pool_timeout must be a whole number of seconds, between 250ms and 1h, but was 1.5 (from DATABASE_URL)",
        "postgresql://u:pw@h/d?connect_timeout=301 | connect_timeout must be between 1s and 5m, but was 301s (from DATABASE_URL)",
        "postgresql://u:pw@h/d?pgbouncer=yes | pgbouncer must be true or false, but was yes (from DATABASE_URL)",
        "postgresql://u:pw@h/d?schema=a;drop | schema must be a plain identifier ([A-Za-z_][A-Za-z0-9_$]*, at most 63 characters), but was a;drop (from DATABASE_URL)",
        "postgresql://u:pw@h:99999/d | DATABASE_URL must have a port between 1 and 65535, but was postgresql://****@h:99999/d (from DATABASE_URL)",
        "postgresql://u:pw@h:abc/d | DATABASE_URL must have a port that is a whole number between 1 and 65535, but was postgresql://****@h:abc/d (from DATABASE_URL)",
        "postgresql://u:pw@h:5432 | DATABASE_URL must name a database (postgresql://user:pass@host:5432/<database>), but was postgresql://****@h:5432 (from DATABASE_URL)",
        "postgresql://u:pw@h:5432/ | DATABASE_URL must name a database (postgresql://user:pass@host:5432/<database>), but was postgresql://****@h:5432/ (from DATABASE_URL)",
        "postgresql://u:pw@/d | DATABASE_URL must name a host (postgresql://user:pass@<host>:5432/db), but was postgresql://****@/d (from DATABASE_URL)",
        "mysql://u:pw@h/d | DATABASE_URL must start with postgresql://, postgres:// or jdbc:postgresql://, but was a URL with scheme mysql (mysql://****@h/d) (from DATABASE_URL)",
        "not a url at all | DATABASE_URL must start with postgresql://, postgres:// or jdbc:postgresql://, but was not a url at all (from DATABASE_URL)",
        "postgresql://u:p%zz@h/d | DATABASE_URL must use valid percent-escapes (%XX), but was postgresql://****@h/d (from DATABASE_URL)",
      })
  void badDatabaseUrl_failsNamingSettingRuleValueAndSource(String url, String message) {
    assertThatThrownBy(() -> PoolSettings.fromEnv(env("DATABASE_URL", url)))
        .isInstanceOf(SettingException.class)
        .hasMessage(message);
  }

  @Test
  void unknownUrlParameter_isRefusedRatherThanIgnored() {
    assertThatThrownBy(
            () -> PoolSettings.fromEnv(env("DATABASE_URL", "postgresql://u@h/d?conection_limit=5")))
        .isInstanceOf(SettingException.class)
        .hasMessageStartingWith(
            "parameter conection_limit must be one of schema, connection_limit, pool_timeout,"
                + " connect_timeout, pgbouncer or a pgjdbc connection property")
        .hasMessageEndingWith("but was conection_limit=5 (from DATABASE_URL)");
  }

  @Test
  void badEnvironmentOverrides_nameTheVariable() {
    var url = "postgresql://u@h/d";
    assertThatThrownBy(
            () -> PoolSettings.fromEnv(env("DATABASE_URL", url, "DB_CONNECTION_LIMIT", "0")))
        .hasMessage(
            "connection_limit must be between 1 and 1000, but was 0 (from DB_CONNECTION_LIMIT)");
    assertThatThrownBy(() -> PoolSettings.fromEnv(env("DATABASE_URL", url, "DB_POOL_TIMEOUT", "x")))
        .hasMessage(
            "pool_timeout must be a whole number of seconds, between 250ms and 1h, but was x (from DB_POOL_TIMEOUT)");
    assertThatThrownBy(
            () ->
                PoolSettings.fromEnv(env("DATABASE_URL", url, "DB_CONNECT_TIMEOUT_SECONDS", "-1")))
        .hasMessage(
            "connect_timeout must be between 1s and 5m, but was -1s (from DB_CONNECT_TIMEOUT_SECONDS)");
    assertThatThrownBy(() -> PoolSettings.fromEnv(env("DATABASE_URL", url, "DB_INSTANCES", "0")))
        .hasMessage("instances must be between 1 and 1000, but was 0 (from DB_INSTANCES)");
    assertThatThrownBy(() -> PoolSettings.fromEnv(env("DATABASE_URL", url, "APP_ENV", "qa")))
        .hasMessage(
            "APP_ENV must be one of development, staging, production, but was qa (from APP_ENV)");
  }

  @Test
  void
      timeoutsFromTheEnvironment_carryTheirUnit_theOldNamesStillWork_andToBuilderKeepsEverything() {
    var s =
        PoolSettings.fromEnv(
            env(
                "DATABASE_URL",
                "postgresql://u:p@h:6000/d?schema=s&sslmode=disable",
                "DB_POOL_TIMEOUT_SECONDS",
                "4",
                "DB_CONNECT_TIMEOUT",
                "3"));
    assertThat(s.poolTimeout()).isEqualTo(Duration.ofSeconds(4));
    assertThat(s.connectTimeout()).isEqualTo(Duration.ofSeconds(3));
    var copy = PoolSettings.from(s).connectionLimit(3).build();
    assertThat(copy.connectionLimit()).isEqualTo(3);
    assertThat(copy.poolTimeout()).isEqualTo(Duration.ofSeconds(4));
    assertThat(copy.ports()).containsExactly(6000);
    assertThat(copy.schema()).isEqualTo("s");
    assertThat(copy.password()).isEqualTo("p");
    assertThat(copy.driverProperties()).containsEntry("sslmode", "disable");
    assertThat(s.connectionLimit()).isEqualTo(10);
  }

  @Test
  void missingDatabaseUrl_saysWhatToSet() {
    assertThatThrownBy(() -> PoolSettings.fromEnv(env()))
        .hasMessage(
            "DATABASE_URL must be set to postgresql://user:pass@host:5432/db, but was unset (from environment)");
  }

  @Test
  void builder_checksEachValueAtTheSetterAndCompletenessAtBuild() {
    assertThatThrownBy(() -> PoolSettings.builder().connectionLimit(0))
        .hasMessage("connection_limit must be between 1 and 1000, but was 0 (from builder)");
    assertThatThrownBy(() -> PoolSettings.builder().poolTimeout(Duration.ofMillis(100)))
        .hasMessage("pool_timeout must be between 250ms and 1h, but was 100ms (from builder)");
    assertThatThrownBy(() -> PoolSettings.builder().connectTimeout(Duration.ofMillis(1500)))
        .hasMessage("connect_timeout must be whole seconds, but was 1500ms (from builder)");
    assertThatThrownBy(() -> PoolSettings.builder().name("bad name"))
        .hasMessage(
            "name must match [A-Za-z0-9][A-Za-z0-9_.-]{0,62}, but was bad name (from builder)");
    assertThatThrownBy(() -> PoolSettings.builder().host("h").username("u").build())
        .hasMessage(
            "database must be set, through DATABASE_URL or the builder's url(…) or database(…), but was unset"
                + " (from builder)");
    assertThatThrownBy(() -> PoolSettings.builder().url("postgresql://h/d").build())
        .hasMessage(
            "username must be set, through DATABASE_URL or the builder's url(…) or username(…), but was unset"
                + " (from builder)");
  }

  @Test
  void password_neverAppearsInToStringOrErrors() {
    var urls =
        List.of(
            "postgresql://app:" + SECRET + "@h/d?connection_limit=0",
            "postgresql://app:" + SECRET + "@h",
            "ftp://app:" + SECRET + "@h/d",
            "jdbc:postgresql://h/d?user=app&password=" + SECRET + "&connection_limit=x",
            "jdbc:postgresql://h/d?password=" + SECRET + "&bogus=1",
            "postgresql://app:" + SECRET + "@h/d?sslpassword=" + SECRET + "&nope=1");
    for (var url : urls) {
      assertThatThrownBy(() -> PoolSettings.fromEnv(env("DATABASE_URL", url)))
          .as(url)
          .isInstanceOf(SettingException.class)
          .hasMessageNotContaining(SECRET);
    }
    var ok =
        PoolSettings.fromEnv(
            env("DATABASE_URL", "postgresql://app:" + SECRET + "@h/d?sslpassword=" + SECRET));
    assertThat(ok.toString())
        .doesNotContain(SECRET)
        .contains("****@h:5432/d")
        .doesNotContain("app:")
        .contains("sslpassword=****");
    assertThat(ok.maskedUrl()).doesNotContain(SECRET);
    assertThat(DatabaseUrl.parse("postgresql://app:" + SECRET + "@h/d", "test").toString())
        .doesNotContain(SECRET);
  }
}
