package io.ballast.migrations;

/**
 * An index PostgreSQL marks INVALID ({@code pg_index.indisvalid = false}): what a failed {@code
 * CREATE INDEX CONCURRENTLY} leaves behind. It is maintained on every write but never used by
 * queries, and {@code CREATE INDEX … IF NOT EXISTS} will not replace it.
 *
 * @param schema the index's schema
 * @param table the table it belongs to
 * @param name the index's name
 * @param definition its definition ({@code pg_get_indexdef})
 */
public record InvalidIndex(String schema, String table, String name, String definition) {
  /** {@code schema.name}. */
  public String qualifiedName() {
    return schema + "." + name;
  }
}
