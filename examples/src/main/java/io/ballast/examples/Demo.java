package io.ballast.examples;

import static org.jooq.impl.DSL.count;
import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.sum;
import static org.jooq.impl.DSL.table;

import io.ballast.audit.ActingContext;
import io.ballast.audit.AuditLog;
import io.ballast.audit.AuditModule;
import io.ballast.audit.AuditSettings;
import io.ballast.audit.RequestContext;
import io.ballast.cache.CacheRegion;
import io.ballast.cache.CacheSettings;
import io.ballast.cache.Caches;
import io.ballast.cache.RedisCacheModule;
import io.ballast.cache.RegionSettings;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.HealthRegistry;
import io.ballast.core.ProbeKind;
import io.ballast.core.admin.AdminModule;
import io.ballast.core.admin.AdminServer;
import io.ballast.core.admin.AdminSettings;
import io.ballast.core.data.Pagination;
import io.ballast.core.settings.SettingException;
import io.ballast.migrations.MigrationSettings;
import io.ballast.migrations.Migrations;
import io.ballast.migrations.MigrationsModule;
import io.ballast.ops.JobRunner;
import io.ballast.ops.OpsModule;
import io.ballast.ops.OpsSettings;
import io.ballast.ops.backup.BackupSettings;
import io.ballast.pool.Pool;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.pool.ReplicaModule;
import io.ballast.pool.ReplicaSettings;
import io.ballast.pool.Replicas;
import io.ballast.resilience.ResilienceModule;
import io.ballast.resilience.ResilienceSettings;
import io.ballast.resilience.Transactions;
import io.ballast.testkit.PostgresServer;
import io.ballast.testkit.RedisServer;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Table;

/**
 * The {@code demo} command: wires Ballast's modules over {@code DATABASE_URL} and {@code REDIS_URL}
 * (or an embedded PostgreSQL and Redis when they are unset), migrates its schema with Flyway, seeds
 * it, runs a few queries, caches a read path, prints what it did, then serves a light background
 * load of cached lookups until Ctrl-C or until {@code --duration} has passed. The {@code load}
 * command runs the same application under {@code ballast load} ({@link DemoScenario}).
 */
