package io.ballast.audit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jooq.impl.DSL;

/**
 * A table to audit, with the columns never stored ({@link Builder#exclude}) and those stored masked
 * ({@link Builder#redact}). Capture is by statement-level triggers, so every write is recorded,
 * whatever code path or raw SQL made it. Put a table under audit from a migration with {@link
 * #sql()}, or at run time with {@link AuditLog#enable(AuditTable)}:
 *
 * <pre>{@code
 * AuditTable.of("customers").exclude("password_hash").redact("email", "phone").build().sql()
 * // select ballast_audit.enable('customers', array['password_hash']::text[], array['email','phone']::text[], null)
 * }</pre>
 *
 * <p>An update that changes only excluded columns writes no audit row.
 */
public final class AuditTable {
  private static final Pattern TABLE =
      Pattern.compile("([A-Za-z_][A-Za-z0-9_$]*\\.)?[A-Za-z_][A-Za-z0-9_$]*");
  private static final Pattern COLUMN = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*");

  private final String table;
  private final List<String> excluded;
  private final List<String> redacted;
  private final List<String> keyColumns;

  private AuditTable(Builder b) {
    this.table = b.table;
    this.excluded = List.copyOf(b.excluded);
    this.redacted = List.copyOf(b.redacted);
    this.keyColumns = b.keyColumns == null ? null : List.copyOf(b.keyColumns);
  }

  /** A table, optionally schema-qualified. */
  public static Builder of(String table) {
    return new Builder(table);
  }

  /** The audited table. */
  public String table() {
    return table;
  }

  /** Columns left out of the audit rows. */
  public List<String> excluded() {
    return excluded;
  }

  /** Columns whose values are replaced by a marker in the audit rows. */
  public List<String> redacted() {
    return redacted;
  }

  /** The record-id columns, or {@code null} for the primary key. */
  public List<String> keyColumns() {
    return keyColumns;
  }

  /** The statement that puts the table under audit, for a migration file. */
  public String sql() {
    return "select ballast_audit.enable("
        + DSL.inline(table)
        + ", "
        + array(excluded)
        + ", "
        + array(redacted)
        + ", "
        + (keyColumns == null ? "null" : array(keyColumns))
        + ")";
  }

  private static String array(List<String> values) {
    var parts = new ArrayList<String>();
    for (var v : values) {
      parts.add(DSL.inline(v).toString());
    }
    return "array[" + String.join(", ", parts) + "]::text[]";
  }

  @Override
  public String toString() {
    return "AuditTable[" + table + ", excluded " + excluded + ", redacted " + redacted + "]";
  }

  /** Builds an {@link AuditTable}. */
  public static final class Builder {
    private final String table;
    private final List<String> excluded = new ArrayList<>();
    private final List<String> redacted = new ArrayList<>();
    private List<String> keyColumns;

    private Builder(String table) {
      if (table == null || !TABLE.matcher(table).matches()) {
        throw new IllegalArgumentException(
            "audited table must be name or schema.name, but was " + table);
      }
      this.table = table;
    }

    /** Columns never stored in the audit log. */
    public Builder exclude(String... columns) {
      excluded.addAll(columns("excluded", columns));
      return this;
    }

    /**
     * Columns stored as {@code "[redacted]"}: the log shows that they changed, not their values.
     */
    public Builder redact(String... columns) {
      redacted.addAll(columns("redacted", columns));
      return this;
    }

    /**
     * The columns that identify a row, when the table has no primary key (or another key is
     * wanted).
     */
    public Builder keyColumns(String... columns) {
      keyColumns = columns("key", columns);
      return this;
    }

    /** Builds the {@code AuditTable}. */
    public AuditTable build() {
      return new AuditTable(this);
    }

    private static List<String> columns(String what, String... columns) {
      Objects.requireNonNull(columns, what + " columns");
      for (var c : columns) {
        if (c == null || !COLUMN.matcher(c).matches()) {
          throw new IllegalArgumentException(
              what + " column must be an SQL identifier, but was " + c);
        }
      }
      return List.of(columns);
    }
  }
}
