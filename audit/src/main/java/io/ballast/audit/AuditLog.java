package io.ballast.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ballast.core.data.Page;
import io.ballast.core.data.Pagination;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.JSONB;
import org.jooq.Record;
import org.jooq.Table;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;

/**
 * The audit log: what enables capture on a table, records application events, reads the trail,
 * seals and verifies the hash chain, and applies retention. Bound by {@link AuditModule};
 * thread-safe.
 *
 * <pre>{@code
 * auditLog.enable(AuditTable.of("orders").redact("notes").build());
 * auditLog.record(tx, "export", Map.of("rows", 1200));       // in the caller's transaction
 * Page<AuditEntry> page = auditLog.forRecord("orders", Map.of("id", 42), 50, null);
 * ChainVerification v = auditLog.verify();                     // v.intact(), v.badSeq(), v.problem()
 * }</pre>
 *
 * <p>Reading the trail follows the acting context open on the calling thread ({@link
 * RequestContext#open}): a context with a tenant reads only the entries written under that tenant,
 * one without a tenant only those written under none, and a context whose role is {@link
 * AuditSettings#adminRole()} reads every entry; code running with no context open (an operator's
 * command, a job) reads every entry too.
 *
 * <p>A statement's changed rows are stored as one change set; the reads return one {@link
 * AuditEntry} per changed row ({@link AuditEntry#row()} is its position in the change set).
 */
public final class AuditLog {
  private final java.util.concurrent.atomic.AtomicLong verifiedIntact =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong verifiedBroken =
      new java.util.concurrent.atomic.AtomicLong();
  private volatile double lastVerificationBroken = Double.NaN;

  static final Table<Record> LOG = DSL.table(DSL.name("ballast_audit", "log"));

  /** Every entry as per-row entries: change sets unnested, older per-row entries as they are. */
  static final Table<Record> ENTRIES = DSL.table(DSL.name("ballast_audit", "entries"));

  static final Field<Long> ID = DSL.field(DSL.name("id"), SQLDataType.BIGINT);
  private static final Field<Integer> ORD = DSL.field(DSL.name("ord"), SQLDataType.INTEGER);
  static final Field<OffsetDateTime> AT =
      DSL.field(DSL.name("at"), SQLDataType.TIMESTAMPWITHTIMEZONE);
  private static final Field<Long> TXID = DSL.field(DSL.name("txid"), SQLDataType.BIGINT);
  private static final Field<String> USER_ID = DSL.field(DSL.name("user_id"), SQLDataType.CLOB);
  private static final Field<String> ROLE = DSL.field(DSL.name("role"), SQLDataType.CLOB);
  private static final Field<String> TENANT_ID = DSL.field(DSL.name("tenant_id"), SQLDataType.CLOB);
  private static final Field<String> CLIENT_IP = DSL.field(DSL.name("client_ip"), SQLDataType.CLOB);
  private static final Field<String> REQUEST_ID =
      DSL.field(DSL.name("request_id"), SQLDataType.CLOB);
  private static final Field<String> DB_USER = DSL.field(DSL.name("db_user"), SQLDataType.CLOB);
  private static final Field<String> TABLE_SCHEMA =
      DSL.field(DSL.name("table_schema"), SQLDataType.CLOB);
  private static final Field<String> TABLE_NAME =
      DSL.field(DSL.name("table_name"), SQLDataType.CLOB);
  private static final Field<String> OPERATION = DSL.field(DSL.name("operation"), SQLDataType.CLOB);
  private static final Field<JSONB> RECORD_ID = DSL.field(DSL.name("record_id"), SQLDataType.JSONB);
  private static final Field<JSONB> OLD_ROW = DSL.field(DSL.name("old_row"), SQLDataType.JSONB);
  private static final Field<JSONB> NEW_ROW = DSL.field(DSL.name("new_row"), SQLDataType.JSONB);
  private static final Field<String[]> CHANGED =
      DSL.field(DSL.name("changed_columns"), SQLDataType.CLOB.array());
  private static final Field<String> EVENT = DSL.field(DSL.name("event"), SQLDataType.CLOB);
  private static final Field<JSONB> EVENT_DATA =
      DSL.field(DSL.name("event_data"), SQLDataType.JSONB);
  private static final List<Field<?>> COLUMNS =
      List.of(
          ID,
          ORD,
          AT,
          TXID,
          USER_ID,
          ROLE,
          TENANT_ID,
          CLIENT_IP,
          REQUEST_ID,
          DB_USER,
          TABLE_SCHEMA,
          TABLE_NAME,
          OPERATION,
          RECORD_ID,
          OLD_ROW,
          NEW_ROW,
          CHANGED,
          EVENT,
          EVENT_DATA);