final class Demo {
  static final String USAGE =
      "usage: ballast-demo demo [--duration <30s|2m|500ms|seconds>]\n"
          + "       ballast-demo load [ballast load options: --profile, --rate, --duration,"
          + " --threshold, --out, ...]";
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)?");
  private static final String DEMO_DATABASE = "ballast_demo";
  private static final String DEMO_ROLE = "ballast_demo_app";
  // the embedded server listens on loopback only and lives as long as the demo
  private static final String DEMO_ROLE_PASSWORD = "ballast-demo-local";

  private static final Table<Record> CUSTOMERS = table(name("customers"));
  private static final Table<Record> ORDERS = table(name("orders"));
  private static final Field<Long> ID = field(name("id"), Long.class);
  private static final Field<String> NAME = field(name("name"), String.class);
  private static final Field<Long> CUSTOMER_ID = field(name("customer_id"), Long.class);
  private static final Field<BigDecimal> TOTAL = field(name("total"), BigDecimal.class);

  private Demo() {}

  /** Runs the command; returns the process exit code. */
  static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    if (args.length > 0 && args[0].equals("load")) {
      // the demo's read and write paths under `ballast load`
      var load = new String[args.length + 2];
      load[0] = "load";
      load[1] = "--scenario";
      load[2] = DemoScenario.class.getName();
      System.arraycopy(args, 1, load, 3, args.length - 1);
      return io.ballast.ops.cli.BallastCli.run(load, env, out, err);
    }
    if (args.length == 0 || !args[0].equals("demo")) {
      err.println(USAGE);
      return 2;
    }
    Duration duration = null;
    for (int i = 1; i < args.length; i++) {
      if (args[i].equals("--duration") && i + 1 < args.length) {
        var parsed = parseDuration(args[++i]);
        if (parsed == null) {
          err.println(
              "--duration must be a whole number with an optional unit ms, s, m or h, but was "
                  + args[i]);
          err.println(USAGE);
          return 2;
        }
        duration = parsed;
      } else {
        err.println("unknown argument " + args[i]);
        err.println(USAGE);
        return 2;
      }
    }
    try {
      return serve(env, duration, out);
    } catch (SettingException e) {
      err.println("Bad setting: " + e.getMessage());
      return 1;
    }
  }

  static Duration parseDuration(String raw) {
    var m = DURATION.matcher(raw.trim());
    if (!m.matches()) {
      return null;
    }
    var n = Long.parseLong(m.group(1));
    var unit = m.group(2) == null ? "s" : m.group(2);
    return switch (unit) {
      case "ms" -> Duration.ofMillis(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofSeconds(n);
    };
  }

  /**
   * Starts the demo's modules over {@code env}: an embedded PostgreSQL and Redis when {@code
   * DATABASE_URL} and {@code REDIS_URL} are not set, every setting printed to {@code out}.
   */
  static Ballast start(Map<String, String> env, PrintStream out) {
    var effective = new HashMap<>(env);
    if (env.get(PoolSettings.DATABASE_URL) == null
        || env.get(PoolSettings.DATABASE_URL).isBlank()) {
      out.println("DATABASE_URL is not set: starting an embedded PostgreSQL 16 ...");
      effective.put(PoolSettings.DATABASE_URL, embeddedDatabaseUrl());
    }
    if (isBlank(env.get(CacheSettings.REDIS_URL))
        && !"false".equalsIgnoreCase(env.get(CacheSettings.REDIS_ENABLED.variable()))) {
      out.println("REDIS_URL is not set: starting an embedded Redis ...");
      effective.put(CacheSettings.REDIS_URL, RedisServer.shared().url());
      effective.putIfAbsent(CacheSettings.NAMESPACE.variable(), "ballast-demo:");
    }
    var core = CoreSettings.fromEnv(effective);
    var poolSettings = PoolSettings.fromEnv(effective);
    var migrationSettings = MigrationSettings.fromEnv(effective);
    out.println("Settings: " + core);
    out.println("          " + poolSettings);
    out.println("          " + migrationSettings);

    var cacheSettings = CacheSettings.fromEnv(effective);
    out.println("          " + cacheSettings);
    var resilienceSettings = ResilienceSettings.fromEnv(effective);
    out.println("          " + resilienceSettings);
    var replicaSettings = ReplicaSettings.fromEnv(poolSettings, effective);
    out.println("          " + replicaSettings);
    var adminSettings = AdminSettings.fromEnv(effective::get);
    out.println("          " + adminSettings);
    var auditSettings = AuditSettings.fromEnv(effective);
    out.println("          " + auditSettings);
    var opsSettings = OpsSettings.fromEnv(effective);
    out.println("          " + opsSettings);
    // the nightly backup + restore test is part of the demo's schedule; its dumps go to a temporary
    // directory unless BALLAST_BACKUP_DIR names one
    effective.putIfAbsent(
        BackupSettings.DIRECTORY.variable(),
        Path.of(System.getProperty("java.io.tmpdir"), "ballast-demo-backups").toString());
    var backupSettings = BackupSettings.fromEnv(effective);
    out.println("          " + backupSettings);

    return Ballast.start(
        new CoreModule(core),
        new PoolModule(poolSettings),
        new ReplicaModule(replicaSettings),
        new MigrationsModule(migrationSettings),
        new AuditModule(auditSettings),
        new RedisCacheModule(cacheSettings),
        new ResilienceModule(resilienceSettings),
        new OpsModule(opsSettings, backupSettings),
        new AdminModule(adminSettings));
  }

  private static int serve(Map<String, String> env, Duration duration, PrintStream out) {
    try (var app = start(env, out)) {
      var adminSettings = app.get(AdminSettings.class);
      var db = app.get(DSLContext.class);
      var pool = app.get(Pool.class);
      out.println(
          "Started: "
              + app.lifecycle().services().size()
              + " managed service(s), pool "
              + pool.snapshot());
      pool.sizing().ifPresent(s -> out.println("Pool sizing: " + s.message()));
      out.println(
          "Jobs (UTC cron, once across instances): "
              + app.get(JobRunner.class).jobs().stream()
                  .map(j -> j.name() + " '" + j.schedule() + "'")
                  .toList());

      for (var set : app.get(Migrations.class).status()) {
        out.println(
            "Migrations: set '"
                + set.set()
                + "' has "
                + set.applied().size()
                + " applied ("
                + set.applied().stream().map(e -> e.label()).toList()
                + "), "
                + set.pending().size()
                + " pending");
      }
      seed(db, out);
      runQueries(db, app.get(Transactions.class), out);
      listPageByPage(db, app.get(Pagination.class), out);
      var customers =
          app.get(Caches.class)
              .region(
                  RegionSettings.builder("customers", Customer.class)
                      .mediumTtl()
                      .negativeTtl(Duration.ofSeconds(30))
                      .build());
      cacheReads(db, app.get(Caches.class), customers, out);
      tenants(db, app.get(AuditLog.class), out);
      replicaReads(db, app.get(Replicas.class), out);

      var ready = app.get(HealthRegistry.class).run(ProbeKind.READY);
      out.println(
          "Readiness: "
              + (ready.healthy() ? "READY" : "NOT READY")
              + " "
              + ready.checks().stream()
                  .map(
                      c ->
                          c.name()
                              + "="
                              + switch (c.status()) {
                                case UP -> "up";
                                case DEGRADED -> "degraded (" + c.message() + ")";
                                case DOWN -> "down (" + c.message() + ")";
                              })
                  .toList());

      if (adminSettings.enabled()) {
        var base = "http://" + adminSettings.bind() + ":" + app.get(AdminServer.class).port();
        out.println(
            "Admin server: "
                + base
                + "/health  /health/ready  /health/deep  /health/cache  /health/queries"
                + "  /metrics");
      }
      serveUntilStopped(db, pool, customers, duration, out);
    }
    out.println("Stopped cleanly.");
    return 0;
  }

  /**
   * Reads through {@link Replicas}: a write and its read-back in one unit of work (the read goes to
   * a replica only once it has replayed the write), then reads without a position.
   */
  private static void replicaReads(DSLContext db, Replicas replicas, PrintStream out) {
    if (replicas.states().isEmpty()) {
      out.println(
          "Replicas: none configured (DATABASE_REPLICA_URLS); reads through Replicas run on the primary");
    } else {
      out.println(
          "Replicas: "
              + replicas.states().stream()
                  .map(
                      s ->
                          s.name()
                              + " "
                              + s.status()
                              + (s.reason().isEmpty() ? "" : " (" + s.reason() + ")"))
                  .toList());
    }
    String where;
    try (var unit = replicas.unitOfWork()) {
      db.update(CUSTOMERS).set(NAME, NAME).where(ID.eq(42L)).execute();
      where =
          replicas.read(
              r ->
                  r.select(NAME).from(CUSTOMERS).where(ID.eq(42L)).fetchOne(NAME)
                      + " read back on "
                      + (r.fetchSingle("select pg_is_in_recovery()").get(0, Boolean.class)
                          ? "a replica"
                          : "the primary"));
      out.println(
          "Replica reads: a write at WAL position " + unit.position() + ", then '" + where + "'");
    }
    var onReplica = 0;
    for (int i = 0; i < 100; i++) {
      if (replicas.read(r -> r.fetchSingle("select pg_is_in_recovery()").get(0, Boolean.class))) {
        onReplica++;
      }
    }
    out.println(
        "Replica reads: 100 reads without a position, "
            + onReplica
            + " on a replica, "
            + (100 - onReplica)
            + " on the primary");
  }

  /**
   * Two tenants work side by side, each in its own acting context: each sees only its own notes
   * (row-level security), the admin role sees both, and the audit trail records who changed what.
   */
  private static void tenants(DSLContext db, AuditLog audit, PrintStream out) {
    var run = Long.toString(System.nanoTime() % 100_000);
    var workers = new ArrayList<Thread>();
    for (var tenant : List.of("acme", "globex")) {
      workers.add(
          new Thread(
              () -> {
                var acting =
                    ActingContext.builder()
                        .userId(tenant + "-user")
                        .tenantId(tenant)
                        .clientIp("127.0.0.1")
                        .requestId(tenant + "-" + run)
                        .build();
                try (var scope = RequestContext.open(acting)) {
                  db.transaction(
                      cfg -> {
                        for (int i = 1; i <= 3; i++) {
                          cfg.dsl()
                              .execute(
                                  "insert into notes (tenant_id, author, body) values (?, ?, ?)",
                                  tenant,
                                  acting.userId(),
                                  tenant + " note " + i + " of run " + run);
                        }
                      });
                  db.execute(
                      "update notes set body = body || ' (edited)' where id = (select min(id) from notes where body "
                          + "like ?)",
                      "% of run " + run + "%");
                  db.execute(
                      "delete from notes where id = (select max(id) from notes where body like ?)",
                      "% of run " + run + "%");
                }
              },
              "tenant-" + tenant));
    }
    for (var w : workers) {
      w.start();
    }
    try {
      for (var w : workers) {
        w.join();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    for (var tenant : List.of("acme", "globex")) {
      var notes =
          RequestContext.as(db, ActingContext.of(tenant + "-user", tenant))
              .fetch(
                  "select tenant_id, body from notes where body like ? order by id",
                  "% of run " + run + "%");
      out.println(
          "Tenant "
              + tenant
              + " sees "
              + notes.size()
              + " notes of this run, of tenants "
              + notes.getValues(0, String.class).stream().distinct().toList());
    }
    var admin = ActingContext.builder().userId("ops").role("admin").build();
    out.println(
        "The admin role sees "
            + RequestContext.as(db, admin)
                .fetchOne(
                    "select count(*) from notes where body " + "like ?", "% of run " + run + "%")
                .get(0)
            + " notes of this run; without a context a query sees "
            + db.fetchOne("select count(*) from notes").get(0));
    audit.seal();
    var trail =
        audit.byTable(
            "notes",
            OffsetDateTime.now(java.time.ZoneOffset.UTC).minusHours(1),
            OffsetDateTime.now(java.time.ZoneOffset.UTC).plusHours(1),
            8,
            null);
    out.println("Audit trail of notes, newest first:");
    for (var e : trail.items()) {
      out.println(
          "  #"
              + e.id()
              + " "
              + e.operation()
              + " "
              + e.recordId()
              + " by "
              + e.userId()
              + " of tenant "
              + e.tenantId()
              + " (request "
              + e.requestId()
              + ", database role "
              + e.dbUser()
              + ")"
              + (e.changedColumns().isEmpty() ? "" : " changed " + e.changedColumns()));
    }
    out.println("Audit chain: " + audit.verify());
  }

  private static boolean isBlank(String value) {
    return value == null || value.isBlank();
  }

  /** The cached value of the demo's read path. */
  record Customer(long id, String name) {}

  static Customer loadCustomer(DSLContext db, String id) {
    var r = db.select(ID, NAME).from(CUSTOMERS).where(ID.eq(Long.parseLong(id))).fetchOne();
    return r == null ? null : new Customer(r.get(ID), r.get(NAME));
  }

  /**
   * The cache-aside read path: 2 000 reads of 100 hot customers, a miss remembered, a write seen at
   * once.
   */
  private static void cacheReads(
      DSLContext db, Caches caches, CacheRegion<Customer> customers, PrintStream out) {
    customers.invalidateAll(); // a fresh start for the figures below, also in a shared Redis
    var start = System.nanoTime();
    for (int i = 0; i < 2000; i++) {
      customers.get(Integer.toString(1 + i % 100), id -> loadCustomer(db, id));
    }
    var cachedMs = (System.nanoTime() - start) / 1e6;
    start = System.nanoTime();
    for (int i = 0; i < 2000; i++) {
      loadCustomer(db, Integer.toString(1 + i % 100));
    }
    var directMs = (System.nanoTime() - start) / 1e6;
    var s = customers.stats();
    out.printf(
        Locale.ROOT,
        "Cache (%s): 2000 reads of 100 customers: %d loads from PostgreSQL, hit ratio %.0f %% "
            + "(L1 %.0f %%); %.1f ms cached vs %.1f ms straight from PostgreSQL%n",
        caches.twoLevel()
            ? (caches.redisAvailable() ? "L1 + Redis" : "L1, Redis unreachable")
            : "L1 only",
        s.loads(),
        s.hitRatio() * 100,
        s.l1HitRatio() * 100,
        cachedMs,
        directMs);
    customers.get("999999", id -> loadCustomer(db, id));
    customers.get("999999", id -> loadCustomer(db, id));
    out.println(
        "Cache: customer 999999 does not exist; two reads, "
            + (customers.stats().loads() - s.loads())
            + " query (the miss is remembered for 30s)");
    db.update(CUSTOMERS).set(NAME, "customer 7 (renamed)").where(ID.eq(7L)).execute();
    customers.invalidate("7");
    out.println(
        "Cache: after an update and invalidate, customer 7 reads '"
            + customers.get("7", id -> loadCustomer(db, id)).name()
            + "'");
    db.update(CUSTOMERS).set(NAME, "customer 7").where(ID.eq(7L)).execute();
    customers.invalidate("7");
  }

  private static String embeddedDatabaseUrl() {
    var server = PostgresServer.shared();
    try (var c = server.connectAsSuperuser("postgres");
        var s = c.createStatement()) {
      try (var rs = s.executeQuery("select 1 from pg_roles where rolname = '" + DEMO_ROLE + "'")) {
        if (!rs.next()) {
          // the application's own role: no superuser, no BYPASSRLS, so row-level security binds it
          s.execute(
              "create role "
                  + DEMO_ROLE
                  + " login password '"
                  + DEMO_ROLE_PASSWORD
                  + "' nosuperuser nobypassrls nocreaterole nocreatedb");
        }
      }
      boolean ours;
      try (var rs =
          s.executeQuery(
              "select pg_get_userbyid(datdba) = '"
                  + DEMO_ROLE
                  + "' from pg_database "
                  + "where datname = '"
                  + DEMO_DATABASE
                  + "'")) {
        ours = rs.next() && rs.getBoolean(1);
      }
      if (!ours) { // absent, or left by an older demo that ran as the superuser: the demo's data is
        // disposable
        s.execute("drop database if exists " + DEMO_DATABASE + " with (force)");
        s.execute("create database " + DEMO_DATABASE + " owner " + DEMO_ROLE);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "Could not prepare the embedded demo database: " + e.getMessage(), e);
    }
    return "postgresql://"
        + DEMO_ROLE
        + ":"
        + DEMO_ROLE_PASSWORD
        + "@"
        + server.host()
        + ":"
        + server.port()
        + "/"
        + DEMO_DATABASE;
  }

  static void seed(DSLContext db, PrintStream out) {
    if (db.fetchCount(CUSTOMERS) == 0) {
      db.transaction(
          cfg -> {
            var tx = cfg.dsl();
            tx.execute(
                "insert into customers (name, attributes) select 'customer ' || g,"
                    + " jsonb_build_object('tier', case when g % 10 = 0 then 'gold' else 'standard' end)"
                    + " from generate_series(1, 1000) g");
            tx.execute(
                "insert into orders (customer_id, total) select 1 + (g % 1000), round((random() * 500)::numeric, 2)"
                    + " from generate_series(1, 20000) g");
          });
      out.println("Seeded: customers (1000 rows), orders (20000 rows)");
    } else {
      out.println(
          "Data present: customers ("
              + db.fetchCount(CUSTOMERS)
              + " rows), orders ("
              + db.fetchCount(ORDERS)
              + " rows)");
    }
  }

  private static void runQueries(DSLContext db, Transactions transactions, PrintStream out) {
    var customer = db.select(ID, NAME).from(CUSTOMERS).where(ID.eq(42L)).fetchOne();
    out.println("Lookup by key: customer 42 is '" + customer.get(NAME) + "'");

    var top =
        db.select(NAME, count().as("orders"), sum(TOTAL).as("spent"))
            .from(ORDERS)
            .join(CUSTOMERS)
            .on(field(name("customers", "id"), Long.class).eq(CUSTOMER_ID))
            .groupBy(NAME)
            .orderBy(field(name("spent")).desc())
            .limit(3)
            .fetch();
    out.println("Top customers by spend:");
    for (var r : top) {
      out.println("  " + r.get(NAME) + ": " + r.get("orders") + " orders, " + r.get("spent"));
    }

    var gold =
        db.fetchCount(
            db.selectFrom(CUSTOMERS).where("attributes @> '{\"tier\": \"gold\"}'::jsonb"));
    out.println("Containment query (GIN jsonb_path_ops index): " + gold + " gold customers");

    var inserted =
        transactions.result(
            cfg ->
                cfg.dsl()
                    .insertInto(ORDERS, CUSTOMER_ID, TOTAL)
                    .values(42L, new BigDecimal("19.99"))
                    .returning(ID)
                    .fetchOne(ID));
    out.println(
        "Inserted order "
            + inserted
            + " for customer 42 in a transaction (retried whole on a conflict)");
  }

  /**
   * Walks every order, newest first, with keyset pagination: each page seeks past the last one's
   * key.
   */
  private static void listPageByPage(DSLContext db, Pagination pagination, PrintStream out) {
    var createdAt = field(name("created_at"), java.time.OffsetDateTime.class);
    String cursor = null;
    int pages = 0;
    long rows = 0;
    out.println("Orders, newest first, 2000 per page (keyset pagination):");
    do {
      var page =
          pagination.fetch(
              db,
              db.select(ID, createdAt, TOTAL).from(ORDERS),
              2000,
              cursor,
              createdAt.desc(),
              ID.desc());
      pages++;
      rows += page.items().size();
      var first = page.items().get(0);
      var last = page.items().get(page.items().size() - 1);
      out.println(
          "  page "
              + pages
              + ": "
              + page.items().size()
              + " orders, ids "
              + first.get(ID)
              + " .. "
              + last.get(ID)
              + (page.hasMore()
                  ? ", next cursor " + page.nextCursor().substring(0, 12) + "…"
                  : ", last page"));
      cursor = page.nextCursor();
    } while (cursor != null);
    out.println("Listed " + rows + " orders in " + pages + " pages, each a seek, none an OFFSET");
  }

  private static void serveUntilStopped(
      DSLContext db,
      Pool pool,
      CacheRegion<Customer> customers,
      Duration duration,
      PrintStream out) {
    var stop = new CountDownLatch(1);
    var hook = new Thread(stop::countDown, "ballast-demo-ctrl-c");
    Runtime.getRuntime().addShutdownHook(hook);
    out.println(
        duration == null
            ? "Serving a light load of cached key lookups; press Ctrl-C to stop."
            : "Serving a light load of cached key lookups for " + duration.toMillis() + " ms.");
    var deadline = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
    long lookups = 0;
    var lastReport = System.nanoTime();
    try {
      while (System.nanoTime() < deadline && !stop.await(50, TimeUnit.MILLISECONDS)) {
        var id = 1 + ThreadLocalRandom.current().nextLong(1000);
        customers.get(Long.toString(id), key -> loadCustomer(db, key));
        lookups++;
        if (System.nanoTime() - lastReport > TimeUnit.SECONDS.toNanos(5)) {
          out.printf(
              Locale.ROOT,
              "  %d lookups so far; cache hit ratio %.0f %%; pool %s%n",
              lookups,
              customers.stats().hitRatio() * 100,
              pool.snapshot());
          lastReport = System.nanoTime();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // Ctrl-C: the JVM is already running its hooks
      }
    }
    out.printf(
        Locale.ROOT,
        "Served %d lookups; cache hit ratio %.0f %%; pool %s%n",
        lookups,
        customers.stats().hitRatio() * 100,
        pool.snapshot());
  }
}
