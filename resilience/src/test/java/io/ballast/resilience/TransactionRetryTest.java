package io.ballast.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import io.ballast.testkit.PostgresExtension;
import java.time.Duration;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jooq.DSLContext;
import org.jooq.exception.DataAccessException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Real serialization failures and a real deadlock, retried whole; what is never retried. */
class TransactionRetryTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  static Ballast app;
  static DSLContext db;
  static Transactions transactions;

  @BeforeAll
  static void start() throws Exception {
    PG.execute(
        "create table account (id int primary key, balance int not null)",
        "create table ledger (id serial primary key, note text)");
    app =
        Ballast.start(
            new CoreModule(CoreSettings.defaults()),
            new PoolModule(PoolSettings.builder().url(PG.databaseUrl()).connectionLimit(6).build()),
            new ResilienceModule(
                ResilienceSettings.builder()
                    .retryMaxAttempts(4)
                    .retryDelays(Duration.ofMillis(5), Duration.ofMillis(50))
                    .build()));
    db = app.get(DSLContext.class);
    transactions = app.get(Transactions.class);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @BeforeEach
  void reset() {
    db.execute("truncate account, ledger");
    db.execute("insert into account values (1, 100), (2, 100)");
  }

  long retriedSuccesses() {
    return (Long)
        app.get(MetricRegistry.class)
            .getGauges()
            .get("ballast.resilience.retry.db-transaction.successful_calls_with_retry")
            .getValue();
  }

  @Test
  void serializationFailures_areRetriedWhole_andBothTransactionsCommitExactlyOnce()
      throws Exception {
    var before = retriedSuccesses();
    var barrier = new CyclicBarrier(2);
    var attempts = new AtomicInteger();
    Runnable transfer =
        () ->
            transactions.run(
                tx -> {
                  var attempt = attempts.incrementAndGet();
                  tx.dsl().execute("set transaction isolation level serializable");
                  var balance =
                      ((Number) tx.dsl().fetchValue("select sum(balance) from account")).intValue();
                  if (attempt <= 2) {
                    await(barrier); // the first two attempts read before either writes: one of them
                    // must fail to commit
                  }
                  tx.dsl().execute("update account set balance = ? where id = 1", balance + 10);
                  tx.dsl().execute("insert into ledger (note) values ('transfer')");
                });
    var pool = Executors.newFixedThreadPool(2);
    var a = pool.submit(transfer);
    var b = pool.submit(transfer);
    a.get(30, TimeUnit.SECONDS);
    b.get(30, TimeUnit.SECONDS);
    pool.shutdown();
    assertThat(attempts.get()).as("attempts, one of them retried").isEqualTo(3);
    assertThat(((Number) db.fetchValue("select count(*) from ledger")).intValue()).isEqualTo(2);
    assertThat(((Number) db.fetchValue("select balance from account where id = 1")).intValue())
        .as("210 after the first, then 310 + 10: the retry read the first one's write")
        .isEqualTo(320);
    assertThat(retriedSuccesses()).isEqualTo(before + 1);
  }

  @Test
  void aDeadlock_isRetried_andBothTransactionsCommitExactlyOnce() throws Exception {
    var barrier = new CyclicBarrier(2);
    var attempts = new AtomicInteger();
    var meetings = new AtomicInteger();
    var pool = Executors.newFixedThreadPool(2);
    var first =
        pool.submit(
            () ->
                transactions.run(
                    tx -> {
                      attempts.incrementAndGet();
                      tx.dsl().execute("update account set balance = balance + 1 where id = 1");
                      if (meetings.getAndIncrement() < 2) {
                        await(barrier); // only the first attempts meet; a retried one runs alone
                      }
                      tx.dsl().execute("update account set balance = balance + 1 where id = 2");
                      tx.dsl().execute("insert into ledger (note) values ('first')");
                    }));
    var second =
        pool.submit(
            () ->
                transactions.run(
                    tx -> {
                      attempts.incrementAndGet();
                      tx.dsl().execute("update account set balance = balance + 1 where id = 2");
                      if (meetings.getAndIncrement() < 2) {
                        await(barrier); // only the first attempts meet; a retried one runs alone
                      }
                      tx.dsl().execute("update account set balance = balance + 1 where id = 1");
                      tx.dsl().execute("insert into ledger (note) values ('second')");
                    }));
    first.get(30, TimeUnit.SECONDS);
    second.get(30, TimeUnit.SECONDS);
    pool.shutdown();
    assertThat(attempts.get()).isEqualTo(3);
    assertThat(db.fetch("select note from ledger order by note").getValues(0, String.class))
        .containsExactly("first", "second");
    assertThat(((Number) db.fetchValue("select sum(balance) from account")).intValue())
        .isEqualTo(204);
  }

  @Test
  void aConnectionLostBeforeCommit_isRetriedOnAFreshConnection() {
    var attempts = new AtomicInteger();
    transactions.run(
        tx -> {
          var attempt = attempts.incrementAndGet();
          tx.dsl().execute("insert into ledger (note) values ('before the loss')");
          if (attempt == 1) {
            var pid = ((Number) tx.dsl().fetchValue("select pg_backend_pid()")).intValue();
            try (var admin = PG.connect();
                var s = admin.createStatement()) {
              s.execute(
                  "select pg_terminate_backend("
                      + pid
                      + ")"); // the server drops this transaction's connection
            }
          }
          tx.dsl().execute("insert into ledger (note) values ('after')");
        });
    assertThat(attempts).hasValue(2);
    assertThat(db.fetch("select note from ledger order by id").getValues(0, String.class))
        .containsExactly("before the loss", "after");
  }

  @Test
  void givingUp_throwsWithTheAttemptHistory() {
    var attempts = new AtomicInteger();
    assertThatThrownBy(
            () ->
                transactions.run(
                    tx -> {
                      attempts.incrementAndGet();
                      tx.dsl()
                          .execute(
                              "do $$ begin raise exception 'conflict' using errcode = '40001'; end $$");
                    }))
        .isInstanceOfSatisfying(
            TransactionRetryException.class,
            e -> {
              assertThat(e.attempts()).hasSize(4);
              assertThat(e.attempts().get(0)).startsWith("attempt 1: 40001 ");
              assertThat(e.getMessage())
                  .startsWith(
                      "Transaction 'db-transaction' failed after 4 attempts: attempt 1: 40001");
              assertThat(e.getCause()).isInstanceOf(DataAccessException.class);
            });
    assertThat(attempts).hasValue(4);
  }

  @Test
  void constraintViolations_areNeverRetried() {
    var attempts = new AtomicInteger();
    assertThatThrownBy(
            () ->
                transactions.run(
                    tx -> {
                      attempts.incrementAndGet();
                      tx.dsl().execute("insert into account values (1, 0)");
                    }))
        .isInstanceOfSatisfying(
            DataAccessException.class, e -> assertThat(SqlFailures.sqlState(e)).isEqualTo("23505"))
        .isNotInstanceOf(TransactionRetryException.class);
    assertThat(attempts).hasValue(1);
  }

  @Test
  void singleStatements_areNeverRetriedBehindTheCallersBack() {
    var before =
        app.get(MetricRegistry.class)
            .getGauges()
            .get("ballast.resilience.retry.db-transaction.failed_calls_without_retry")
            .getValue();
    assertThatThrownBy(
            () ->
                db.execute(
                    "do $$ begin raise exception 'conflict' using errcode = '40001'; end $$"))
        .isInstanceOf(DataAccessException.class)
        .isNotInstanceOf(TransactionRetryException.class);
    assertThat(
            app.get(MetricRegistry.class)
                .getGauges()
                .get("ballast.resilience.retry.db-transaction.failed_calls_without_retry")
                .getValue())
        .isEqualTo(before);
  }

  @Test
  void anOpenBreaker_isNotRetried() {
    var breaker = app.get(DatabaseGuard.class).breaker();
    breaker.transitionToOpenState();
    try {
      var attempts = new AtomicInteger();
      assertThatThrownBy(() -> transactions.run(tx -> attempts.incrementAndGet()))
          .isInstanceOf(DatabaseUnavailableException.class);
      assertThat(attempts).hasValue(0);
    } finally {
      breaker.transitionToClosedState();
    }
  }

  static void await(CyclicBarrier barrier) {
    try {
      barrier.await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
