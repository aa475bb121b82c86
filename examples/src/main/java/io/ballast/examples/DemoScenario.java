package io.ballast.examples;

import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.table;

import io.ballast.cache.CacheRegion;
import io.ballast.cache.Caches;
import io.ballast.cache.RegionSettings;
import io.ballast.core.Ballast;
import io.ballast.ops.load.Scenario;
import java.io.OutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.jooq.DSLContext;
import org.jooq.Field;

/**
 * The demo's application under {@code ballast load} ({@code java -jar ballast-demo.jar load ...}):
 * the demo's modules over {@code DATABASE_URL} and {@code REDIS_URL} (embedded servers when unset),
 * its seeded shop, and per request one of: a cached customer read (85 %, most of them of 100 hot
 * customers, the rest spread over all 1 000), a customer's order total (10 %, an indexed
 * aggregate), or a rename written through and invalidated (5 %).
 */
public final class DemoScenario implements Scenario {
  private static final Field<Long> ID = field(name("id"), Long.class);
  private static final Field<String> NAME = field(name("name"), String.class);
  private static final Field<Long> CUSTOMER_ID = field(name("customer_id"), Long.class);
  private static final Field<BigDecimal> TOTAL = field(name("total"), BigDecimal.class);

  private DSLContext db;
  private CacheRegion<Demo.Customer> customers;

  /** For {@code --scenario}. */
  public DemoScenario() {}

  @Override
  public Ballast start(Map<String, String> env) {
    var quiet = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
    var app = Demo.start(env, quiet);
    db = app.get(DSLContext.class);
    Demo.seed(db, quiet);
    customers =
        app.get(Caches.class)
            .region(
                RegionSettings.builder("customers", Demo.Customer.class)
                    .mediumTtl()
                    .negativeTtl(Duration.ofSeconds(30))
                    .build());
    customers.invalidateAll();
    return app;
  }

  @Override
  public void call(ThreadLocalRandom random) {
    var dice = random.nextInt(100);
    var id = random.nextInt(10) < 8 ? 1 + random.nextLong(100) : 1 + random.nextLong(1000);
    if (dice < 85) {
      customers.get(Long.toString(id), key -> Demo.loadCustomer(db, key));
    } else if (dice < 95) {
      db.select(org.jooq.impl.DSL.sum(TOTAL))
          .from(table(name("orders")))
          .where(CUSTOMER_ID.eq(id))
          .fetchOne();
    } else {
      db.update(table(name("customers"))).set(NAME, "customer " + id).where(ID.eq(id)).execute();
      customers.invalidate(Long.toString(id));
    }
  }
}
