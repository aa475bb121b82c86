package io.ballast.core.data;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.OrderField;
import org.jooq.Record;
import org.jooq.SelectOrderByStep;
import org.jooq.SortField;

/**
 * Keyset ("seek") pagination over any jOOQ select: each page continues after the last row of the
 * previous one ({@code WHERE (created_at, id) < (?, ?)}), so page 10 000 costs what page 1 costs,
 * unlike {@code OFFSET}, and rows inserted or deleted meanwhile never make a row appear twice or go
 * missing.
 *
 * <pre>{@code
 * Page<Record3<Long, OffsetDateTime, BigDecimal>> page = pagination.fetch(db,
 *     db.select(ID, CREATED_AT, TOTAL).from(ORDERS).where(CUSTOMER_ID.eq(42L)),
 *     50, request.cursor(),                      // null for the first page
 *     CREATED_AT.desc(), ID.desc());             // the keyset: unique, NOT NULL, in the select list
 * respond(page.items(), page.nextCursor());
 * }</pre>
 *
 * <p>The keyset must be unique over the rows (end it with the primary key), its columns NOT NULL
 * and selected. Cursors are opaque and signed: a cursor altered, forged, or issued for a different
 * query (other filters, other bind values, other columns) is refused with {@link
 * InvalidCursorException}. They stay valid across restarts and instances that share {@code
 * BALLAST_CURSOR_SECRET}. Thread-safe.
 */
public final class Pagination {
  /** The largest page a caller may ask for. */
  public static final int MAX_PAGE_SIZE = 10_000;

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Pagination.class);

  private final CursorCodec codec;
  private final java.util.concurrent.atomic.AtomicBoolean warnOnUse;

  private Pagination(CursorCodec codec, boolean randomKey) {
    this.codec = codec;
    this.warnOnUse = new java.util.concurrent.atomic.AtomicBoolean(randomKey);
  }

  /**
   * Signs cursors with {@code secret} (at least 32 bytes), so they survive restarts and work on
   * every instance.
   */
  public static Pagination withSecret(byte[] secret) {
    if (secret.length < 32) {
      throw new IllegalArgumentException(
          "cursor secret must be at least 32 bytes, but was " + secret.length);
    }
    return new Pagination(CursorCodec.of(secret), false);
  }

  /** Signs cursors with a random key: cursors work only in this process, until it restarts. */
  public static Pagination withRandomKey() {
    return new Pagination(CursorCodec.random(), true);
  }

  /**
   * Fetches the page after {@code cursor} ({@code null}: the first page).
   *
   * @param query the select, without ORDER BY or LIMIT
   * @param pageSize rows per page, 1 to {@link #MAX_PAGE_SIZE}
   * @param cursor a cursor from a previous page of the same query, or {@code null}
   * @param keyset the order, a unique key: fields (ascending) or sort fields ({@code .desc()})
   * @throws InvalidCursorException when the cursor was not issued for this query
   */
  public <R extends Record> Page<R> fetch(
      DSLContext db,
      SelectOrderByStep<R> query,
      int pageSize,
      String cursor,
      OrderField<?>... keyset) {
    Objects.requireNonNull(query, "query");
    if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
      throw new IllegalArgumentException(
          "pageSize must be between 1 and " + MAX_PAGE_SIZE + ", but was " + pageSize);
    }
    if (keyset.length == 0 || keyset.length > 255) {
      throw new IllegalArgumentException(
          "keyset must have 1 to 255 columns, but had " + keyset.length);
    }
    var sorts = new SortField<?>[keyset.length];
    var fields = new Field<?>[keyset.length];
    for (int i = 0; i < keyset.length; i++) {
      sorts[i] = keyset[i] instanceof SortField<?> s ? s : ((Field<?>) keyset[i]).asc();
      fields[i] = sorts[i].$field();
    }
    if (warnOnUse.compareAndSet(true, false)) {
      LOG.warn(
          "BALLAST_CURSOR_SECRET is not set: page cursors are signed with a random key and stop working when"
              + " this process restarts, and on other instances. Set a secret of 32+ characters shared by all instances.");
    }
    var ordered = query.orderBy(sorts);
    var identity = identity(db.renderInlined(ordered));

    List<R> rows;
    if (cursor == null) {
      rows = ordered.limit(pageSize + 1).fetch();
    } else {
      var values = codec.decode(cursor, identity, keyset.length);
      for (int i = 0; i < values.length; i++) {
        values[i] = fields[i].getDataType().convert(values[i]);
      }
      rows = ordered.seek(values).limit(pageSize + 1).fetch();
    }
    var hasMore = rows.size() > pageSize;
    var items = hasMore ? new ArrayList<>(rows.subList(0, pageSize)) : rows;
    String next = null;
    if (hasMore) {
      var last = items.get(items.size() - 1);
      var values = new Object[fields.length];
      for (int i = 0; i < fields.length; i++) {
        var field = last.field(fields[i]);
        if (field == null) {
          throw new IllegalArgumentException(
              "keyset column " + fields[i].getName() + " must be in the select list");
        }
        values[i] = last.get(field);
      }
      next = codec.encode(identity, values);
    }
    return new Page<>(items, next, hasMore);
  }

  private static byte[] identity(String sql) {
    try {
      return Arrays.copyOf(
          MessageDigest.getInstance("SHA-256").digest(sql.getBytes(StandardCharsets.UTF_8)), 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }
}
