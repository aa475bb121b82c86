package io.ballast.audit;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;

/**
 * The audit log's hash chain. Sealing appends every audit row that can no longer change (its
 * transaction id is below the oldest transaction still running, so it has committed or rolled back
 * for good) in (txid, id) order: {@code hash = HMAC-SHA256(key, prev_hash || payload)}, or SHA-256
 * without a key. Rows are sealed after the fact rather than chained by the trigger, because
 * chaining at write time would serialize every audited write in the database on one lock until
 * commit.
 *
 * <p>Thread-safe; instances that share a database serialize on the chain's state row ({@code SKIP
 * LOCKED}).
 */
final class HashChain {
  private static final int BATCH = 1000;
  private static final byte[] GENESIS = new byte[32];

  private final SecretKeySpec key;
  private final String keyId;

  HashChain(String key) {
    this.key =
        key == null ? null : new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
    this.keyId =
        key == null
            ? "sha256"
            : "hmac-sha256:"
                + HexFormat.of()
                    .formatHex(
                        sha256(("ballast-audit-key-id:" + key).getBytes(StandardCharsets.UTF_8)),
                        0,
                        8);
  }

  /**
   * Seals what can be sealed, up to {@code BATCH} rows per transaction, until nothing is left or
   * {@code budget} has passed (checked between batches; {@code null}: no limit); returns the rows
   * sealed.
   */
  int sealAll(DSLContext db, Duration budget) {
    long deadline = budget == null ? 0 : System.nanoTime() + budget.toNanos();
    int total = 0;
    int n;
    do {
      n = sealBatch(db);
      total += n;
    } while (n == BATCH && (budget == null || System.nanoTime() - deadline < 0));
    return total;
  }

  private int sealBatch(DSLContext db) {
    return db.transactionResult(
        cfg -> {
          var tx = cfg.dsl();
          var state = chainState(tx, "for update skip locked");
          if (state == null) {
            return 0; // another instance is sealing
          }
          var stateKey = state.get("key_id", String.class);
          if (stateKey != null && !stateKey.equals(keyId)) {
            throw new AuditChainException(
                "the audit chain was sealed with key "
                    + stateKey
                    + ", but this instance has "
                    + keyId
                    + ": give every instance the same BALLAST_AUDIT_KEY (rows stay unsealed until then)");
          }
          long horizon =
              tx.fetchOne("select txid_snapshot_xmin(txid_current_snapshot())").get(0, Long.class);
          var rows =
              tx.fetch(
                  "select l.id, l.at, l.txid, ballast_audit.entry_payload(l) as payload from ballast_audit.log l "
                      + "where (l.txid, l.id) > (?, ?) and l.txid < ? order by l.txid, l.id limit "
                      + BATCH,
                  state.get("last_txid", Long.class),
                  state.get("last_id", Long.class),
                  horizon);
          if (rows.isEmpty()) {
            if (stateKey == null) {
              tx.execute("update ballast_audit.chain_state set key_id = ? where id = 1", keyId);
            }
            return 0;
          }
          long seq = state.get("last_seq", Long.class);
          byte[] prev = state.get("last_hash", byte[].class);
          int n = rows.size();
          var seqs = new Long[n];
          var ids = new Long[n];
          var ats = new OffsetDateTime[n];
          var prevs = new byte[n][];
          var hashes = new byte[n][];
          for (int i = 0; i < n; i++) {
            var row = rows.get(i);
            seqs[i] = ++seq;
            ids[i] = row.get("id", Long.class);
            ats[i] = row.get("at", OffsetDateTime.class);
            prevs[i] = prev;
            prev = hash(prev, row.get("payload", String.class));
            hashes[i] = prev;
          }
          // one statement for the whole batch, not one per entry
          tx.execute(
              "insert into ballast_audit.chain (seq, log_id, log_at, prev_hash, hash) "
                  + "select * from unnest(?::bigint[], ?::bigint[], ?::timestamptz[], ?::bytea[], ?::bytea[])",
              DSL.val(seqs, SQLDataType.BIGINT.array()),
              DSL.val(ids, SQLDataType.BIGINT.array()),
              DSL.val(ats, SQLDataType.TIMESTAMPWITHTIMEZONE.array()),
              DSL.val(prevs, SQLDataType.BLOB.array()),
              DSL.val(hashes, SQLDataType.BLOB.array()));
          long lastTxid = rows.get(n - 1).get("txid", Long.class);
          long lastId = ids[n - 1];
          tx.execute(
              "update ballast_audit.chain_state set last_txid = ?, last_id = ?, last_seq = ?, last_hash = ?, "
                  + "key_id = ?, sealed_at = now() where id = 1",
              lastTxid,
              lastId,
              seq,
              prev,
              keyId);
          return n;
        });
  }

  /** The chain's one state row, read under {@code lock} (a locking clause); null if skipped. */
  private static Record chainState(DSLContext tx, String lock) {
    return tx.fetchOne(
        "select last_txid, last_id, last_seq, last_hash, key_id from ballast_audit.chain_state "
            + "where id = 1 "
            + lock);
  }

