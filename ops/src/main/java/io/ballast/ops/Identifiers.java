package io.ballast.ops;

/** PostgreSQL identifiers in SQL text: always quoted, so no name is read as SQL. */
final class Identifiers {
  private Identifiers() {}

  /** {@code "name"}, inner quotes doubled. */
  static String quote(String name) {
    return '"' + name.replace("\"", "\"\"") + '"';
  }

  /** {@code "schema"."name"}. */
  static String qualified(String schema, String name) {
    return quote(schema) + "." + quote(name);
  }

  /** {@code table} or {@code schema.table} as quoted SQL; an unqualified name stays unqualified. */
  static String table(String maybeQualified) {
    var dot = maybeQualified.indexOf('.');
    return dot < 0
        ? quote(maybeQualified)
        : qualified(maybeQualified.substring(0, dot), maybeQualified.substring(dot + 1));
  }
}
