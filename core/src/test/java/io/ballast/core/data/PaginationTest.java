package io.ballast.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.table;

import com.google.inject.AbstractModule;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.testkit.PostgresExtension;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Record3;
import org.jooq.Table;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class PaginationTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  static final Table<Record> ITEMS = table(name("items"));
  static final Field<Long> ID = field(name("id"), Long.class);
  static final Field<Integer> GRP = field(name("grp"), Integer.class);
  static final Field<String> LABEL = field(name("label"), String.class);
  static final String SECRET = "a-test-secret-of-at-least-32-characters!";

  static QueryCounter counter;
  static DSLContext db;
  final Pagination pagination = Pagination.withSecret(SECRET.getBytes(StandardCharsets.UTF_8));

  @BeforeAll
  static void seed() throws SQLException {
    PG.execute(
        "create table items (id bigserial primary key, grp int not null, label text not null)",
        "insert into items (grp, label) select g % 7, 'item ' || g from generate_series(1, 1000) g");
    counter = new QueryCounter(PG.dataSource());
    db = counter.db;
  }

  @Test
  void pagesThroughEverySurvivingRowOnceInOrder_whileRowsAreInsertedAndDeleted()
      throws SQLException {
    var before = new HashSet<>(db.select(ID).from(ITEMS).where(ID.le(1000L)).fetch(ID));
    var deleted = new HashSet<Long>();
    var seen = new ArrayList<Record3<Integer, Long, String>>();
    var random = new Random(42);
    String cursor = null;
    int pages = 0;
    do {
      // mixed directions: grp ascending, id descending
      var page =
          pagination.fetch(
              db,
              db.select(GRP, ID, LABEL).from(ITEMS).where(ID.le(5000L)),
              37,
              cursor,
              GRP.asc(),
              ID.desc());
      seen.addAll(page.items());
      cursor = page.nextCursor();
      pages++;
      // churn between pages: insert rows anywhere in the order, delete some seen and some unseen
      // rows
      PG.execute(
          "insert into items (grp, label) select (random() * 6)::int, 'new' from generate_series(1, 5)");
      for (int i = 0; i < 3; i++) {
        var victim = 1 + (long) random.nextInt(1000);
        if (deleted.add(victim)) {
          PG.execute("delete from items where id = " + victim);
        }
      }
    } while (cursor != null);

    var seenIds = seen.stream().map(r -> r.get(ID)).toList();
    assertThat(seenIds).doesNotHaveDuplicates();
    for (int i = 1; i < seen.size(); i++) {
      var a = seen.get(i - 1);
      var b = seen.get(i);
      assertThat(
              a.get(GRP) < b.get(GRP) || (a.get(GRP).equals(b.get(GRP)) && a.get(ID) > b.get(ID)))
          .as("row %s comes after %s in (grp asc, id desc)", b, a)
          .isTrue();
    }
    var survivors = new HashSet<>(before);
    survivors.removeAll(deleted);
    assertThat(new HashSet<>(seenIds)).containsAll(survivors);
    assertThat(pages).isGreaterThan(27);
  }

  @Test
  void lastPage_hasNoCursor_andNoCountQueryIsEverSent() {
    counter.statements.clear();
    var all = new ArrayList<Long>();
    String cursor = null;
    int pages = 0;
    do {
      var page = pagination.fetch(db, db.select(ID).from(ITEMS).where(GRP.eq(3)), 50, cursor, ID);
      all.addAll(page.items().stream().map(r -> r.get(ID)).toList());
      assertThat(page.hasMore()).isEqualTo(page.nextCursor() != null);
      cursor = page.nextCursor();
      pages++;
    } while (cursor != null);
    assertThat(all).isEqualTo(db.select(ID).from(ITEMS).where(GRP.eq(3)).orderBy(ID).fetch(ID));
    assertThat(counter.statements)
        .hasSize(pages + 1)
        .noneMatch(s -> s.toLowerCase(java.util.Locale.ROOT).contains("count("));
  }

  @Test
  void selectiveLoading_returnsOnlyTheColumnsTheCallerPicked() {
    var page = pagination.fetch(db, db.select(ID, LABEL).from(ITEMS), 10, null, ID);
    assertThat(page.items()).hasSize(10);
    assertThat(page.items().get(0).size()).isEqualTo(2);
  }

  @Test
  void forgedOrAlteredCursors_areRefused() {
    var first = pagination.fetch(db, db.select(ID).from(ITEMS).where(GRP.eq(1)), 5, null, ID);
    var cursor = first.nextCursor();
    var raw = Base64.getUrlDecoder().decode(cursor);

    var altered = raw.clone();
    altered[4] ^= 0x01; // a digit of the key value
    assertThatThrownBy(
            () ->
                pagination.fetch(
                    db,
                    db.select(ID).from(ITEMS).where(GRP.eq(1)),
                    5,
                    Base64.getUrlEncoder().withoutPadding().encodeToString(altered),
                    ID))
        .isInstanceOf(InvalidCursorException.class)
        .hasMessage(
            "cursor is invalid: altered, signed with another key, or issued for a different query");

    // the same cursor presented to another query (another filter value)
    assertThatThrownBy(
            () -> pagination.fetch(db, db.select(ID).from(ITEMS).where(GRP.eq(2)), 5, cursor, ID))
        .isInstanceOf(InvalidCursorException.class)
        .hasMessageContaining("issued for a different query");
    // signed with another key
    var other =
        Pagination.withSecret(
            "another-secret-of-at-least-32-characters".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(
            () -> other.fetch(db, db.select(ID).from(ITEMS).where(GRP.eq(1)), 5, cursor, ID))
        .isInstanceOf(InvalidCursorException.class);

    assertThatThrownBy(
            () -> pagination.fetch(db, db.select(ID).from(ITEMS), 5, "not a cursor!", ID))
        .hasMessage("cursor is malformed: not base64url");
    assertThatThrownBy(() -> pagination.fetch(db, db.select(ID).from(ITEMS), 5, "AQE", ID))
        .hasMessage("cursor is malformed: too short");
    var future = raw.clone();
    future[0] = 9;
    assertThatThrownBy(
            () ->
                pagination.fetch(
                    db,
                    db.select(ID).from(ITEMS).where(GRP.eq(1)),
                    5,
                    Base64.getUrlEncoder().withoutPadding().encodeToString(future),
                    ID))
        .hasMessage("cursor version 9 is not supported (this version writes 1)");
  }

  @Test
  void keysetColumnsMustBeSelected_andPageSizeBounded() {
    assertThatThrownBy(() -> pagination.fetch(db, db.select(LABEL).from(ITEMS), 5, null, ID))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("keyset column id must be in the select list");
    assertThatThrownBy(() -> pagination.fetch(db, db.select(ID).from(ITEMS), 0, null, ID))
        .hasMessage("pageSize must be between 1 and 10000, but was 0");
  }

  @Test
  void cursors_surviveARestartOfTheService_whenTheSecretIsSet() {
    var settings = CoreSettings.builder().cursorSecret(SECRET).build();
    String cursor;
    List<Long> firstPage;
    try (var app = start(settings)) {
      var appDb = app.get(DSLContext.class);
      var page =
          app.get(Pagination.class)
              .fetch(appDb, appDb.select(ID).from(ITEMS).where(GRP.eq(5)), 20, null, ID);
      cursor = page.nextCursor();
      firstPage = page.items().stream().map(r -> r.get(ID)).toList();
    }
    try (var app = start(settings)) {
      var appDb = app.get(DSLContext.class);
      var page =
          app.get(Pagination.class)
              .fetch(appDb, appDb.select(ID).from(ITEMS).where(GRP.eq(5)), 20, cursor, ID);
      assertThat(page.items().get(0).get(ID)).isGreaterThan(firstPage.get(firstPage.size() - 1));
    }
    // without a secret, a restart invalidates cursors (with a clear error, not wrong data)
    String randomKeyCursor;
    try (var app = start(CoreSettings.defaults())) {
      var appDb = app.get(DSLContext.class);
      randomKeyCursor =
          app.get(Pagination.class)
              .fetch(appDb, appDb.select(ID).from(ITEMS), 20, null, ID)
              .nextCursor();
    }
    try (var app = start(CoreSettings.defaults())) {
      var appDb = app.get(DSLContext.class);
      assertThatThrownBy(
              () ->
                  app.get(Pagination.class)
                      .fetch(appDb, appDb.select(ID).from(ITEMS), 20, randomKeyCursor, ID))
          .isInstanceOf(InvalidCursorException.class);
    }
  }

  @Test
  void cursorSecret_mustBeLongEnough_andIsNeverPrinted() {
    assertThatThrownBy(() -> CoreSettings.builder().cursorSecret("short"))
        .hasMessage(
            "cursor_secret must be at least 32 characters long, but was a value of 5 characters (from builder)");
    assertThat(CoreSettings.builder().cursorSecret(SECRET).build().toString())
        .doesNotContain(SECRET)
        .contains("cursorSecret=****");
  }

  private static Ballast start(CoreSettings settings) {
    return Ballast.start(
        new CoreModule(settings),
        new AbstractModule() {
          @Override
          protected void configure() {
            bind(DataSource.class).toInstance(PG.dataSource());
          }
        });
  }
}
