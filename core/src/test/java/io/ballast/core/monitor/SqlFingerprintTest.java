package io.ballast.core.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SqlFingerprintTest {

  @Test
  void inListsOfAnyLength_foldIntoOnePattern() {
    var two = SqlFingerprint.of("SELECT * FROM t WHERE id IN (?, ?)");
    var four = SqlFingerprint.of("select *\n  from t\n where id in (?, ?, ?, ?)");
    var literals = SqlFingerprint.of("select * from t where id in (1, 2, 3)");
    assertThat(two)
        .isEqualTo("select * from t where id in (?...)")
        .isEqualTo(four)
        .isEqualTo(literals);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "select name from users where email = 'alice@example.com' | select name from users where email = ?",
        "SELECT  name FROM users WHERE id = 42 -- hot path | select name from users where id = ?",
        "select /* tag */ 1 | select ?",
        "select * from t where a = $1 and b = $2 | select * from t where a = ? and b = ?",
        "select * from t where x = 'it''s' and y = -3.5e2 | select * from t where x = ? and y = ?",
        "select \"t1\".\"col2\" from \"t1\" where \"t1\".\"id\" = ? | select \"t1\".\"col2\" from \"t1\" where \"t1\".\"id\" = ?",
        "insert into t (a, b) values (?, ?), (?, ?), (?, ?) | insert into t (a, b) values (?, ?), ...",
        "select * from t where id = any (?::bigint[]) | select * from t where id = any (?)",
        "select * from t limit 10 offset 20 | select * from t limit ? offset ?",
      })
  void literalsBindMarkersCommentsAndWhitespace_areNormalised(String sql, String fingerprint) {
    assertThat(SqlFingerprint.of(sql)).isEqualTo(fingerprint);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "select id, name from customers where id = ? | SIMPLE",
        "select count(*) from orders where customer_id = ? | SIMPLE",
        "update accounts set balance = ? where id = ? | SIMPLE",
        "select * from orders where created_at > ? order by created_at | STANDARD",
        "select o.id from orders o join customers c on c.id = o.customer_id where c.id = ? | STANDARD",
        "select customer_id, sum(total) from orders group by customer_id | COMPLEX",
        "select id, row_number() over (partition by grp order by id) from t | COMPLEX",
        "with x as (select ?) select * from x | COMPLEX",
      })
  void classification_followsTheShapeOfTheStatement(String fingerprint, QueryClass expected) {
    assertThat(QueryClass.of(fingerprint)).isEqualTo(expected);
  }
}
