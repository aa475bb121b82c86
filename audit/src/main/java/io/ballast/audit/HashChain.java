package io.ballast.audit;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;

/**
 * The audit log's hash chain. Sealing appends every audit entry that can no longer change (its
 * transaction id is below the oldest transaction still running, so it has committed or rolled back
 * for good) in (txid, id) order: {@code hash = HMAC-SHA256(key, prev_hash || payload ||
 * row_digests)}, or SHA-256 without a key. A change set's {@code row_digests} are 8 bytes of the
 * SHA-256 of each of its rows, kept in the chain entry, so verification can name the row that was
 * modified; an entry of earlier versions has none. Entries are sealed after the fact rather than
 * chained by the trigger, because chaining at write time would serialize every audited write in the
 * database on one lock until commit.
 *
 * <p>Keys: this instance seals with its key and verifies with it and its previous keys. When the
 * chain was sealed with one of the previous keys, the next sealing marks the position from which
 * the new key applies ({@code ballast_audit.chain_keys}); verification uses each key for its span.
 *
 * <p>Thread-safe; instances that share a database serialize on the chain's state row ({@code SKIP
 * LOCKED}).
 */
final class HashChain {
  private static final int BATCH = 1000;
  private static final byte[] GENESIS = new byte[32];
  private static final int DIGEST = 8;

  private final String keyId;

  /** Every key this instance has, by id: the current one and the previous ones. */
  private final Map<String, SecretKeySpec> keys = new LinkedHashMap<>();

  HashChain(String key) {
    this(key, List.of());
  }

  HashChain(String key, List<String> previousKeys) {
    this.keyId = keyId(key);
    keys.put(keyId, spec(key));
    for (var previous : previousKeys) {
      keys.putIfAbsent(keyId(previous), spec(previous));
    }
  }

  private static SecretKeySpec spec(String key) {
    return key == null
        ? null
        : new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
  }

  /** {@code sha256}, or {@code hmac-sha256:} and 16 hex digits of the key's fingerprint. */
  static String keyId(String key) {
    return key == null
        ? "sha256"
        : "hmac-sha256:"
            + HexFormat.of()
                .formatHex(
                    sha256(("ballast-audit-key-id:" + key).getBytes(StandardCharsets.UTF_8)), 0, 8);
  }

  /** The id of the key this instance seals with. */
  String keyId() {
    return keyId;
  }

