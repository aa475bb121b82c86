package io.ballast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class PostgresServerTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  @Test
  void embeddedServer_stopsAndStartsOnTheSamePortKeepingItsData() throws SQLException {
    assumeTrue(
        PG.server().isEmbedded(),
        "stopping needs the embedded server; BALLAST_TEST_PG_URL names an external one");
    PG.execute("create table survivor(id int)", "insert into survivor values (42)");
    var port = PG.server().port();

    PG.server().stop();
    try {
      assertThat(PG.server().isRunning()).isFalse();
      assertThatThrownBy(PG::connect).isInstanceOf(SQLException.class);
    } finally {
      PG.server().start();
    }

    assertThat(PG.server().port()).isEqualTo(port);
    try (var c = PG.connect();
        var s = c.createStatement();
        var rs = s.executeQuery("select id from survivor")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getInt(1)).isEqualTo(42);
    }
  }

  @Test
  void externalUrl_acceptsTheUsualForms() {
    var a = PostgresServer.external("postgresql://admin:s%40cret@db.local:6543/maint");
    assertThat(a.host()).isEqualTo("db.local");
    assertThat(a.port()).isEqualTo(6543);
    assertThat(a.superuser()).isEqualTo("admin");
    assertThat(a.superuserPassword()).isEqualTo("s@cret");
    assertThat(a.jdbcUrl("x")).isEqualTo("jdbc:postgresql://db.local:6543/x");

    var b = PostgresServer.external("postgres://u@h/d");
    assertThat(b.port()).isEqualTo(5432);
    assertThat(b.superuserPassword()).isNull();

    var c = PostgresServer.external("jdbc:postgresql://h2:5433/d?user=root&password=pw");
    assertThat(c.host()).isEqualTo("h2");
    assertThat(c.port()).isEqualTo(5433);
    assertThat(c.superuser()).isEqualTo("root");
    assertThat(c.superuserPassword()).isEqualTo("pw");
  }

  @Test
  void externalUrl_wrongSchemeIsRefusedWithoutEchoingTheUrl() {
    assertThatThrownBy(() -> PostgresServer.external("mysql://u:topsecret@h/d"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("BALLAST_TEST_PG_URL")
        .hasMessageNotContaining("topsecret");
  }
}
