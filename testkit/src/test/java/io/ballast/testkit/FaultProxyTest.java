package io.ballast.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisURI;
import java.net.ConnectException;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Each mode of the proxy, proven with a real PostgreSQL and a real Redis behind it. */
class FaultProxyTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  @RegisterExtension static final RedisExtension REDIS = new RedisExtension();

  @Nested
  class WithPostgres {
    private Connection connectThrough(FaultProxy proxy, int socketTimeoutSeconds)
        throws SQLException {
      var props = new Properties();
      props.setProperty("user", PG.username());
      if (PG.password() != null) {
        props.setProperty("password", PG.password());
      }
      props.setProperty("connectTimeout", "2");
      props.setProperty("socketTimeout", Integer.toString(socketTimeoutSeconds));
      return DriverManager.getConnection(
          "jdbc:postgresql://" + proxy.host() + ":" + proxy.port() + "/" + PG.databaseName(),
          props);
    }

    private int selectOne(Connection c) throws SQLException {
      try (var s = c.createStatement();
          var rs = s.executeQuery("select 1")) {
        rs.next();
        return rs.getInt(1);
      }
    }

    @Test
    void passThrough_queriesWork() throws SQLException {
      try (var proxy = FaultProxy.to(PG.server().host(), PG.server().port());
          var c = connectThrough(proxy, 10)) {
        assertThat(proxy.mode()).isEqualTo(FaultProxy.Mode.PASS);
        assertThat(selectOne(c)).isEqualTo(1);
        assertThat(proxy.openConnections()).isEqualTo(1);
      }
    }

    @Test
    void cut_breaksOpenConnectionsAndRefusesNewOnes_restoreLetsThemIn() throws Exception {
      try (var proxy = FaultProxy.to(PG.server().host(), PG.server().port())) {
        var before = connectThrough(proxy, 10);
        assertThat(selectOne(before)).isEqualTo(1);

        proxy.cut();
        assertThatThrownBy(() -> selectOne(before)).isInstanceOf(SQLException.class);
        assertThat(before.isValid(1)).isFalse();
        assertThatThrownBy(() -> new Socket(proxy.host(), proxy.port()).close())
            .isInstanceOf(ConnectException.class);
        assertThatThrownBy(() -> connectThrough(proxy, 10))
            .isInstanceOf(SQLException.class)
            .hasRootCauseInstanceOf(ConnectException.class);

        proxy.restore();
        try (var after = connectThrough(proxy, 10)) {
          assertThat(selectOne(after)).isEqualTo(1);
        }
        before.close();
      }
    }

    @Test
    void delay_addsTheLatencyToEachRoundTrip() throws SQLException {
      try (var proxy = FaultProxy.to(PG.server().host(), PG.server().port());
          var c = connectThrough(proxy, 10)) {
        proxy.delay(Duration.ofMillis(300));
        var start = System.nanoTime();
        assertThat(selectOne(c)).isEqualTo(1);
        // request and response are each held back 300 ms: the lower bound is the behaviour under
        // test
        assertThat(Duration.ofNanos(System.nanoTime() - start))
            .isGreaterThanOrEqualTo(Duration.ofMillis(600));

        proxy.restore();
        assertThat(selectOne(c)).isEqualTo(1);
      }
    }

    @Test
    void blackhole_neverAnswers_restoreResetsTheBrokenConnection() throws SQLException {
      try (var proxy = FaultProxy.to(PG.server().host(), PG.server().port())) {
        var c = connectThrough(proxy, 1);
        proxy.blackhole();
        assertThatThrownBy(() -> selectOne(c))
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("An I/O error occurred");
        assertThatThrownBy(() -> connectThrough(proxy, 1)).isInstanceOf(SQLException.class);

        proxy.restore();
        assertThat(proxy.openConnections()).isZero();
        try (var after = connectThrough(proxy, 10)) {
          assertThat(selectOne(after)).isEqualTo(1);
        }
        c.close();
      }
    }
  }

  @Nested
  class WithRedis {
    private RedisClient clientThrough(FaultProxy proxy) {
      var uri =
          RedisURI.builder()
              .withHost(proxy.host())
              .withPort(proxy.port())
              .withTimeout(Duration.ofMillis(800))
              .build();
      return RedisClient.create(uri);
    }

    @Test
    void passThrough_commandsWork() {
      try (var proxy = FaultProxy.to(REDIS.server().host(), REDIS.server().port())) {
        var client = clientThrough(proxy);
        try (var c = client.connect()) {
          c.sync().set(REDIS.key("k"), "v");
          assertThat(c.sync().get(REDIS.key("k"))).isEqualTo("v");
        } finally {
          client.shutdown();
        }
      }
    }

    @Test
    void cut_refusesConnections_restoreLetsThemIn() {
      try (var proxy = FaultProxy.to(REDIS.server().host(), REDIS.server().port())) {
        var client = clientThrough(proxy);
        try {
          proxy.cut();
          assertThatThrownBy(client::connect).isInstanceOf(RedisConnectionException.class);
          proxy.restore();
          try (var c = client.connect()) {
            assertThat(c.sync().ping()).isEqualTo("PONG");
          }
        } finally {
          client.shutdown();
        }
      }
    }

    @Test
    void delay_holdsEveryReplyBack() {
      try (var proxy = FaultProxy.to(REDIS.server().host(), REDIS.server().port())) {
        var client = clientThrough(proxy);
        try (var c = client.connect()) {
          proxy.delay(Duration.ofMillis(150));
          var start = System.nanoTime();
          assertThat(c.sync().ping()).isEqualTo("PONG");
          assertThat(Duration.ofNanos(System.nanoTime() - start))
              .isGreaterThanOrEqualTo(Duration.ofMillis(300));
        } finally {
          client.shutdown();
        }
      }
    }

    @Test
    void blackhole_commandsTimeOut() {
      try (var proxy = FaultProxy.to(REDIS.server().host(), REDIS.server().port())) {
        var client = clientThrough(proxy);
        try (var c = client.connect()) {
          assertThat(c.sync().ping()).isEqualTo("PONG");
          proxy.blackhole();
          assertThatThrownBy(() -> c.sync().ping())
              .isInstanceOf(RedisCommandTimeoutException.class);
          proxy.restore();
        } finally {
          client.shutdown();
        }
      }
    }
  }
}