  /**
   * Seals what can be sealed, up to {@code BATCH} entries per transaction, until nothing is left or
   * {@code budget} has passed (checked between batches; {@code null}: no limit); returns the
   * entries sealed.
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
          long seq = state.get("last_seq", Long.class);
          if (stateKey != null && !stateKey.equals(keyId)) {
            if (!keys.containsKey(stateKey)) {
              throw new AuditChainException(
                  "the audit chain was sealed with key "
                      + stateKey
                      + ", but this instance has "
                      + keyId
                      + ": give every instance the same BALLAST_AUDIT_KEY, or name the old key in"
                      + " BALLAST_AUDIT_PREVIOUS_KEYS to rotate to this one (rows stay unsealed"
                      + " until then)");
            }
            rotate(tx, stateKey, seq);
          }
          long horizon =
              tx.fetchOne("select txid_snapshot_xmin(txid_current_snapshot())").get(0, Long.class);
          var rows =
              tx.fetch(
                  "select l.id, l.at, l.txid, ballast_audit.entry_payload(l) as payload"
                      + " from ballast_audit.log l"
                      + " where (l.txid, l.id) > (?, ?) and l.txid < ? order by l.txid, l.id limit "
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
          int n = rows.size();
          var seqs = new Long[n];
          var ids = new Long[n];
          var ats = new OffsetDateTime[n];
          for (int i = 0; i < n; i++) {
            var row = rows.get(i);
            seqs[i] = seq + 1 + i;
            ids[i] = row.get("id", Long.class);
            ats[i] = row.get("at", OffsetDateTime.class);
          }
          // The row digests are computed where the rows are and written straight into the chain
          // entries (a change set's run to 8 bytes a row); only they come back, to be hashed. The
          // hashes follow in a second statement, 64 bytes an entry.
          var digests = new byte[n][];
          for (var r :
              tx.fetch(
                  "insert into ballast_audit.chain (seq, log_id, log_at, prev_hash, hash, row_digests)"
                      + " select v.seq, l.id, l.at, ''::bytea, ''::bytea, ballast_audit.entry_digests(l)"
                      + " from unnest(?::bigint[], ?::bigint[], ?::timestamptz[]) as v(seq, id, at)"
                      + " join ballast_audit.log l on l.id = v.id and l.at = v.at"
                      + " returning seq, row_digests",
                  DSL.val(seqs, SQLDataType.BIGINT.array()),
                  DSL.val(ids, SQLDataType.BIGINT.array()),
                  DSL.val(ats, SQLDataType.TIMESTAMPWITHTIMEZONE.array()))) {
            digests[(int) (r.get(0, Long.class) - seq - 1)] = r.get(1, byte[].class);
          }
          byte[] prev = state.get("last_hash", byte[].class);
          var prevs = new byte[n][];
          var hashes = new byte[n][];
          for (int i = 0; i < n; i++) {
            prevs[i] = prev;
            prev =
                hash(keys.get(keyId), prev, rows.get(i).get("payload", String.class), digests[i]);
            hashes[i] = prev;
          }
          tx.execute(
              "update ballast_audit.chain c set prev_hash = v.prev, hash = v.hash"
                  + " from unnest(?::bigint[], ?::timestamptz[], ?::bytea[], ?::bytea[])"
                  + " as v(seq, at, prev, hash) where c.seq = v.seq and c.log_at = v.at",
              DSL.val(seqs, SQLDataType.BIGINT.array()),
              DSL.val(ats, SQLDataType.TIMESTAMPWITHTIMEZONE.array()),
              DSL.val(prevs, SQLDataType.BLOB.array()),
              DSL.val(hashes, SQLDataType.BLOB.array()));
          seq += n;
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

  /**
   * Marks that this instance's key seals from the entry after {@code lastSeq} on; the span before
   * it keeps {@code oldKey} (marked from the chain's start when no span was marked yet).
   */
  private void rotate(DSLContext tx, String oldKey, long lastSeq) {
    var marked = tx.fetchOne("select count(*) from ballast_audit.chain_keys").get(0, Long.class);
    if (marked == 0) {
      tx.execute("insert into ballast_audit.chain_keys (from_seq, key_id) values (0, ?)", oldKey);
    }
    tx.execute(
        "insert into ballast_audit.chain_keys (from_seq, key_id) values (?, ?) "
            + "on conflict (from_seq) do update set key_id = excluded.key_id, marked_at = now()",
        lastSeq + 1,
        keyId);
    tx.execute("update ballast_audit.chain_state set key_id = ? where id = 1", keyId);
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
          // the key of each span: from chain_keys, else the one the chain was sealed with
          var spans = new TreeMap<Long, String>();
          for (var r : tx.fetch("select from_seq, key_id from ballast_audit.chain_keys")) {
            spans.put(r.get(0, Long.class), r.get(1, String.class));
          }
          if (spans.isEmpty() && stateKey != null) {
            spans.put(0L, stateKey);
          }
          if (stateKey != null && !keys.containsKey(stateKey)) {
            return broken(
                0,
                0,
                0,
                null,
                null,
                null,
                "the chain was sealed with key "
                    + stateKey
                    + ", not with this instance's key "
                    + keyId
                    + " (nor one of BALLAST_AUDIT_PREVIOUS_KEYS)",
                unsealed);
          }
          long checked = 0;
          long first = 0;
          long expected = 0;
          byte[] prev = null;
          try (var cursor =
              tx.resultQuery(
                      "select c.seq, c.log_id, c.prev_hash, c.hash, c.row_digests, l.id as present, "
                          + "ballast_audit.entry_payload(l) as payload, "
                          + "ballast_audit.entry_digests(l) as digests from ballast_audit.chain c "
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
              var span = spans.floorEntry(seq);
              var entryKey = span == null ? keyId : span.getValue();
              byte[] sealedDigests = entry.get("row_digests", byte[].class);
              byte[] digests = entry.get("digests", byte[].class);
              String problem = null;
              Integer badRow = null;
              if (seq != expected) {
                problem =
                    seq < expected
                        ? "chain position " + seq + " appears twice"
                        : "chain entries " + expected + ".." + (seq - 1) + " are missing";
              } else if (!Arrays.equals(entryPrev, prev)) {
                problem = "its link to the previous entry does not match";
              } else if (entry.get("present") == null) {
                problem = "its audit row was deleted";
              } else if (!keys.containsKey(entryKey)) {
                problem =
                    "it was sealed with key "
                        + entryKey
                        + ", which this instance does not have (BALLAST_AUDIT_PREVIOUS_KEYS)";
              } else if (!Arrays.equals(
                  hash(keys.get(entryKey), prev, entry.get("payload", String.class), sealedDigests),
                  entry.get("hash", byte[].class))) {
                problem = "its audit row was modified (hash mismatch)";
              } else if (!Arrays.equals(sealedDigests, digests)) {
                badRow = firstDifference(sealedDigests, digests);
                problem = rowProblem(tx, logId, badRow, sealedDigests, digests);
              }
              if (problem != null) {
                return broken(checked, first, seq - 1, seq, logId, badRow, problem, unsealed);
              }
              prev = entry.get("hash", byte[].class);
              checked++;
              expected++;
            }
          }
          long lastSeq = state.get("last_seq", Long.class);
          byte[] head = checked == 0 ? GENESIS : prev;
          if (expected - 1 != lastSeq && !(checked == 0 && lastSeq == 0)) {
            return broken(
                checked,
                first,
                expected - 1,
                expected,
                null,
                null,
                "the chain ends at entry "
                    + (expected - 1)
                    + " but was sealed up to entry "
                    + lastSeq
                    + " (entries at the end were deleted)",
                unsealed);
          }
          if (checked > 0 && !Arrays.equals(head, state.get("last_hash", byte[].class))) {
            return broken(
                checked,
                first,
                lastSeq,
                lastSeq,
                null,
                null,
                "the last entry's hash does not match the sealed head",
                unsealed);
          }
          var orphan =
              tx.fetchOne(
                  "select l.id from ballast_audit.log l where (l.txid, l.id) <= (?, ?) and not exists "
                      + "(select 1 from ballast_audit.chain c where c.log_id = l.id and c.log_at = l.at) order by l.txid, l.id limit 1",
                  state.get("last_txid", Long.class),
                  state.get("last_id", Long.class));
          if (orphan != null) {
            return broken(
                checked,
                first,
                lastSeq,
                null,
                orphan.get(0, Long.class),
                null,
                "audit row "
                    + orphan.get(0, Long.class)
                    + " is inside the sealed range but not in the chain (inserted)",
                unsealed);
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
              HexFormat.of().formatHex(head),
              null);
        });
  }

  private static ChainVerification broken(
      long checked,
      long first,
      long last,
      Long badSeq,
      Long badLogId,
      Integer badRow,
      String problem,
      long unsealed) {
    return new ChainVerification(
        false, checked, first, last, badSeq, badLogId, problem, unsealed, null, badRow);
  }

  /**
   * The 1-based row whose digest differs first (the row after the shorter list when one is longer).
   */
  private static int firstDifference(byte[] sealed, byte[] current) {
    var a = sealed == null ? new byte[0] : sealed;
    var b = current == null ? new byte[0] : current;
    var rows = Math.max(a.length, b.length) / DIGEST;
    for (var i = 0; i < rows; i++) {
      var from = i * DIGEST;
      if (from + DIGEST > a.length
          || from + DIGEST > b.length
          || !Arrays.equals(a, from, from + DIGEST, b, from, from + DIGEST)) {
        return i + 1;
      }
    }
    return rows + 1;
  }

  /**
   * What happened to the change set's row {@code row} (1-based, the first whose digest differs):
   * rows removed (the sealed rows after them are all still there, moved up), rows added (the rows
   * after them are the sealed ones), or else a modified row.
   */
  private static String rowProblem(
      DSLContext tx, long logId, int row, byte[] sealed, byte[] current) {
    var a = sealed == null ? new byte[0] : sealed;
    var b = current == null ? new byte[0] : current;
    var sealedRows = a.length / DIGEST;
    var currentRows = b.length / DIGEST;
    var from = (row - 1) * DIGEST;
    if (currentRows < sealedRows
        && Arrays.equals(
            b, from, b.length, a, from + (sealedRows - currentRows) * DIGEST, a.length)) {
      return "row "
          + row
          + " of its change set was deleted (it has "
          + currentRows
          + " rows, "
          + sealedRows
          + " were sealed)";
    }
    var key =
        tx.fetchOne(
                "select record_id::text from ballast_audit.entries_at(array[?]::bigint[],"
                    + " array[?]::int[])",
                logId,
                row)
            .get(0, String.class);
    if (currentRows > sealedRows
        && Arrays.equals(
            b, from + (currentRows - sealedRows) * DIGEST, b.length, a, from, a.length)) {
      return "row " + row + " of its change set was inserted (key " + key + ")";
    }
    return "row " + row + " of its change set was modified (key " + key + ")";
  }

  private static byte[] hash(SecretKeySpec key, byte[] prev, String payload, byte[] digests) {
    var bytes = payload.getBytes(StandardCharsets.UTF_8);
    try {
      if (key == null) {
        var digest = MessageDigest.getInstance("SHA-256");
        digest.update(prev);
        digest.update(bytes);
        if (digests != null) {
          digest.update(digests);
        }
        return digest.digest();
      }
      var mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      mac.update(prev);
      mac.update(bytes);
      if (digests != null) {
        mac.update(digests);
      }
      return mac.doFinal();
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
