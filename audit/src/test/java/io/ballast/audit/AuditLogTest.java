package io.ballast.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.core.Ballast;
import io.ballast.testkit.PostgresExtension;
import io.ballast.testkit.TestRole;
import java.sql.DriverManager;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.jooq.DSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Trigger capture, events and reading the trail, against a real PostgreSQL as the application role.
 */
class AuditLogTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  private static final ActingContext ALICE =
      ActingContext.builder()
          .userId("alice")
          .role("clerk")
          .tenantId("acme")
          .clientIp("192.0.2.7")
          .requestId("req-42")
          .build();

  private static TestRole role;
  private static Ballast app;
  private static DSLContext db;
  private static AuditLog audit;

  @BeforeAll
  static void start() throws Exception {
    role = AuditFixture.appRole(PG, "app");
    app = AuditFixture.start(role.databaseUrl(), AuditFixture.manualSealing().build(), 4);
    db = app.get(DSLContext.class);
    audit = app.get(AuditLog.class);
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
  }

  @BeforeEach
  void clean() throws Exception {
    PG.execute("truncate items, customers", "delete from ballast_audit.log");
  }

  private static List<AuditEntry> all(String table) {
    var entries = new ArrayList<AuditEntry>();
    var from = OffsetDateTime.now(java.time.ZoneOffset.UTC).minusDays(1);
    var to = from.plusDays(2);
    String cursor = null;
    do {
      var page = audit.byTable(table, from, to, 500, cursor);
      entries.addAll(page.items());
      cursor = page.nextCursor();
    } while (cursor != null);
    return entries;
  }

  private static long logCount(String where) {
    return db.fetchOne("select count(*) from ballast_audit.entries where " + where)
        .get(0, Long.class);
  }

  @Test
  void insertUpdateDelete_areRecordedWithTheActingContext_notThePoolsRole() {
    try (var scope = RequestContext.open(ALICE)) {
      db.execute(
          "insert into customers (region, id, name, email, password_hash) values ('eu', 7, 'Ann', 'a@x.io', 'h1')");
      db.execute(
          "update customers set name = 'Anne', email = 'anne@x.io' where region = 'eu' and id = 7");
      db.execute("delete from customers where region = 'eu' and id = 7");
    }
    var entries = audit.forRecord("customers", Map.of("region", "eu", "id", 7), 10, null).items();
    assertThat(entries)
        .extracting(AuditEntry::operation)
        .containsExactly("DELETE", "UPDATE", "INSERT"); // newest first
    for (var e : entries) {
      assertThat(e.userId()).isEqualTo("alice");
      assertThat(e.role()).isEqualTo("clerk");
      assertThat(e.tenantId()).isEqualTo("acme");
      assertThat(e.clientIp()).isEqualTo("192.0.2.7");
      assertThat(e.requestId()).isEqualTo("req-42");
      assertThat(e.dbUser()).isEqualTo(role.name());
      assertThat(e.table()).isEqualTo("public.customers");
      assertThat(e.recordId()).isEqualTo("{\"id\": 7, \"region\": \"eu\"}");
    }
    var update = entries.get(1);
    assertThat(update.changedColumns()).containsExactly("email", "name");
    assertThat(update.oldRow())
        .contains("\"name\": \"Ann\"")
        .contains("\"email\": \"[redacted]\"")
        .doesNotContain("password_hash")
        .doesNotContain("a@x.io")
        .doesNotContain("h1");
    assertThat(update.newRow()).contains("\"name\": \"Anne\"").doesNotContain("anne@x.io");
    assertThat(entries.get(2).oldRow()).isNull();
    assertThat(entries.get(0).newRow()).isNull();
  }

  @Test
  void anUpdateOfExcludedColumnsOnly_writesNoAuditRow() {
    db.execute("insert into customers (region, id, name) values ('us', 1, 'Bo')");
    db.execute("update customers set last_seen = now(), password_hash = 'new' where id = 1");
    db.execute("update customers set name = name where id = 1"); // no change at all
    assertThat(all("customers")).extracting(AuditEntry::operation).containsExactly("INSERT");
  }

  @Test
  void aRenamedTable_isLoggedUnderItsNewName_andAddedColumnsAreCaptured() throws Exception {
    PG.execute(
        "create table drafts (id int primary key, body text)",
        "select ballast_audit.enable('drafts')",
        "insert into drafts values (1, 'a')",
        "alter table drafts rename to documents",
        "alter table documents add column title text",
        "update documents set body = 'b', title = 't' where id = 1");
    assertThat(all("drafts")).extracting(AuditEntry::operation).containsExactly("INSERT");
    var renamed = all("documents");
    assertThat(renamed).extracting(AuditEntry::operation).containsExactly("UPDATE");
    assertThat(renamed.get(0).table()).isEqualTo("public.documents");
    assertThat(renamed.get(0).changedColumns()).containsExactly("body", "title");
    assertThat(renamed.get(0).newRow()).contains("\"title\": \"t\"");
    PG.execute("select ballast_audit.disable('documents')", "drop table documents");
  }

  @Test
  void aRenamedKeyColumn_failsTheWrite_untilEnableIsCalledAgain_andTheHistoryRunsAcrossIt()
      throws Exception {
    PG.execute(
        "create table tickets (id int primary key, body text)",
        "select ballast_audit.enable('tickets')",
        "insert into tickets values (1, 'a')",
        "alter table tickets rename column id to ticket_id");
    assertThatThrownBy(() -> PG.execute("update tickets set body = 'b' where ticket_id = 1"))
        .hasMessageContaining("ballast_row.id");
    PG.execute(
        "select ballast_audit.enable('tickets')",
        "update tickets set body = 'b' where ticket_id = 1");
    assertThat(all("tickets"))
        .extracting(e -> e.operation() + " " + e.recordId())
        .containsExactly("UPDATE {\"ticket_id\": 1}", "INSERT {\"id\": 1}");
    // a record is found by its table and its key's values: its history runs across the rename
    assertThat(audit.forRecord("tickets", Map.of("ticket_id", 1), 10, null).items())
        .extracting(AuditEntry::operation)
        .containsExactly("UPDATE", "INSERT");
    PG.execute("select ballast_audit.disable('tickets')", "drop table tickets");
  }

  @Test
  void bulkAndRawSql_areCaptured_oneStatementManyRows() throws Exception {
    try (var scope = RequestContext.open(ALICE)) {
      assertThat(
              db.execute(
                  "insert into items (id, tenant_id) select g, 'acme' from generate_series(1, 1000) g"))
          .isEqualTo(1000);
      assertThat(db.execute("update items set n = n + 1 where id <= 500")).isEqualTo(500);
    }
    // raw JDBC, outside Ballast entirely: still recorded, with no acting user
    try (var c = DriverManager.getConnection(role.jdbcUrl(), role.name(), role.password());
        var s = c.createStatement()) {
      assertThat(s.executeUpdate("delete from items where id > 900")).isEqualTo(100);
    }
    assertThat(logCount("table_name = 'items' and operation = 'INSERT' and user_id = 'alice'"))
        .isEqualTo(1000);
    assertThat(
            logCount("table_name = 'items' and operation = 'UPDATE' and changed_columns = '{n}'"))
        .isEqualTo(500);
    assertThat(
            logCount(
                "table_name = 'items' and operation = 'DELETE' and user_id is null and db_user = '"
                    + role.name()
                    + "'"))
        .isEqualTo(100);
    // stored as one change set per statement
    assertThat(
            db.fetch(
                    "select operation || ' ' || row_count from ballast_audit.log "
                        + "where table_name = 'items' order by id")
                .getValues(0, String.class))
        .containsExactly("INSERT 1000", "UPDATE 500", "DELETE 100");
  }

  @Test
  void truncate_isRecorded() {
    db.execute("insert into items (id) values (1)");
    db.execute("truncate items");
    assertThat(all("items"))
        .extracting(AuditEntry::operation)
        .containsExactly("TRUNCATE", "INSERT");
  }

  @Test
  void auditRowsCommitAndRollBackWithTheirChange() {
    try (var scope = RequestContext.open(ALICE)) {
      assertThatThrownBy(
              () ->
                  db.transaction(
                      cfg -> {
                        cfg.dsl().execute("insert into items (id) values (1), (2)");
                        audit.record(cfg.dsl(), "export", Map.of("rows", 2));
                        throw new IllegalStateException("abort");
                      }))
          .hasMessageContaining("abort");
      assertThat(logCount("true")).isZero();
      db.transaction(
          cfg -> {
            cfg.dsl().execute("insert into items (id) values (3)");
            audit.record(cfg.dsl(), "export", Map.of("rows", 1, "format", "csv"));
          });
    }
    assertThat(logCount("operation = 'INSERT'")).isEqualTo(1);
    var events =
        audit.byUser("alice", 10, null).items().stream()
            .filter(e -> "EVENT".equals(e.operation()))
            .toList();
    assertThat(events).hasSize(1);
    assertThat(events.get(0).event()).isEqualTo("export");
    assertThat(events.get(0).eventData()).isEqualTo("{\"rows\": 1, \"format\": \"csv\"}");
    assertThat(events.get(0).tenantId()).isEqualTo("acme");
    assertThatThrownBy(() -> audit.record(db, " ", null))
        .hasMessage("audit event name must be 1 to 200 characters, but was 1 characters");
  }

  /**
   * Concurrent writers, a third of their transactions rolled back: exactly the committed changes
   * are audited.
   */
  @Test
  void concurrentWriters_withRollbacks_nothingLostNothingPhantom() throws Exception {
    int threads = 4;
    int perThread = 150;
    var committed = new AtomicLong();
    var committedIds = java.util.Collections.synchronizedSet(new HashSet<Long>());
    var executor = Executors.newFixedThreadPool(threads);
    try {
      var futures = new ArrayList<Future<?>>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        futures.add(
            executor.submit(
                () -> {
                  var random = ThreadLocalRandom.current();
                  for (int i = 0; i < perThread; i++) {
                    long id = thread * 100_000L + i;
                    boolean rollback = random.nextInt(3) == 0;
                    try (var scope =
                        RequestContext.open(ActingContext.of("writer-" + thread, "t" + thread))) {
                      db.transaction(
                          cfg -> {
                            cfg.dsl()
                                .execute(
                                    "insert into items (id, tenant_id) values (?, ?)",
                                    id,
                                    "t" + thread);
                            cfg.dsl().execute("update items set n = n + 1 where id = ?", id);
                            if (rollback) {
                              throw new IllegalStateException("rolled back on purpose");
                            }
                          });
                      committed.incrementAndGet();
                      committedIds.add(id);
                    } catch (IllegalStateException expected) {
                      // the change and its audit rows are gone together
                    }
                  }
                  return null;
                }));
      }
      for (var f : futures) {
        f.get();
      }
    } finally {
      executor.shutdownNow();
    }
    assertThat(committed.get()).isBetween(1L, (long) threads * perThread - 1);
    assertThat(logCount("table_name = 'items' and operation = 'INSERT'"))
        .isEqualTo(committed.get());
    assertThat(logCount("table_name = 'items' and operation = 'UPDATE'"))
        .isEqualTo(committed.get());
    var audited =
        new HashSet<>(
            db.fetch(
                    "select (record_id->>'id')::bigint from ballast_audit.entries "
                        + "where operation = 'INSERT'")
                .getValues(0, Long.class));
    assertThat(audited).isEqualTo(committedIds);
    assertThat(
            logCount(
                "operation = 'INSERT' and user_id <> 'writer-' || (record_id->>'id')::bigint / 100000"))
        .isZero(); // each row carries the user that wrote it
  }

  @Test
  void changeSets_readAsPerRowEntries_byRecordByTableAndByUser_acrossPageBoundaries() {
    try (var scope = RequestContext.open(ALICE)) {
      db.execute("insert into items (id) select g from generate_series(1, 1000) g");
      db.execute("update items set n = 7 where id between 201 and 500");
      db.execute("delete from items where id > 995");
    }
    assertThat(
            db.fetchOne("select count(*) from ballast_audit.log where table_name = 'items'")
                .get(0, Long.class))
        .isEqualTo(3);

    assertThat(audit.forRecord("items", Map.of("id", 250), 10, null).items())
        .satisfiesExactly(
            e -> {
              assertThat(e.operation()).isEqualTo("UPDATE");
              assertThat(e.recordId()).isEqualTo("{\"id\": 250}");
              assertThat(e.oldRow()).contains("\"n\": 0");
              assertThat(e.newRow()).contains("\"n\": 7");
              assertThat(e.changedColumns()).containsExactly("n");
              assertThat(e.row()).isBetween(1, 300);
              assertThat(e.userId()).isEqualTo("alice");
              assertThat(e.table()).isEqualTo("public.items");
            },
            e -> {
              assertThat(e.operation()).isEqualTo("INSERT");
              assertThat(e.oldRow()).isNull();
              assertThat(e.changedColumns()).isEmpty();
            });
    assertThat(audit.forRecord("public.items", Map.of("id", 998), 10, null).items())
        .extracting(AuditEntry::operation)
        .containsExactly("DELETE", "INSERT");
    assertThat(audit.forRecord("items", Map.of("id", 800), 10, null).items())
        .extracting(AuditEntry::operation)
        .containsExactly("INSERT");
    assertThat(audit.forRecord("other.items", Map.of("id", 800), 10, null).items()).isEmpty();
    assertThat(audit.forRecord("items", Map.of("id", 1001), 10, null).items()).isEmpty();

    // a table's trail in pages of 500 and a user's in pages of 97: every row once, newest change
    // set first, pages cut inside change sets
    var table = all("items");
    assertThat(table).hasSize(1305);
    assertThat(table).extracting(e -> e.id() + "/" + e.row()).doesNotHaveDuplicates();
    assertThat(table)
        .extracting(AuditEntry::operation)
        .startsWith("DELETE", "DELETE", "DELETE", "DELETE", "DELETE", "UPDATE")
        .endsWith("INSERT");
    var pages = new ArrayList<AuditEntry>();
    String cursor = null;
    do {
      var page = audit.byUser("alice", 97, cursor);
      pages.addAll(page.items());
      cursor = page.nextCursor();
    } while (cursor != null);
    assertThat(pages).extracting(e -> e.id() + "/" + e.row()).doesNotHaveDuplicates();
    assertThat(pages).hasSize(1305);
  }

  @Test
  void aRecordsTrail_throughManyBulkChangeSets_pagesNewestFirst_withoutGapsOrRepeats() {
    try (var scope = RequestContext.open(ALICE)) {
      db.execute("insert into items (id) select g from generate_series(1, 500) g");
      // 25 statements each changing 500 rows; record 321 is in every one
      db.execute("do $$ begin for i in 1..25 loop update items set n = i; end loop; end $$");
      // and a statement whose key changes: record 321 becomes 9321 (old key, then new key)
      db.execute("update items set id = id + 9000 where id = 321");
    }
    var trail = new ArrayList<AuditEntry>();
    String cursor = null;
    var pages = 0;
    do {
      var page = audit.forRecord("items", Map.of("id", 321), 10, cursor);
      trail.addAll(page.items());
      cursor = page.nextCursor();
      pages++;
    } while (cursor != null);
    assertThat(pages).isEqualTo(3);
    assertThat(trail)
        .hasSize(27)
        .extracting(AuditEntry::id)
        .isSortedAccordingTo((a, b) -> b.compareTo(a));
    assertThat(trail.get(0).oldRow()).contains("\"id\": 321");
    assertThat(trail.get(0).newRow()).isNull();
    for (var i = 1; i <= 25; i++) {
      var e = trail.get(i);
      assertThat(e.operation()).isEqualTo("UPDATE");
      assertThat(e.newRow()).contains("\"n\": " + (26 - i));
      assertThat(e.changedColumns()).containsExactly("n");
    }
    assertThat(trail.get(26).operation()).isEqualTo("INSERT");
    assertThat(audit.forRecord("items", Map.of("id", 9321), 10, null).items())
        .singleElement()
        .satisfies(e -> assertThat(e.newRow()).contains("\"id\": 9321"));
  }

  /**
   * Sequential scans of the log's partitions, and scans of its key-hash index, as counted so far.
   */
  private static long[] logScans() throws Exception {
    try (var c = PG.connect();
        var st = c.createStatement()) {
      var rs =
          st.executeQuery(
              "select (select coalesce(sum(seq_scan), 0) from pg_stat_user_tables"
                  + " where schemaname = 'ballast_audit' and relname like 'log%'),"
                  + " (select coalesce(sum(idx_scan), 0) from pg_stat_user_indexes"
                  + " where schemaname = 'ballast_audit' and indexrelname like '%key_hashes%')");
      rs.next();
      return new long[] {rs.getLong(1), rs.getLong(2)};
    }
  }

  @Test
  void aRecordsHistory_isFoundThroughTheKeyIndex_neverByScanningTheLog() throws Exception {
    // 40 change sets of 1 000 rows: a small log whose arrays live in TOAST, which the planner would
    // rather scan than search through the index
    PG.execute(
        "do $$ begin for i in 0..39 loop insert into items (id) select g from"
            + " generate_series(i * 1000 + 1, i * 1000 + 1000) g; end loop; end $$",
        "analyze ballast_audit.log");
    // earlier tests' pooled sessions report their scans up to 10 s late (PostgreSQL flushes an idle
    // session's statistics after at most 10 s): start counting once the counters stood still that
    // long
    var seen = new long[][] {logScans()};
    var stillSince = new long[] {System.nanoTime()};
    io.ballast.testkit.Await.until(
        "the log's scan counters stand still for 11 s",
        java.time.Duration.ofSeconds(60),
        () -> {
          var now = logScans();
          if (now[0] != seen[0][0] || now[1] != seen[0][1]) {
            seen[0] = now;
            stillSince[0] = System.nanoTime();
          }
          return System.nanoTime() - stillSince[0] >= java.time.Duration.ofSeconds(11).toNanos();
        });
    var before = seen[0];
    for (var i = 0; i < 20; i++) {
      assertThat(audit.forRecord("items", Map.of("id", 12_345 + i), 10, null).items())
          .singleElement()
          .satisfies(e -> assertThat(e.operation()).isEqualTo("INSERT"));
    }
    // the statistics of the pool's sessions arrive when those sessions flush them (at most 10 s)
    io.ballast.testkit.Await.until(
        "20 searches of the key-hash index are counted",
        java.time.Duration.ofSeconds(20),
        () -> logScans()[1] >= before[1] + 20);
    var after = logScans();
    assertThat(after[1] - before[1])
        .as("searches of the key-hash index")
        .isGreaterThanOrEqualTo(20);
    assertThat(after[0] - before[0]).as("sequential scans of the log").isZero();
  }

  @Test
  void readingTheTrail_showsATenantOnlyItsOwnEntries_andTheAdminRoleEverything() {
    var bob = ActingContext.builder().userId("bob").role("clerk").tenantId("globex").build();
    var root = ActingContext.builder().userId("root").role("admin").build();
    var loner = ActingContext.builder().userId("loner").role("clerk").build();
    RequestContext.as(db, ALICE).execute("insert into items (id) values (1), (2)");
    RequestContext.as(db, bob).execute("insert into items (id) values (3)");
    RequestContext.as(db, bob).execute("update items set n = 1");
    db.execute("insert into items (id) values (4)");
    // the same record, touched by both tenants: each sees only its own entries
    try (var scope = RequestContext.open(ALICE)) {
      assertThat(audit.forRecord("items", Map.of("id", 1), 10, null).items())
          .extracting(AuditEntry::operation)
          .containsExactly("INSERT");
      assertThat(all("items")).hasSize(2).allMatch(e -> "acme".equals(e.tenantId()));
      assertThat(audit.byUser("bob", 10, null).items()).isEmpty();
    }
    try (var scope = RequestContext.open(bob)) {
      assertThat(audit.forRecord("items", Map.of("id", 1), 10, null).items())
          .extracting(AuditEntry::operation)
          .containsExactly("UPDATE");
      assertThat(all("items")).hasSize(4).allMatch(e -> "globex".equals(e.tenantId()));
      assertThat(audit.byUser("alice", 10, null).items()).isEmpty();
    }
    try (var scope = RequestContext.open(loner)) {
      assertThat(all("items")).singleElement().satisfies(e -> assertThat(e.tenantId()).isNull());
    }
    try (var scope = RequestContext.open(root)) {
      assertThat(all("items")).hasSize(7);
    }
    assertThat(all("items")).as("no context: an operator's command or a job").hasSize(7);
  }

  @Test
  void readingTheTrail_byUserAndByTable_newestFirst_inKeysetPages() {
    for (int i = 0; i < 25; i++) {
      var who = i % 2 == 0 ? "even" : "odd";
      RequestContext.as(db, ActingContext.of(who, "acme"))
          .execute("insert into items (id) values (?)", i);
    }
    var pages = 0;
    var seen = new ArrayList<AuditEntry>();
    String cursor = null;
    do {
      var page = audit.byUser("even", 4, cursor);
      seen.addAll(page.items());
      cursor = page.nextCursor();
      pages++;
    } while (cursor != null);
    assertThat(pages).isEqualTo(4);
    assertThat(seen).hasSize(13).allMatch(e -> e.userId().equals("even"));
    assertThat(seen).extracting(AuditEntry::id).isSortedAccordingTo((a, b) -> Long.compare(b, a));
    assertThat(seen).extracting(AuditEntry::recordId).doesNotHaveDuplicates();
    var table = all("public.items");
    assertThat(table).hasSize(25);
    assertThat(
            audit
                .byTable(
                    "items",
                    OffsetDateTime.now(java.time.ZoneOffset.UTC).plusDays(1),
                    OffsetDateTime.now(java.time.ZoneOffset.UTC).plusDays(2),
                    10,
                    null)
                .items())
        .isEmpty();
  }

  @Test
  void enableAndDisable_fromJava_andBadTablesAreRefused() {
    db.execute("create table if not exists keyless (a int, b text)");
    assertThatThrownBy(() -> audit.enable(AuditTable.of("keyless").build()))
        .hasMessageContaining(
            "cannot audit table keyless: it has no primary key; pass the key columns");
    audit.enable(AuditTable.of("keyless").keyColumns("a").redact("b").build());
    db.execute("insert into keyless values (1, 'secret')");
    assertThat(all("keyless"))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.recordId()).isEqualTo("{\"a\": 1}");
              assertThat(e.newRow()).isEqualTo("{\"a\": 1, \"b\": \"[redacted]\"}");
            });
    assertThatThrownBy(
            () -> audit.enable(AuditTable.of("keyless").keyColumns("a").exclude("zzz").build()))
        .hasMessageContaining("cannot audit table keyless: it has no column zzz");
    audit.disable("keyless");
    db.execute("insert into keyless values (2, 'x')");
    assertThat(all("keyless")).hasSize(1);
    assertThat(AuditTable.of("app.users").exclude("pw").redact("email").build().sql())
        .isEqualTo(
            "select ballast_audit.enable('app.users', array['pw']::text[], array['email']::text[], null)");
  }
}
