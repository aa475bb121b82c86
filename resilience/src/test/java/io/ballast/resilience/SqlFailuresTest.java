package io.ballast.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.resilience.SqlFailures.Kind;
import io.ballast.testkit.PostgresExtension;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.jooq.exception.DataAccessException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The classification table, with failures produced by a real PostgreSQL where one can produce them.
 */
class SqlFailuresTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  @BeforeAll
  static void schema() throws Exception {
    PG.execute(
        "create table t (id int primary key)",
        "insert into t values (1)",
        "create table secret (x int)");
  }

  private static SQLException failureOf(String sql) throws Exception {
    try (var c = PG.connect();
        var s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      return e;
    }
    throw new AssertionError("expected " + sql + " to fail");
  }

  @Test
  void callerErrors_fromARealServer_areNotTheDatabasesHealth() throws Exception {
    assertThat(SqlFailures.classify(failureOf("insert into t values (1)")))
        .isEqualTo(Kind.CALLER); // 23505
    assertThat(SqlFailures.classify(failureOf("selec 1"))).isEqualTo(Kind.CALLER); // 42601
    assertThat(SqlFailures.classify(failureOf("select 1 / 0"))).isEqualTo(Kind.CALLER); // 22012
    assertThat(SqlFailures.classify(failureOf("set statement_timeout = 10; select pg_sleep(1)")))
        .isEqualTo(Kind.CALLER); // 57014
    var role = PG.createRole("reader");
    try (var c = DriverManager.getConnection(PG.jdbcUrl(), role.name(), role.password());
        var s = c.createStatement()) {
      s.execute("select * from secret");
      throw new AssertionError("expected a permission error");
    } catch (SQLException e) {
      assertThat(e.getSQLState()).isEqualTo("42501");
      assertThat(SqlFailures.classify(e)).isEqualTo(Kind.CALLER);
    }
  }

  @Test
  void connectionFailures_fromARealServer_countAsUnavailable() throws Exception {
    try (var c =
        DriverManager.getConnection("jdbc:postgresql://127.0.0.1:1/x?connectTimeout=1", "u", "p")) {
      throw new AssertionError("expected a refused connection");
    } catch (SQLException e) {
      assertThat(e.getSQLState()).startsWith("08");
      assertThat(SqlFailures.classify(new DataAccessException("wrapped", e)))
          .isEqualTo(Kind.UNAVAILABLE);
    }
    try (var victim = PG.connect();
        var admin = PG.connect()) {
      var pid = victim.unwrap(org.postgresql.PGConnection.class).getBackendPID();
      admin.createStatement().execute("select pg_terminate_backend(" + pid + ")");
      assertThatThrownBy(() -> victim.createStatement().execute("select 1"))
          .isInstanceOfSatisfying(
              SQLException.class,
              e ->
                  assertThat(SqlFailures.classify(e))
                      .as(e.getSQLState())
                      .isEqualTo(Kind.UNAVAILABLE));
    }
  }

  @Test
  void theTable_bySqlState() {
    assertThat(SqlFailures.classify("08006")).isEqualTo(Kind.UNAVAILABLE);
    assertThat(SqlFailures.classify("57P01")).isEqualTo(Kind.UNAVAILABLE);
    assertThat(SqlFailures.classify("57P02")).isEqualTo(Kind.UNAVAILABLE);
    assertThat(SqlFailures.classify("57P03")).isEqualTo(Kind.UNAVAILABLE);
    assertThat(SqlFailures.classify("53300")).isEqualTo(Kind.UNAVAILABLE);
    assertThat(SqlFailures.classify("40001")).isEqualTo(Kind.RETRYABLE);
    assertThat(SqlFailures.classify("40p01")).isEqualTo(Kind.RETRYABLE);
    assertThat(SqlFailures.classify("23503")).isEqualTo(Kind.CALLER);
    assertThat(SqlFailures.classify("42P01")).isEqualTo(Kind.CALLER);
    assertThat(SqlFailures.classify("22001")).isEqualTo(Kind.CALLER);
    assertThat(SqlFailures.classify("57014")).isEqualTo(Kind.CALLER);
    assertThat(SqlFailures.classify(new SQLTransientConnectionException("pool timed out")))
        .isEqualTo(Kind.UNAVAILABLE);
    assertThat(SqlFailures.classify(new IllegalStateException("no SQL here")))
        .isEqualTo(Kind.UNKNOWN);
    assertThat(SqlFailures.classify(new DataAccessException("x", new SQLException("m", "53300"))))
        .isEqualTo(Kind.UNAVAILABLE);
  }
}