  private final DSLContext db;
  private final Pagination pagination;
  private final HashChain chain;
  private final AuditSettings settings;
  private final ObjectMapper json = new ObjectMapper();

  AuditLog(DSLContext db, Pagination pagination, AuditSettings settings) {
    this.db = db;
    this.pagination = pagination;
    this.settings = settings;
    this.chain = new HashChain(settings.key(), settings.previousKeys());
  }

  /**
   * Puts {@code table} under audit (or replaces its options). Needs the right to create triggers on
   * it.
   */
  public void enable(AuditTable table) {
    db.execute(table.sql());
  }

  /** Takes {@code table} out of audit; its past entries stay. */
  public void disable(String table) {
    db.execute("select ballast_audit.disable(?::regclass)", table);
  }

  /**
   * Records an application event that is not a row change (a login, an export) in the transaction
   * of {@code tx}, with the acting context that transaction runs under: it commits and rolls back
   * with it.
   *
   * @param tx the caller's transaction ({@code DSL.using(configuration)} inside {@code
   *     transaction(…)}), or any {@link DSLContext} for a single statement
   * @param event the event's name, 1 to 200 characters
   * @param data its data, encoded as JSON; {@code null} for none
   */
  public long record(DSLContext tx, String event, Map<String, ?> data) {
    Objects.requireNonNull(tx, "tx");
    if (event == null || event.isBlank() || event.length() > 200) {
      throw new IllegalArgumentException(
          "audit event name must be 1 to 200 characters, but was "
              + (event == null ? "null" : event.length() + " characters"));
    }
    return tx.insertInto(LOG)
        .columns(OPERATION, EVENT, EVENT_DATA)
        .values("EVENT", event, data == null ? null : JSONB.valueOf(toJson(data)))
        .returningResult(ID)
        .fetchOne()
        .value1();
  }

