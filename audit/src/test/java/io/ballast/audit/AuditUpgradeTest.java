package io.ballast.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.testkit.PostgresExtension;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A database audited under version 1 of the audit schema keeps its tables audited, with their
 * options, after V2.
 */
class AuditUpgradeTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  private static Flyway flyway(String target) {
    return Flyway.configure(AuditUpgradeTest.class.getClassLoader())
        .dataSource(PG.dataSource())
        .locations("classpath:io/ballast/audit/db")
        .table("flyway_schema_history_audit")
        .target(target)
        .load();
  }

  @Test
  void tablesAuditedUnderVersionOneStayAuditedWithTheirOptions() throws Exception {
    flyway("1").migrate();
    PG.execute(
        "create table people (id int primary key, name text, secret text, ssn text)",
        "select ballast_audit.enable('people', '{secret}', '{ssn}')",
        "insert into people values (1, 'Ann', 's1', '123')");

    flyway("latest").migrate();

    PG.execute(
        "update people set name = 'Anne', ssn = '456' where id = 1",
        "delete from people where id = 1");
    try (var c = PG.connect();
        var st = c.createStatement()) {
      var rs =
          st.executeQuery(
              "select operation, record_id::text, coalesce(new_row, old_row)::text, "
                  + "array_to_string(changed_columns, ',') from ballast_audit.log where table_name = 'people' order by id");
      var rows = new ArrayList<String>();
      while (rs.next()) {
        rows.add(
            rs.getString(1)
                + " "
                + rs.getString(2)
                + " "
                + rs.getString(3)
                + " "
                + rs.getString(4));
      }
      assertThat(rows)
          .containsExactly(
              "INSERT {\"id\": 1} {\"id\": 1, \"ssn\": \"[redacted]\", \"name\": \"Ann\"} null",
              "UPDATE {\"id\": 1} {\"id\": 1, \"ssn\": \"[redacted]\", \"name\": \"Anne\"} name,ssn",
              "DELETE {\"id\": 1} {\"id\": 1, \"ssn\": \"[redacted]\", \"name\": \"Anne\"} null");
      rs =
          st.executeQuery(
              "select p.proname from pg_trigger t join pg_proc p on p.oid = t.tgfoid "
                  + "where t.tgrelid = 'people'::regclass order by t.tgname");
      var functions = new ArrayList<String>();
      while (rs.next()) {
        functions.add(rs.getString(1));
      }
      rs =
          st.executeQuery(
              "select 'capture_' || 'people'::regclass::oid, to_regprocedure('ballast_audit.capture()')");
      rs.next();
      assertThat(functions)
          .isEqualTo(List.of(rs.getString(1), rs.getString(1), rs.getString(1), rs.getString(1)));
      assertThat(rs.getString(2)).as("the generic version 1 trigger function is gone").isNull();
    }
  }
}
