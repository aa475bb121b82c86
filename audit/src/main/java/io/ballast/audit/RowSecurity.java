package io.ballast.audit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;

/**
 * Puts a table under row-level security driven by the acting context: rows are visible and writable
 * only when their tenant column equals the context's tenant and/or their owner column equals the
 * context's user, or when the context's role is the admin role. {@code ENABLE} and {@code FORCE ROW
 * LEVEL SECURITY} are both set, so the policy binds the table's owner too. Without a context, no
 * row is visible and every write is refused.
 *
 * <pre>{@code
 * RowSecurity.table("orders").tenantColumn("tenant_id", "uuid").adminRole("support").build()
 *     .ddl();             // the statements, for a migration file
 * RowSecurity.table("notes").ownerColumn("author_id").build()
 *     .apply(db);         // looks up the column types and runs the statements in one transaction
 * }</pre>
 *
 * <p>The policy compares the column with the setting cast to the column's type, so an index on the
 * column serves it. Immutable and thread-safe.
 */
public final class RowSecurity {
  /** The name of the policy Ballast creates (and replaces) on a protected table. */
  public static final String POLICY = "ballast_rls";

  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}");
  private static final Pattern TYPE = Pattern.compile("[A-Za-z_][A-Za-z0-9_ ,()\\[\\]]{0,62}");

  private final String schema;
  private final String table;
  private final String tenantColumn;
  private final String tenantType;
  private final String ownerColumn;
  private final String ownerType;
  private final String adminRole;

  private RowSecurity(Builder b) {
    this.schema = b.schema;
    this.table = b.table;
    this.tenantColumn = b.tenantColumn;
    this.tenantType = b.tenantType;
    this.ownerColumn = b.ownerColumn;
    this.ownerType = b.ownerType;
    this.adminRole = b.adminRole;
  }

  /** A policy for {@code table}, optionally schema-qualified ({@code app.orders}). */
  public static Builder table(String table) {
    return new Builder(table);
  }

  /** The table, as given. */
  public String tableName() {
    return schema == null ? table : schema + "." + table;
  }

  /**
   * The statements that protect the table, with column types as given ({@code text} where none
   * was).
   */
  public List<String> ddl() {
    return ddl(tenantType == null ? "text" : tenantType, ownerType == null ? "text" : ownerType);
  }

  /**
   * Protects the table: looks up the types of the columns not given one, then runs {@link #ddl()}'s
   * statements in one transaction. Needs the right to alter the table (its owner).
   */
  public void apply(DSLContext db) {
    db.transaction(
        cfg -> {
          var tx = cfg.dsl();
          var tenant =
              tenantColumn == null
                  ? null
                  : tenantType != null ? tenantType : columnType(tx, tenantColumn);
          var owner =
              ownerColumn == null
                  ? null
                  : ownerType != null ? ownerType : columnType(tx, ownerColumn);
          for (var sql : ddl(tenant, owner)) {
            tx.execute(sql);
          }
        });
  }

  private String columnType(DSLContext tx, String column) {
    var type =
        tx.fetchValue(
            "select format_type(a.atttypid, a.atttypmod) from pg_attribute a "
                + "where a.attrelid = to_regclass(?) and a.attname = ? and a.attnum > 0 and not a.attisdropped",
            quotedTable(),
            column);
    if (type == null) {
      throw new IllegalArgumentException(
          "cannot protect table "
              + tableName()
              + ": it has no column "
              + column
              + " (or the table does not exist)");
    }
    return type.toString();
  }

  private List<String> ddl(String tenant, String owner) {
    var target = quotedTable();
    var conditions = new ArrayList<String>();
    if (tenantColumn != null) {
      conditions.add(
          quote(tenantColumn)
              + " = nullif(current_setting('ballast.tenant_id', true), '')::"
              + tenant);
    }
    if (ownerColumn != null) {
      conditions.add(
          quote(ownerColumn) + " = nullif(current_setting('ballast.user_id', true), '')::" + owner);
    }
    var predicate = "(" + String.join(" and ", conditions) + ")";
    if (adminRole != null) {
      predicate =
          "("
              + predicate
              + " or nullif(current_setting('ballast.role', true), '') = "
              + DSL.inline(adminRole)
              + ")";
    }
    return List.of(
        "alter table " + target + " enable row level security",
        "alter table " + target + " force row level security",
        "drop policy if exists " + POLICY + " on " + target,
        "create policy "
            + POLICY
            + " on "
            + target
            + " for all using "
            + predicate
            + " with check "
            + predicate);
  }

  private String quotedTable() {
    return (schema == null ? "" : quote(schema) + ".") + quote(table);
  }

  private static String quote(String identifier) {
    return "\"" + identifier + "\"";
  }

  @Override
  public String toString() {
    return "RowSecurity["
        + tableName()
        + (tenantColumn == null ? "" : ", tenant " + tenantColumn)
        + (ownerColumn == null ? "" : ", owner " + ownerColumn)
        + (adminRole == null ? "" : ", admin " + adminRole)
        + "]";
  }

  /** Builds a {@link RowSecurity}; at least one of the tenant and the owner column is required. */
  public static final class Builder {
    private final String schema;
    private final String table;
    private String tenantColumn;
    private String tenantType;
    private String ownerColumn;
    private String ownerType;
    private String adminRole = "admin";

    private Builder(String qualified) {
      Objects.requireNonNull(qualified, "table");
      var dot = qualified.indexOf('.');
      this.schema = dot < 0 ? null : identifier("schema", qualified.substring(0, dot));
      this.table = identifier("table", dot < 0 ? qualified : qualified.substring(dot + 1));
    }

    /** Isolates rows by tenant: {@code column} must equal the context's tenant id. */
    public Builder tenantColumn(String column) {
      this.tenantColumn = identifier("tenant column", column);
      return this;
    }

    /** As {@link #tenantColumn(String)}, with the column's SQL type given (no catalog look-up). */
    public Builder tenantColumn(String column, String type) {
      tenantColumn(column);
      this.tenantType = type(type);
      return this;
    }

    /** Isolates rows by owner: {@code column} must equal the context's user id. */
    public Builder ownerColumn(String column) {
      this.ownerColumn = identifier("owner column", column);
      return this;
    }

    /** As {@link #ownerColumn(String)}, with the column's SQL type given (no catalog look-up). */
    public Builder ownerColumn(String column, String type) {
      ownerColumn(column);
      this.ownerType = type(type);
      return this;
    }

    /**
     * The context role that sees and writes every row ({@code admin} by default); {@code null} for
     * none.
     */
    public Builder adminRole(String role) {
      if (role != null && (role.isEmpty() || role.length() > ActingContext.MAX_LENGTH)) {
        throw new IllegalArgumentException(
            "admin role must be 1 to "
                + ActingContext.MAX_LENGTH
                + " characters long, but was "
                + role.length()
                + " characters long");
      }
      this.adminRole = role;
      return this;
    }

    /** Builds the {@code RowSecurity}. */
    public RowSecurity build() {
      if (tenantColumn == null && ownerColumn == null) {
        throw new IllegalArgumentException(
            "row-level security for table "
                + table
                + " needs a tenant column, an owner column, or both");
      }
      return new RowSecurity(this);
    }

    private static String identifier(String what, String value) {
      if (value == null || !IDENTIFIER.matcher(value).matches()) {
        throw new IllegalArgumentException(
            what
                + " must be an SQL identifier matching "
                + IDENTIFIER.pattern()
                + ", but was "
                + value);
      }
      return value;
    }

    private static String type(String value) {
      if (value == null || !TYPE.matcher(value).matches()) {
        throw new IllegalArgumentException(
            "column type must be an SQL type name such as uuid, bigint or text, "
                + "but was "
                + value);
      }
      return value;
    }
  }
}
