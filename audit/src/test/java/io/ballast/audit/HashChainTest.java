package io.ballast.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.core.Ballast;
import io.ballast.core.settings.AppEnv;
import io.ballast.testkit.PostgresExtension;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.jooq.DSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Tamper evidence: every kind of tampering, made directly in SQL as a superuser, is found by
 * verify().
 */
class HashChainTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  private static final String KEY = "k".repeat(40);

  private static String url;
  private Ballast app;
  private DSLContext db;
  private AuditLog audit;

  @BeforeAll
  static void role() throws Exception {
    url = AuditFixture.appRole(PG, "app").databaseUrl();
  }

  @BeforeEach
  void start() throws Exception {
    app = AuditFixture.start(url, AuditFixture.manualSealing().key(KEY).build(), 3);
    db = app.get(DSLContext.class);
    audit = app.get(AuditLog.class);
    PG.execute(
        "truncate ballast_audit.chain, ballast_audit.chain_keys",
        "delete from ballast_audit.log",
        "truncate items",
        "update ballast_audit.chain_state set last_txid = 0, last_id = 0, last_seq = 0, "
            + "last_hash = decode(repeat('00', 32), 'hex'), key_id = null");
    // 40 change sets: 30 one-row inserts, 9 one-row updates, and a last update of 20 rows
    try (var scope = RequestContext.open(ActingContext.of("u", "t"))) {
      db.execute(
          "do $$ begin for i in 1..30 loop insert into items (id) values (i); end loop;"
              + " for i in 1..9 loop update items set n = 1 where id = i; end loop; end $$");
      db.execute("update items set n = 2 where id > 10");
    }
    PG.execute("delete from ballast_audit.log where operation = 'TRUNCATE'");
    assertThat(audit.seal()).isEqualTo(40);
    assertThat(audit.verify().intact()).isTrue();
  }

  @AfterEach
  void stop() {
    app.close();
  }

  private long logIdAt(long seq) {
    return db.fetchOne("select log_id from ballast_audit.chain where seq = ?", seq)
        .get(0, Long.class);
  }

  @Test
  void aSealingBudget_stopsAfterTheBatchItRunsOutIn_andTheRestIsSealedNextTime() {
    try (var scope = RequestContext.open(ActingContext.of("u", "t"))) {
      db.execute(
          "do $$ begin for i in 1000..3499 loop insert into items (id) values (i); end loop; end $$");
    }
    assertThat(audit.seal(Duration.ZERO)).isEqualTo(1000);
    assertThat(audit.verify())
        .satisfies(
            v -> {
              assertThat(v.intact()).as(v::toString).isTrue();
              assertThat(v.lastSeq()).isEqualTo(1040);
              assertThat(v.unsealed()).isEqualTo(1500);
            });
    assertThat(audit.seal(Duration.ofMinutes(5))).isEqualTo(1500);
    assertThat(audit.verify())
        .satisfies(
            v -> {
              assertThat(v.intact()).as(v::toString).isTrue();
              assertThat(v.checked()).isEqualTo(2540);
              assertThat(v.unsealed()).isZero();
            });
  }

  @Test
  void anUntouchedChain_isIntact_andNewRowsAreSealedAfterTheirTransactionEnds() {
    var v = audit.verify();
    assertThat(v.intact()).as(v::toString).isTrue();
    assertThat(v.checked()).isEqualTo(40);
    assertThat(v.firstSeq()).isEqualTo(1);
    assertThat(v.lastSeq()).isEqualTo(40);
    assertThat(v.head()).hasSize(64);
    db.transaction(
        cfg -> {
          cfg.dsl().execute("insert into items (id) values (100)");
          // this transaction is still running: its audit row cannot be sealed yet
          var other = app.get(AuditLog.class);
          var sealer = new Thread(() -> other.seal());
          sealer.start();
          sealer.join();
        });
    assertThat(audit.verify().unsealed()).isEqualTo(1);
    assertThat(audit.seal()).isEqualTo(1);
    assertThat(audit.verify())
        .satisfies(
            r -> {
              assertThat(r.intact()).as(r::toString).isTrue();
              assertThat(r.checked()).isEqualTo(41);
              assertThat(r.unsealed()).isZero();
            });
  }

  @Test
  void aModifiedRow_isReportedAsTheFirstBadEntry() throws Exception {
    long victim = logIdAt(17);
    PG.execute("update ballast_audit.log set user_id = 'mallory' where id = " + victim);
    var v = audit.verify();
    assertThat(v.intact()).isFalse();
    assertThat(v.badSeq()).isEqualTo(17);
    assertThat(v.badLogId()).isEqualTo(victim);
    assertThat(v.problem()).isEqualTo("its audit row was modified (hash mismatch)");
    assertThat(v.toString())
        .isEqualTo(
            "audit chain broken at entry 17 (audit row "
                + victim
                + "): its audit row was modified (hash mismatch)");
  }

  @Test
  void aModifiedJsonValue_isFound() throws Exception {
    long victim = logIdAt(35);
    PG.execute(
        "update ballast_audit.log set new_rows[1] = jsonb_set(new_rows[1]::jsonb, '{n}', '5')::json"
            + " where id = "
            + victim);
    var v = audit.verify();
    assertThat(v.badSeq()).isEqualTo(35);
    assertThat(v.badRow()).isEqualTo(1);
  }

  @Test
  void aModifiedRowInsideABulkChangeSet_isNamedByItsPosition() throws Exception {
    long victim = logIdAt(40);
    assertThat(
            db.fetchOne("select row_count from ballast_audit.log where id = ?", victim)
                .get(0, Integer.class))
        .isEqualTo(20);
    PG.execute(
        "update ballast_audit.log set new_rows[7] = jsonb_set(new_rows[7]::jsonb, '{n}', '7')::json"
            + " where id = "
            + victim);
    var v = audit.verify();
    assertThat(v.intact()).isFalse();
    assertThat(v.badSeq()).isEqualTo(40);
    assertThat(v.badRow()).isEqualTo(7);
    var key =
        db.fetchOne(
            "select record_id::text from ballast_audit.entries where id = ? and ord = 7", victim);
    assertThat(v.problem())
        .isEqualTo("row 7 of its change set was modified (key " + key.get(0, String.class) + ")");
    assertThat(v.toString()).contains("(audit row " + victim + ", row 7)");
  }

  @Test
  void aRowRemovedFromABulkChangeSet_isReportedAsDeleted() throws Exception {
    long victim = logIdAt(40);
    PG.execute(
        "update ballast_audit.log set old_rows = old_rows[1:11] || old_rows[13:],"
            + " new_rows = new_rows[1:11] || new_rows[13:] where id = "
            + victim);
    var v = audit.verify();
    assertThat(v.badSeq()).isEqualTo(40);
    assertThat(v.badRow()).isEqualTo(12);
    assertThat(v.problem()).startsWith("row 12 of its change set was deleted");
  }

  @Test
  void aRowAddedToABulkChangeSet_isReportedAsInserted() throws Exception {
    long victim = logIdAt(40);
    PG.execute(
        "update ballast_audit.log"
            + " set old_rows = old_rows[1:3] || '{\"id\": 999, \"n\": 0}'::json || old_rows[4:],"
            + " new_rows = new_rows[1:3] || '{\"id\": 999, \"n\": 2}'::json || new_rows[4:]"
            + " where id = "
            + victim);
    var v = audit.verify();
    assertThat(v.badSeq()).isEqualTo(40);
    assertThat(v.badRow()).isEqualTo(4);
    assertThat(v.problem()).isEqualTo("row 4 of its change set was inserted (key {\"id\": 999})");
  }

  @Test
  void aChangedRecordKeyInTheHeader_isAHashMismatch() throws Exception {
    long victim = logIdAt(40);
    PG.execute("update ballast_audit.log set key_hashes = key_hashes[2:] where id = " + victim);
    var v = audit.verify();
    assertThat(v.badSeq()).isEqualTo(40);
    assertThat(v.badRow()).isNull();
    assertThat(v.problem()).isEqualTo("its audit row was modified (hash mismatch)");
  }

  @Test
  void theSealedDigestsRewrittenToMatch_isAHashMismatch() throws Exception {
    long victim = logIdAt(40);
    PG.execute(
        "update ballast_audit.log set new_rows[7] = jsonb_set(new_rows[7]::jsonb, '{n}', '7')::json"
            + " where id = "
            + victim,
        "update ballast_audit.chain set row_digests = "
            + "(select ballast_audit.entry_digests(l) from ballast_audit.log l where id = "
            + victim
            + ") where seq = 40");
    var v = audit.verify();
    assertThat(v.badSeq()).isEqualTo(40);
    assertThat(v.problem()).isEqualTo("its audit row was modified (hash mismatch)");
  }

  @Test
  void aDeletedRow_isReported() throws Exception {
    long victim = logIdAt(5);
    PG.execute("delete from ballast_audit.log where id = " + victim);
    var v = audit.verify();
    assertThat(v.badSeq()).isEqualTo(5);
    assertThat(v.problem()).isEqualTo("its audit row was deleted");
  }

  @Test
  void aDeletedRowAndItsChainEntry_areReportedAsAGap() throws Exception {
    long victim = logIdAt(9);
    PG.execute(
        "delete from ballast_audit.log where id = " + victim,
        "delete from ballast_audit.chain where seq = 9");
    var v = audit.verify();
    assertThat(v.badSeq()).isEqualTo(10);
    assertThat(v.problem()).isEqualTo("chain entries 9..9 are missing");
  }

  @Test
  void aTruncatedTail_isReported() throws Exception {
    PG.execute(
        "delete from ballast_audit.log where id in (select log_id from ballast_audit.chain where seq > 37)",
        "delete from ballast_audit.chain where seq > 37");
    var v = audit.verify();
    assertThat(v.intact()).isFalse();
    assertThat(v.problem())
        .isEqualTo(
            "the chain ends at entry 37 but was sealed up to entry 40 (entries at the end "
                + "were deleted)");
  }

  @Test
  void anInsertedRow_insideTheSealedRange_isReported() throws Exception {
    long txid = db.fetchOne("select min(txid) from ballast_audit.log").get(0, Long.class);
    PG.execute(
        "insert into ballast_audit.log (txid, user_id, table_schema, table_name, operation, record_id, new_row) "
            + "values ("
            + txid
            + ", 'u', 'public', 'items', 'INSERT', '{\"id\": 999}', '{\"id\": 999, \"n\": 0}')");
    var v = audit.verify();
    assertThat(v.intact()).isFalse();
    assertThat(v.problem()).endsWith("is inside the sealed range but not in the chain (inserted)");
    assertThat(v.badLogId())
        .isEqualTo(db.fetchOne("select max(id) from ballast_audit.log").get(0, Long.class));
    // regression: the inserted-row case printed "entry null"
    assertThat(v.toString())
        .startsWith("audit chain broken at audit row " + v.badLogId() + ": audit row ")
        .doesNotContain("null");
  }

  @Test
  void aForgedEntry_recomputedWithoutTheKey_isReported() throws Exception {
    long victim = logIdAt(40);
    // the attacker rewrites the row and recomputes an unkeyed SHA-256 link, as they could without
    // the key
    PG.execute(
        "update ballast_audit.log set user_id = 'mallory' where id = " + victim,
        "update ballast_audit.chain c set hash = sha256(c.prev_hash || convert_to(ballast_audit.entry_payload(l), "
            + "'UTF8') || ballast_audit.entry_digests(l)) from ballast_audit.log l "
            + "where l.id = c.log_id and c.seq = 40",
        "update ballast_audit.chain_state set last_hash = (select hash from ballast_audit.chain where seq = 40)");
    assertThat(audit.verify().badSeq()).isEqualTo(40);
  }

  @Test
  void anInstanceWithAnotherKey_neitherSealsNorVerifies() {
    try (var other =
        AuditFixture.start(
            url,
            AuditSettings.builder(AppEnv.DEVELOPMENT)
                .sealInterval(Duration.ofHours(1))
                .key("z".repeat(40))
                .build(),
            2)) {
      var v = other.get(AuditLog.class).verify();
      assertThat(v.intact()).isFalse();
      assertThat(v.problem()).startsWith("the chain was sealed with key hmac-sha256:");
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> other.get(AuditLog.class).seal())
          .hasMessageContaining("give every instance the same BALLAST_AUDIT_KEY");
    }
  }

  @Test
  void rotatingTheKey_marksWhereTheNewKeyApplies_andVerifyUsesEachKeyForItsSpan() throws Exception {
    var newKey = "n".repeat(40);
    try (var rotated =
        AuditFixture.start(
            url, AuditFixture.manualSealing().key(newKey).previousKeys(KEY).build(), 2)) {
      var log = rotated.get(AuditLog.class);
      assertThat(log.verify().intact()).as("the old span verifies with the previous key").isTrue();
      db.execute("insert into items (id) values (200)");
      db.execute("insert into items (id) values (201)");
      assertThat(log.seal()).isEqualTo(2);
      assertThat(
              db.fetch("select from_seq, key_id from ballast_audit.chain_keys order by from_seq")
                  .map(r -> r.get(0, Long.class) + " " + r.get(1, String.class)))
          .containsExactly("0 " + HashChain.keyId(KEY), "41 " + HashChain.keyId(newKey));
      var v = log.verify();
      assertThat(v.intact()).as(v::toString).isTrue();
      assertThat(v.checked()).isEqualTo(42);

      // the instance that has only the old key can no longer seal or verify the chain
      assertThat(audit.verify().intact()).isFalse();
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> audit.seal())
          .hasMessageContaining("BALLAST_AUDIT_PREVIOUS_KEYS");

      // tampering is found in either span
      PG.execute("update ballast_audit.log set user_id = 'mallory' where id = " + logIdAt(42));
      assertThat(log.verify().badSeq()).isEqualTo(42);
      PG.execute("update ballast_audit.log set user_id = 'mallory' where id = " + logIdAt(3));
      assertThat(log.verify().badSeq()).isEqualTo(3);
    }
    // the new key alone cannot vouch for the span the old key sealed
    try (var withoutOld =
        AuditFixture.start(url, AuditFixture.manualSealing().key(newKey).build(), 2)) {
      var v = withoutOld.get(AuditLog.class).verify();
      assertThat(v.intact()).isFalse();
      assertThat(v.badSeq()).isEqualTo(1);
      assertThat(v.problem())
          .isEqualTo(
              "it was sealed with key "
                  + HashChain.keyId(KEY)
                  + ", which this instance does not have (BALLAST_AUDIT_PREVIOUS_KEYS)");
    }
  }

  @Test
  void anEntryForgedWithAnOldKey_afterTheRotation_isReported() throws Exception {
    var newKey = "n".repeat(40);
    try (var rotated =
        AuditFixture.start(
            url, AuditFixture.manualSealing().key(newKey).previousKeys(KEY).build(), 2)) {
      var log = rotated.get(AuditLog.class);
      db.execute("insert into items (id) values (300)");
      assertThat(log.seal()).isEqualTo(1);
      // someone who has only the old (perhaps leaked) key rewrites entry 41 and its link
      PG.execute("update ballast_audit.log set user_id = 'mallory' where id = " + logIdAt(41));
      var e =
          db.fetchOne(
              "select c.prev_hash, ballast_audit.entry_payload(l) as payload, "
                  + "ballast_audit.entry_digests(l) as digests from ballast_audit.chain c "
                  + "join ballast_audit.log l on l.id = c.log_id where c.seq = 41");
      var mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(
          new javax.crypto.spec.SecretKeySpec(
              KEY.getBytes(java.nio.charset.StandardCharsets.UTF_8), "HmacSHA256"));
      mac.update(e.get(0, byte[].class));
      mac.update(e.get(1, String.class).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      mac.update(e.get(2, byte[].class));
      var forged = mac.doFinal();
      db.execute("update ballast_audit.chain set hash = ? where seq = 41", forged);
      db.execute("update ballast_audit.chain_state set last_hash = ? where id = 1", forged);
      assertThat(log.verify().badSeq()).isEqualTo(41);
    }
  }

  @Test
  void retention_dropsWholeOldMonths_andVerificationStartsAtTheFirstKeptEntry() throws Exception {
    // an old month, with rows written then and sealed
    PG.execute(
        "create table ballast_audit.log_y2020m01 partition of ballast_audit.log "
            + "for values from ('2020-01-01 00:00+00') to ('2020-02-01 00:00+00')",
        "create table ballast_audit.chain_y2020m01 partition of ballast_audit.chain "
            + "for values from ('2020-01-01 00:00+00') to ('2020-02-01 00:00+00')",
        "truncate ballast_audit.chain",
        "delete from ballast_audit.log",
        "update ballast_audit.chain_state set last_txid = 0, last_id = 0, last_seq = 0, "
            + "last_hash = decode(repeat('00', 32), 'hex'), key_id = null",
        "insert into ballast_audit.log (at, operation, event) select timestamptz '2020-01-15 12:00+00', 'EVENT', "
            + "'old-' || g from generate_series(1, 5) g");
    db.execute("insert into items (id) values (500)");
    assertThat(audit.seal()).isEqualTo(6);
    var cutoff = OffsetDateTime.now(ZoneOffset.UTC).minusYears(1);
    assertThat(audit.dropBefore(cutoff)).containsExactly("chain_y2020m01", "log_y2020m01");
    assertThat(db.fetchOne("select count(*) from ballast_audit.log").get(0, Long.class))
        .isEqualTo(1);
    var v = audit.verify();
    assertThat(v.intact()).as(v::toString).isTrue();
    assertThat(v.firstSeq()).isEqualTo(6);
    assertThat(v.checked()).isEqualTo(1);
    // the partitions ahead are there, and creating them again is a no-op
    assertThat(audit.ensurePartitions()).isZero();
    var month = OffsetDateTime.now(ZoneOffset.UTC).plusMonths(2);
    assertThat(
            db.fetchOne(
                    "select to_regclass(?) is not null",
                    String.format(
                        "ballast_audit.log_y%04dm%02d", month.getYear(), month.getMonthValue()))
                .get(0, Boolean.class))
        .isTrue();
  }
}