  /** Walks the whole chain; see {@link AuditLog#verify()}. */
  ChainVerification verify(DSLContext db) {
    return db.transactionResult(
        cfg -> {
          var tx = cfg.dsl();
          // a share lock on the state row: sealers skip while the chain is being read, so it cannot
          // grow meanwhile
          var state = chainState(tx, "for share");
          var stateKey = state.get("key_id", String.class);
          long unsealed =
              tx.fetchOne(
                      "select count(*) from ballast_audit.log l where (l.txid, l.id) > (?, ?)",
                      state.get("last_txid", Long.class),
                      state.get("last_id", Long.class))
                  .get(0, Long.class);
          if (stateKey != null && !stateKey.equals(keyId)) {
            return new ChainVerification(
                false,
                0,
                0,
                0,
                null,
                null,
                "the chain was sealed with key "
                    + stateKey
                    + ", not with this instance's key "
                    + keyId,
                unsealed,
                null);
          }
          long checked = 0;
          long first = 0;
          long expected = 0;
          byte[] prev = null;
          try (var cursor =
              tx.resultQuery(
                      "select c.seq, c.log_id, c.prev_hash, c.hash, l.id as present, "
                          + "ballast_audit.entry_payload(l) as payload from ballast_audit.chain c "
                          + "left join ballast_audit.log l on l.id = c.log_id and l.at = c.log_at order by c.seq")
                  .fetchSize(1000)
                  .fetchLazy()) {
            for (var entry : cursor) {
              long seq = entry.get("seq", Long.class);
              long logId = entry.get("log_id", Long.class);
              byte[] entryPrev = entry.get("prev_hash", byte[].class);
              if (checked == 0) {
                first = seq;
                expected = seq;
                prev = entryPrev; // the first kept entry's link to dropped ones is taken on trust
              }
              String problem = null;
              if (seq != expected) {
                problem =
                    seq < expected
                        ? "chain position " + seq + " appears twice"
                        : "chain entries " + expected + ".." + (seq - 1) + " are missing";
              } else if (!Arrays.equals(entryPrev, prev)) {
                problem = "its link to the previous entry does not match";
              } else if (entry.get("present") == null) {
                problem = "its audit row was deleted";
              } else if (!Arrays.equals(
                  hash(prev, entry.get("payload", String.class)),
                  entry.get("hash", byte[].class))) {
                problem = "its audit row was modified (hash mismatch)";
              }
              if (problem != null) {
                return new ChainVerification(
                    false, checked, first, seq - 1, seq, logId, problem, unsealed, null);
              }
              prev = entry.get("hash", byte[].class);
              checked++;
              expected++;
            }
          }
          long lastSeq = state.get("last_seq", Long.class);
          byte[] head = checked == 0 ? GENESIS : prev;
          if (expected - 1 != lastSeq && !(checked == 0 && lastSeq == 0)) {
            return new ChainVerification(
                false,
                checked,
                first,
                expected - 1,
                expected,
                null,
                "the chain ends at entry "
                    + (expected - 1)
                    + " but was sealed up to entry "
                    + lastSeq
                    + " (entries at the end were deleted)",
                unsealed,
                null);
          }
          if (checked > 0 && !Arrays.equals(head, state.get("last_hash", byte[].class))) {
            return new ChainVerification(
                false,
                checked,
                first,
                lastSeq,
                lastSeq,
                null,
                "the last entry's hash does not match the sealed head",
                unsealed,
                null);
          }
          var orphan =
              tx.fetchOne(
                  "select l.id from ballast_audit.log l where (l.txid, l.id) <= (?, ?) and not exists "
                      + "(select 1 from ballast_audit.chain c where c.log_id = l.id and c.log_at = l.at) order by l.txid, l.id limit 1",
                  state.get("last_txid", Long.class),
                  state.get("last_id", Long.class));
          if (orphan != null) {
            return new ChainVerification(
                false,
                checked,
                first,
                lastSeq,
                null,
                orphan.get(0, Long.class),
                "audit row "
                    + orphan.get(0, Long.class)
                    + " is inside the sealed range but not in the chain (inserted)",
                unsealed,
                null);
          }
          return new ChainVerification(
              true,
              checked,
              checked == 0 ? 0 : first,
              lastSeq,
              null,
              null,
              null,
              unsealed,
              HexFormat.of().formatHex(head));
        });
  }

  private byte[] hash(byte[] prev, String payload) {
    var bytes = payload.getBytes(StandardCharsets.UTF_8);
    try {
      if (key == null) {
        var digest = MessageDigest.getInstance("SHA-256");
        digest.update(prev);
        return digest.digest(bytes);
      }
      var mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      mac.update(prev);
      return mac.doFinal(bytes);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 / HmacSHA256 must be available on every JVM", e);
    }
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 must be available on every JVM", e);
    }
  }
}
