package io.ballast.audit;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.jooq.DSLContext;

/** The start-up check that row-level security binds the role the application connects as. */
final class RowSecurityCheck {
  private RowSecurityCheck() {}

  /**
   * The problems found, each with its fix; empty when RLS holds. A protected table is one with
   * row-level security enabled, or one named in {@code declared} ({@code BALLAST_RLS_TABLES}).
   */
  static List<String> problems(DSLContext db, Collection<String> declared) {
    var problems = new ArrayList<String>();
    var role =
        db.fetchOne(
            "select current_user::text as name, r.rolsuper, r.rolbypassrls from pg_roles r "
                + "where r.rolname = current_user");
    var name = role.get("name", String.class);
    if (Boolean.TRUE.equals(role.get("rolsuper", Boolean.class))) {
      problems.add(
          "role "
              + name
              + " is a superuser, and superusers bypass every row-level security policy; "
              + "connect as a role without SUPERUSER (and grant it only the privileges it needs)");
    }
    if (Boolean.TRUE.equals(role.get("rolbypassrls", Boolean.class))) {
      problems.add(
          "role "
              + name
              + " has BYPASSRLS, which skips every row-level security policy; "
              + "fix: ALTER ROLE "
              + name
              + " NOBYPASSRLS");
    }
    var tables =
        db.fetch(
            "select n.nspname || '.' || c.relname as name, c.relrowsecurity, c.relforcerowsecurity, "
                + "pg_has_role(current_user, c.relowner, 'USAGE') as owned "
                + "from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                + "where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') "
                + "and (c.relrowsecurity or c.oid = any (select to_regclass(t) from unnest(?::text[]) t)) order by 1",
            (Object) declared.toArray(String[]::new));
    for (var t : tables) {
      var table = t.get("name", String.class);
      if (!t.get("relrowsecurity", Boolean.class)) {
        problems.add(
            "table "
                + table
                + " is declared protected (BALLAST_RLS_TABLES) but has no row-level "
                + "security; fix: ALTER TABLE "
                + table
                + " ENABLE ROW LEVEL SECURITY and add a policy "
                + "(RowSecurity.table(\""
                + table
                + "\")...)");
      } else if (t.get("owned", Boolean.class) && !t.get("relforcerowsecurity", Boolean.class)) {
        problems.add(
            "role "
                + name
                + " owns table "
                + table
                + ", which has row-level security but not FORCE, so "
                + "its policies do not apply to this role; fix: ALTER TABLE "
                + table
                + " FORCE ROW LEVEL SECURITY");
      }
    }
    for (var declaredTable : declared) {
      var exists = db.fetchValue("select to_regclass(?) is not null", declaredTable);
      if (!Boolean.TRUE.equals(exists)) {
        problems.add(
            "table "
                + declaredTable
                + " is declared protected (BALLAST_RLS_TABLES) but does not exist "
                + "for role "
                + name
                + " (check its schema and the search_path)");
      }
    }
    return problems;
  }
}
