package io.ballast.ops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.audit.ActingContext;
import io.ballast.audit.AuditLog;
import io.ballast.audit.AuditModule;
import io.ballast.audit.AuditSettings;
import io.ballast.audit.AuditTable;
import io.ballast.audit.RequestContext;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.core.settings.AppEnv;
import io.ballast.migrations.MigrationSettings;
import io.ballast.migrations.MigrationsModule;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.testkit.PostgresExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code ballast audit verify} on a real audit log: intact, then tampered with in SQL. */
class AuditVerifyCliTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  static int run(StringBuilder output, String... args) {
    var out = new ByteArrayOutputStream();
    var err = new ByteArrayOutputStream();
    var exit =
        BallastCli.run(
            args,
            Map.of("DATABASE_URL", PG.databaseUrl()),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    output
        .append(out.toString(StandardCharsets.UTF_8))
        .append(err.toString(StandardCharsets.UTF_8));
    return exit;
  }

  @Test
  void verify_exits0OnAnIntactChain_and1NamingTheFirstBadEntryAfterTampering() throws Exception {
    var empty = Files.createTempDirectory("no-app-migrations");
    PG.execute("create table items (id bigint primary key, n int)");
    try (var app =
        Ballast.start(
            new CoreModule(CoreSettings.defaults()),
            new PoolModule(PoolSettings.builder().url(PG.databaseUrl()).build()),
            new MigrationsModule(
                MigrationSettings.builder(AppEnv.DEVELOPMENT)
                    .locations("filesystem:" + empty)
                    .build()),
            new AuditModule(
                AuditSettings.builder(AppEnv.DEVELOPMENT)
                    .sealInterval(Duration.ofHours(1))
                    .build()))) {
      var audit = app.get(AuditLog.class);
      audit.enable(AuditTable.of("items").build());
      try (var scope = RequestContext.open(ActingContext.of("u", "t"))) {
        for (var id = 1; id <= 5; id++) {
          app.get(DSLContext.class).execute("insert into items (id) values (?)", id);
        }
      }
      assertThat(audit.seal()).isEqualTo(5);
    }

    var intact = new StringBuilder();
    assertThat(run(intact, "audit", "verify")).as(intact.toString()).isEqualTo(BallastCli.OK);
    assertThat(intact).contains("audit chain intact: 5 entries");

    PG.execute(
        "update ballast_audit.log set user_id = 'mallory'"
            + " where id = (select log_id from ballast_audit.chain where seq = 3)");
    var broken = new StringBuilder();
    assertThat(run(broken, "audit", "verify", "--json")).isEqualTo(BallastCli.FINDINGS);
    assertThat(broken).contains("\"intact\" : false").contains("\"badSeq\" : 3");
  }
}
