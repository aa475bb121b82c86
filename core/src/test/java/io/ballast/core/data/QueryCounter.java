package io.ballast.core.data;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.jooq.ExecuteContext;
import org.jooq.ExecuteListener;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.jooq.impl.DefaultConfiguration;

/** A DSLContext on a real database that records every statement it sends. */
final class QueryCounter {
  final List<String> statements = new CopyOnWriteArrayList<>();
  final DSLContext db;

  QueryCounter(DataSource dataSource) {
    db =
        DSL.using(
            new DefaultConfiguration()
                .set(dataSource)
                .set(SQLDialect.POSTGRES)
                .set(
                    () ->
                        new ExecuteListener() {
                          @Override
                          public void executeStart(ExecuteContext ctx) {
                            statements.add(ctx.sql());
                          }
                        }));
  }

  long count(String prefix) {
    return statements.stream().filter(s -> s.startsWith(prefix)).count();
  }
}
