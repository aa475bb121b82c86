package io.ballast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Proxy;
import java.sql.DriverManager;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;

class PostgresExtensionTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  @Test
  void eachClassGetsAFreshDatabaseOfItsOwn() throws SQLException {
    assertThat(PG.databaseName()).startsWith("t_postgresextensiontest_");
    try (var c = PG.connect();
        var s = c.createStatement();
        var rs =
            s.executeQuery(
                "select current_database(), count(*) from pg_tables where schemaname = 'public'"
                    + " group by 1 union all select current_database(), 0 limit 1")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo(PG.databaseName());
      assertThat(rs.getLong(2)).isZero();
    }
  }

  @Test
  void createRole_isAnUnprivilegedLoginThatCanUseTheDatabase() throws SQLException {
    var role = PG.createRole("app");
    assertThat(role.name()).startsWith("app_");
    try (var c = PG.connect();
        var s = c.createStatement();
        var rs =
            s.executeQuery(
                "select rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolcanlogin"
                    + " from pg_roles where rolname = '"
                    + role.name()
                    + "'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getBoolean(1)).isFalse();
      assertThat(rs.getBoolean(2)).isFalse();
      assertThat(rs.getBoolean(3)).isFalse();
      assertThat(rs.getBoolean(4)).isFalse();
      assertThat(rs.getBoolean(5)).isTrue();
    }
    try (var c = DriverManager.getConnection(role.jdbcUrl(), role.name(), role.password());
        var s = c.createStatement()) {
      s.execute("create table owned_by_app(id int)");
      try (var rs = s.executeQuery("select current_user")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo(role.name());
      }
    }
  }

  @Test
  void createRole_refusesNamesThatAreNotPlainIdentifiers() {
    assertThatThrownBy(() -> PG.createRole("x; drop database y"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("role name must match [a-z][a-z0-9_]{0,30}, but was x; drop database y");
  }

  @Test
  void afterAll_dropsTheDatabaseAndItsRoles() throws Exception {
    var extension = new PostgresExtension();
    var context = contextFor(PostgresExtensionTest.class);
    extension.beforeAll(context);
    var database = extension.databaseName();
    var role = extension.createRole("temp").name();
    extension.afterAll(context);

    try (var c = PG.connect();
        var s = c.createStatement()) {
      try (var rs =
          s.executeQuery("select count(*) from pg_database where datname = '" + database + "'")) {
        rs.next();
        assertThat(rs.getLong(1)).isZero();
      }
      try (var rs =
          s.executeQuery("select count(*) from pg_roles where rolname = '" + role + "'")) {
        rs.next();
        assertThat(rs.getLong(1)).isZero();
      }
    }
    assertThatThrownBy(extension::jdbcUrl)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("PostgresExtension is not active");
  }

  @Test
  void databaseUrl_isAPostgresqlUrlForThisDatabase() {
    assertThat(PG.databaseUrl())
        .startsWith("postgresql://" + PG.username())
        .endsWith("@" + PG.server().host() + ":" + PG.server().port() + "/" + PG.databaseName());
  }

  static ExtensionContext contextFor(Class<?> testClass) {
    return (ExtensionContext)
        Proxy.newProxyInstance(
            ExtensionContext.class.getClassLoader(),
            new Class<?>[] {ExtensionContext.class},
            (proxy, method, args) -> {
              if (method.getName().equals("getRequiredTestClass")) {
                return testClass;
              }
              throw new UnsupportedOperationException(method.getName());
            });
  }
}
