package io.ballast.core.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Table;
import org.jooq.impl.DSL;

/**
 * {@code INSERT … ON CONFLICT (…) DO UPDATE} in one statement, instead of find-then-write (which
 * costs two round trips per row and races with other writers). The conflict target and the updated
 * columns are always explicit. Immutable; build once and reuse.
 *
 * <pre>{@code
 * var upsert = Upsert.into(ACCOUNTS).onConflict(ACCOUNTS_ID).updating(NAME, BALANCE);
 * Record saved = upsert.one(db, row);               // returns the row as stored
 * int written = upsert.all(db, thousandsOfRows);    // a few multi-row statements, in one transaction
 *
 * // counters: add instead of replace; refer to the stored row through a table-qualified field
 * Upsert.into(HITS).onConflict(PAGE).set(COUNT, HITS.COUNT.plus(DSL.excluded(COUNT)));
 * }</pre>
 *
 * <p>{@link #all} removes rows repeating a conflict key (the last one wins; PostgreSQL refuses to
 * update one row twice in a statement), writes in conflict-key order (so concurrent batch writers
 * lock rows in the same order and cannot deadlock), and splits the rows into statements of at most
 * {@link #MAX_ROWS_PER_STATEMENT} rows and 65 535 bind values.
 *
 * @param <R> the table's record type
 */
public final class Upsert<R extends Record> {
  /** Rows per multi-row statement at most. */
  public static final int MAX_ROWS_PER_STATEMENT = 1_000;

  private static final int MAX_BIND_VALUES = 65_535;

  private final Table<R> table;
  private final List<Field<?>> conflict;
  private final Map<Field<?>, Field<?>> updates;

  private Upsert(Table<R> table, List<Field<?>> conflict, Map<Field<?>, Field<?>> updates) {
    this.table = table;
    this.conflict = conflict;
    this.updates = updates;
  }

  /** Starts an upsert into {@code table}. */
  public static <R extends Record> Builder<R> into(Table<R> table) {
    return new Builder<>(Objects.requireNonNull(table, "table"));
  }

  /** Inserts {@code row} or updates the row it conflicts with; returns the row as stored. */
  public Record one(DSLContext db, Record row) {
    var insert =
        db.insertInto(table, row.fields())
            .values(row.intoArray())
            .onConflict(conflict)
            .doUpdate()
            .set(updates);
    // "returning *" as a plain result query: the row's columns then come from the result set
    // itself, so the
    // whole stored row (defaults included) comes back even for tables declared without their fields
    return db.fetchOne(DSL.resultQuery("{0} returning *", insert));
  }

  /**
   * Upserts {@code rows} (all with the same fields) in a few multi-row statements inside one
   * transaction.
   *
   * @return the number of rows inserted or updated
   */
  public int all(DSLContext db, Collection<? extends Record> rows) {
    if (rows.isEmpty()) {
      return 0;
    }
    var fields = rows.iterator().next().fields();
    var keyIndexes = new int[conflict.size()];
    for (int i = 0; i < keyIndexes.length; i++) {
      keyIndexes[i] = indexOf(fields, conflict.get(i));
    }
    // last row per conflict key wins, then conflict-key order
    var unique = new LinkedHashMap<List<Object>, Object[]>();
    for (var row : rows) {
      if (row.size() != fields.length) {
        throw new IllegalArgumentException(
            "all rows must have the same fields as the first: " + Arrays.toString(fields));
      }
      var values = row.intoArray();
      var key = new ArrayList<>(keyIndexes.length);
      for (var i : keyIndexes) {
        key.add(values[i]);
      }
      unique.remove(key);
      unique.put(key, values);
    }
    var ordered = new ArrayList<>(unique.entrySet());
    ordered.sort(Map.Entry.comparingByKey(Upsert::compareKeys));
    var perStatement =
        Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, MAX_BIND_VALUES / fields.length));
    return db.transactionResult(
        cfg -> {
          var tx = cfg.dsl();
          int written = 0;
          for (int from = 0; from < ordered.size(); from += perStatement) {
            var insert = tx.insertInto(table, fields);
            for (var e : ordered.subList(from, Math.min(ordered.size(), from + perStatement))) {
              insert = insert.values(e.getValue());
            }
            written += insert.onConflict(conflict).doUpdate().set(updates).execute();
          }
          return written;
        });
  }

  private static int indexOf(Field<?>[] fields, Field<?> field) {
    for (int i = 0; i < fields.length; i++) {
      if (fields[i].getName().equals(field.getName())) {
        return i;
      }
    }
    throw new IllegalArgumentException("rows must include the conflict column " + field.getName());
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static int compareKeys(List<Object> a, List<Object> b) {
    for (int i = 0; i < a.size(); i++) {
      var x = a.get(i);
      var y = b.get(i);
      if (x instanceof Comparable cx && y != null && x.getClass() == y.getClass()) {
        var c = cx.compareTo(y);
        if (c != 0) {
          return c;
        }
      } else {
        var c = Comparator.<String>naturalOrder().compare(String.valueOf(x), String.valueOf(y));
        if (c != 0) {
          return c;
        }
      }
    }
    return 0;
  }

  /** Builder of an {@link Upsert}. */
  public static final class Builder<R extends Record> {
    private final Table<R> table;
    private final List<Field<?>> conflict = new ArrayList<>();
    private final Map<Field<?>, Field<?>> updates = new LinkedHashMap<>();

    private Builder(Table<R> table) {
      this.table = table;
    }

    /** The conflict target: the columns of a unique index or constraint. */
    public Builder<R> onConflict(Field<?>... columns) {
      if (columns.length == 0) {
        throw new IllegalArgumentException("onConflict needs at least one column");
      }
      conflict.addAll(List.of(columns));
      return this;
    }

    /** Columns set to the new row's values ({@code col = EXCLUDED.col}) on conflict. */
    public Builder<R> updating(Field<?>... columns) {
      for (var c : columns) {
        updates.put(c, DSL.excluded(c));
      }
      return this;
    }

    /**
     * A column set to an expression on conflict, e.g. {@code HITS.COUNT.plus(DSL.excluded(COUNT))}.
     * Refer to the stored row through table-qualified fields (generated fields are): PostgreSQL
     * finds a bare column name ambiguous between the table and {@code EXCLUDED}.
     */
    public <T> Builder<R> set(Field<T> column, Field<T> value) {
      updates.put(column, value);
      return this;
    }

    /** Builds the {@code Upsert}. */
    public Upsert<R> build() {
      if (conflict.isEmpty()) {
        throw new IllegalStateException("name the conflict target with onConflict(…)");
      }
      if (updates.isEmpty()) {
        throw new IllegalStateException("name the columns to update with updating(…) or set(…)");
      }
      return new Upsert<>(table, List.copyOf(conflict), Map.copyOf(updates));
    }
  }
}