  /**
   * The trail of one record, newest first. {@code key} is its key, e.g. {@code Map.of("id", 42)},
   * with each value as the row's JSON image holds it. Found through the index on the change sets'
   * key hashes, however many other rows the same statements changed: the page's positions first
   * ({@code ballast_audit.record_positions}), then only those rows' images ({@code
   * ballast_audit.entries_at}).
   */
  public Page<AuditEntry> forRecord(String table, Map<String, ?> key, int pageSize, String cursor) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(table, "table");
    var dot = table.indexOf('.');
    var positions =
        DSL.table(
                "ballast_audit.record_positions({0}, {1}, cast({2} as jsonb))",
                DSL.val(dot < 0 ? null : table.substring(0, dot), SQLDataType.CLOB),
                DSL.val(dot < 0 ? table : table.substring(dot + 1), SQLDataType.CLOB),
                DSL.val(toJson(key), SQLDataType.CLOB))
            .as("p");
    var page =
        pagination.fetch(
            db,
            db.select(ID, ORD, AT).from(positions).where(visible()),
            pageSize,
            cursor,
            AT.desc(),
            ID.desc(),
            ORD.desc());
    var ids = new Long[page.items().size()];
    var ords = new Integer[ids.length];
    for (var i = 0; i < ids.length; i++) {
      ids[i] = page.items().get(i).get(ID);
      ords[i] = page.items().get(i).get(ORD);
    }
    var entries = new ArrayList<AuditEntry>(ids.length);
    if (ids.length > 0) {
      var rows =
          db.select(COLUMNS)
              .from(
                  DSL.table(
                      "ballast_audit.entries_at({0}, {1})",
                      DSL.val(ids, SQLDataType.BIGINT.array()),
                      DSL.val(ords, SQLDataType.INTEGER.array())))
              .orderBy(AT.desc(), ID.desc(), ORD.desc())
              .fetch();
      for (var r : rows) {
        entries.add(entry(r));
      }
    }
    return new Page<>(entries, page.nextCursor(), page.hasMore());
  }

  /** What one user did, newest first. */
  public Page<AuditEntry> byUser(String userId, int pageSize, String cursor) {
    Objects.requireNonNull(userId, "userId");
    return page(ENTRIES, USER_ID.eq(userId).and(visible()), pageSize, cursor);
  }

  /** The changes to one table in {@code [from, to)}, newest first. */
  public Page<AuditEntry> byTable(
      String table, OffsetDateTime from, OffsetDateTime to, int pageSize, String cursor) {
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(to, "to");
    return page(
        ENTRIES,
        tableCondition(table).and(AT.ge(from)).and(AT.lt(to)).and(visible()),
        pageSize,
        cursor);
  }

  private Condition tableCondition(String table) {
    Objects.requireNonNull(table, "table");
    var dot = table.indexOf('.');
    return dot < 0
        ? TABLE_NAME.eq(table)
        : TABLE_SCHEMA.eq(table.substring(0, dot)).and(TABLE_NAME.eq(table.substring(dot + 1)));
  }

  /**
   * What the acting context on this thread may read: everything without a context (the operator, a
   * job) or with the admin role; else the entries written under its tenant (under no tenant when it
   * has none).
   */
  private Condition visible() {
    var acting = RequestContext.currentOrNull();
    if (acting == null || settings.adminRole().equals(acting.role())) {
      return DSL.noCondition();
    }
    return acting.tenantId() == null ? TENANT_ID.isNull() : TENANT_ID.eq(acting.tenantId());
  }

  private Page<AuditEntry> page(Table<?> source, Condition where, int pageSize, String cursor) {
    var page =
        pagination.fetch(
            db,
            db.select(COLUMNS).from(source).where(where),
            pageSize,
            cursor,
            AT.desc(),
            ID.desc(),
            ORD.desc());
    var entries = new ArrayList<AuditEntry>(page.items().size());
    for (var r : page.items()) {
      entries.add(entry(r));
    }
    return new Page<>(entries, page.nextCursor(), page.hasMore());
  }

  private AuditEntry entry(Record r) {
    var schema = r.get(TABLE_SCHEMA);
    var changed = r.get(CHANGED);
    return new AuditEntry(
        r.get(ID),
        r.get(ORD),
        r.get(AT).withOffsetSameInstant(ZoneOffset.UTC),
        r.get(TXID),
        r.get(USER_ID),
        r.get(ROLE),
        r.get(TENANT_ID),
        r.get(CLIENT_IP),
        r.get(REQUEST_ID),
        r.get(DB_USER),
        r.get(TABLE_NAME) == null ? null : schema + "." + r.get(TABLE_NAME),
        r.get(OPERATION),
        text(r.get(RECORD_ID)),
        text(r.get(OLD_ROW)),
        text(r.get(NEW_ROW)),
        changed == null ? List.of() : Arrays.asList(changed),
        r.get(EVENT),
        text(r.get(EVENT_DATA)));
  }

  /** Seals every audit row that can no longer change into the hash chain; returns how many. */
  public int seal() {
    return chain.sealAll(db, null);
  }

  /**
   * Like {@link #seal()}, but stops after the batch (of up to 1 000 rows) during which {@code
   * budget} runs out, leaving the rest for the next call; returns how many rows were sealed.
   */
  public int seal(Duration budget) {
    Objects.requireNonNull(budget, "budget");
    return chain.sealAll(db, budget);
  }

  /**
   * Checks the whole hash chain: every sealed audit row unchanged, none deleted, none inserted into
   * the sealed range, the chain unbroken up to the sealed head. Reports the first bad entry.
   * Sealing waits meanwhile.
   */
  public ChainVerification verify() {
    var result = chain.verify(db);
    (result.intact() ? verifiedIntact : verifiedBroken).incrementAndGet();
    lastVerificationBroken = result.intact() ? 0 : 1;
    return result;
  }

  /** Verifications run in this process that found the chain intact. */
  long verificationsIntact() {
    return verifiedIntact.get();
  }

  /** Verifications run in this process that found the chain broken. */
  long verificationsBroken() {
    return verifiedBroken.get();
  }

  /** 1 when the last verification in this process found the chain broken, 0 intact, NaN none. */
  double lastVerificationBroken() {
    return lastVerificationBroken;
  }

  /**
   * Creates the monthly partitions for this month and the months ahead that are missing; returns
   * how many.
   */
  public int ensurePartitions() {
    return db.fetchOne("select ballast_audit.ensure_partitions(?)", settings.partitionsAhead())
        .get(0, Integer.class);
  }

  /**
   * Drops the audit data older than the retention setting (whole months, UTC): the partitions that
   * end before the first month kept. Returns the names of the dropped partitions; none when
   * retention is 0.
   */
  public List<String> applyRetention() {
    if (settings.retentionMonths() == 0) {
      return List.of();
    }
    var cutoff =
        OffsetDateTime.now(ZoneOffset.UTC)
            .withDayOfMonth(1)
            .toLocalDate()
            .atStartOfDay()
            .atOffset(ZoneOffset.UTC)
            .minusMonths(settings.retentionMonths());
    return dropBefore(cutoff);
  }

  List<String> dropBefore(OffsetDateTime cutoff) {
    return db.fetch("select ballast_audit.drop_partitions_before(?::timestamptz) as name", cutoff)
        .getValues(0, String.class);
  }

  private String toJson(Map<String, ?> value) {
    try {
      return json.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "audit data must be encodable as JSON: " + e.getOriginalMessage(), e);
    }
  }

  private static String text(JSONB value) {
    return value == null ? null : value.data();
  }
}
