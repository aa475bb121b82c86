package io.ballast.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.core.data.Pagination;
import io.ballast.core.settings.AppEnv;
import io.ballast.testkit.PostgresExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Upgrades with data in place: a database audited under version 1 keeps its tables audited, with
 * their options; per-row entries written and sealed under version 2 stay readable and verifiable
 * after version 3 stores change sets, in one chain with the new entries; change sets written and
 * sealed under version 3 (one jsonb array) stay readable, found by key and verifiable after version
 * 4 stores them as arrays of row images.
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

  /** The tests share the class's database: each starts from no audit schema at all. */
  @BeforeEach
  void noAuditSchema() throws Exception {
    PG.execute(
        "drop schema if exists ballast_audit cascade",
        "drop table if exists flyway_schema_history_audit, people, stock, parts cascade");
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
                  + "array_to_string(changed_columns, ',') from ballast_audit.entries where table_name = 'people' "
                  + "order by id, ord");
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

  /** Seals the log as the version 2 sealer did: SHA-256 over the previous hash and the payload. */
  private static final String SEAL_AS_VERSION_TWO =
      "do $$ declare r record; prev bytea := decode(repeat('00', 32), 'hex'); n bigint := 0; "
          + "begin for r in select l.id, l.at, l.txid, ballast_audit.entry_payload(l) as p "
          + "from ballast_audit.log l order by l.txid, l.id loop n := n + 1; "
          + "insert into ballast_audit.chain (seq, log_id, log_at, prev_hash, hash) "
          + "values (n, r.id, r.at, prev, sha256(prev || convert_to(r.p, 'UTF8'))); "
          + "prev := sha256(prev || convert_to(r.p, 'UTF8')); "
          + "update ballast_audit.chain_state set last_txid = r.txid, last_id = r.id, last_seq = n, "
          + "last_hash = prev, key_id = 'sha256', sealed_at = now(); end loop; end $$";

  /**
   * Migrates to the latest version, checks that the chain sealed before verifies, then updates rows
   * 11 to 40 of {@code table} in one statement and seals its change set.
   */
  private static AuditLog upgradeAndSealOneChangeSet(DSLContext db, String table, String before)
      throws Exception {
    flyway("latest").migrate();
    var audit =
        new AuditLog(
            db, Pagination.withRandomKey(), AuditSettings.builder(AppEnv.DEVELOPMENT).build());
    assertThat(audit.verify().intact())
        .as("the chain sealed under " + before + " verifies after the upgrade")
        .isTrue();
    PG.execute("update " + table + " set qty = 2 where id between 11 and 40");
    assertThat(audit.seal()).as("one change set").isEqualTo(1);
    return audit;
  }

  @Test
  void perRowEntriesSealedUnderVersionTwo_stayReadableAndVerifiable_nextToChangeSets()
      throws Exception {
    flyway("2").migrate();
    PG.execute(
        "create table stock (id int primary key, qty int)",
        "select ballast_audit.enable('stock')",
        "insert into stock select g, 0 from generate_series(1, 50) g",
        "update stock set qty = 1 where id <= 20",
        SEAL_AS_VERSION_TWO);
    try (var c = PG.connect();
        var st = c.createStatement()) {
      var rs = st.executeQuery("select count(*) from ballast_audit.log");
      rs.next();
      assertThat(rs.getLong(1)).as("version 2 wrote one row per changed row").isEqualTo(70);
    }

    var db = DSL.using(PG.dataSource(), SQLDialect.POSTGRES);
    var audit = upgradeAndSealOneChangeSet(db, "stock", "version 2");
    var v = audit.verify();
    assertThat(v.intact()).isTrue();
    assertThat(v.checked()).isEqualTo(71);

    // record 15: inserted and updated per row under version 2, updated in a change set under 3
    var trail = audit.forRecord("stock", Map.of("id", 15), 10, null).items();
    assertThat(trail)
        .extracting(e -> e.operation() + " " + (e.row() > 0 ? "set" : "row") + " " + e.newRow())
        .containsExactly(
            "UPDATE set {\"id\": 15, \"qty\": 2}",
            "UPDATE row {\"id\": 15, \"qty\": 1}",
            "INSERT row {\"id\": 15, \"qty\": 0}");
    assertThat(trail.get(0).changedColumns()).containsExactly("qty");
    assertThat(trail.get(0).id()).isNotEqualTo(trail.get(1).id());

    // tampering is still found in a version 2 entry
    long victimSeq =
        db.fetchOne(
                "select c.seq from ballast_audit.chain c join ballast_audit.log l on l.id = c.log_id "
                    + "where l.operation = 'UPDATE' and l.record_id = '{\"id\": 3}'")
            .get(0, Long.class);
    PG.execute(
        "update ballast_audit.log set new_row = jsonb_set(new_row, '{qty}', '9') "
            + "where key_hashes is null and operation = 'UPDATE' and record_id = '{\"id\": 3}'");
    var broken = audit.verify();
    assertThat(broken.intact()).isFalse();
    assertThat(broken.badSeq()).isEqualTo(victimSeq);
    assertThat(broken.problem()).isEqualTo("its audit row was modified (hash mismatch)");
  }

  /** Seals the log as the version 3 sealer did: also over the change set's row digests. */
  private static final String SEAL_AS_VERSION_THREE =
      "do $$ declare r record; prev bytea := decode(repeat('00', 32), 'hex'); n bigint := 0; "
          + "begin for r in select l.id, l.at, l.txid, ballast_audit.entry_payload(l) as p, "
          + "ballast_audit.row_digests(l.rows) as d from ballast_audit.log l order by l.txid, l.id loop "
          + "n := n + 1; "
          + "insert into ballast_audit.chain (seq, log_id, log_at, prev_hash, hash, row_digests) "
          + "values (n, r.id, r.at, prev, sha256(prev || convert_to(r.p, 'UTF8') || coalesce(r.d, ''::bytea)), r.d); "
          + "prev := sha256(prev || convert_to(r.p, 'UTF8') || coalesce(r.d, ''::bytea)); "
          + "update ballast_audit.chain_state set last_txid = r.txid, last_id = r.id, last_seq = n, "
          + "last_hash = prev, key_id = 'sha256', sealed_at = now(); end loop; end $$";

  @Test
  void changeSetsSealedUnderVersionThree_stayReadableFoundByKeyAndVerifiable() throws Exception {
    flyway("3").migrate();
    PG.execute(
        "create table parts (id int primary key, qty int)",
        "select ballast_audit.enable('parts')",
        "insert into parts select g, 0 from generate_series(1, 50) g",
        "update parts set qty = 1 where id <= 20",
        SEAL_AS_VERSION_THREE);

    var db = DSL.using(PG.dataSource(), SQLDialect.POSTGRES);
    var audit = upgradeAndSealOneChangeSet(db, "parts", "version 3");
    var v = audit.verify();
    assertThat(v.intact()).as(v::toString).isTrue();
    assertThat(v.checked()).isEqualTo(3);

    // record 15: inserted and updated in version 3 change sets, updated in a version 4 one
    var trail = audit.forRecord("parts", Map.of("id", 15), 10, null).items();
    assertThat(trail)
        .extracting(e -> e.operation() + " " + e.row() + " " + e.oldRow() + " " + e.newRow())
        .containsExactly(
            "UPDATE 5 {\"id\": 15, \"qty\": 1} {\"id\": 15, \"qty\": 2}",
            "UPDATE 15 {\"id\": 15, \"qty\": 0} {\"id\": 15, \"qty\": 1}",
            "INSERT 15 null {\"id\": 15, \"qty\": 0}");
    assertThat(trail).allSatisfy(e -> assertThat(e.recordId()).isEqualTo("{\"id\": 15}"));
    assertThat(trail.get(0).changedColumns()).containsExactly("qty");
    assertThat(trail.get(1).changedColumns()).containsExactly("qty");

    // tampering inside a version 3 change set is still found, down to the row
    PG.execute(
        "update ballast_audit.log set rows = jsonb_set(rows, '{6,n,qty}', '9') "
            + "where rows is not null and operation = 'UPDATE'");
    var broken = audit.verify();
    assertThat(broken.intact()).isFalse();
    assertThat(broken.badSeq()).isEqualTo(2);
    assertThat(broken.badRow()).isEqualTo(7);
    assertThat(broken.problem())
        .isEqualTo("row 7 of its change set was modified (key {\"id\": 7})");
  }
}
