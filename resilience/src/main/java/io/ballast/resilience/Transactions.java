package io.ballast.resilience;

import com.google.inject.Inject;
import com.google.inject.Singleton;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.github.resilience4j.retry.RetryRegistry;
import java.util.ArrayList;
import org.jooq.DSLContext;
import org.jooq.TransactionalCallable;
import org.jooq.TransactionalRunnable;

/**
 * Transactions retried whole on conflicts: {@code 40001} (serialization failure), {@code 40P01}
 * (deadlock), and a lost connection before the commit began; with exponential backoff and jitter, a
 * bounded number of attempts, and a {@link TransactionRetryException} listing the attempts when it
 * gives up. Everything else, including a connection lost during the commit (the outcome is
 * unknown), an open breaker ({@link DatabaseUnavailableException}) and a full bulkhead, fails at
 * once. The callable must be safe to run more than once: keep side effects outside the database out
 * of it.
 *
 * <p>Single statements outside these methods are never retried. Retry sits outside the breaker:
 * each attempt goes through it, and a refusal ends the retry. Attempts and retries are counted in
 * {@code ballast.resilience.retry.db-transaction.*}. Thread-safe.
 *
 * <pre>{@code
 * long id = transactions.result(tx -> tx.dsl().insertInto(...).returning(ID).fetchOne(ID));
 * }</pre>
 */
@Singleton
public final class Transactions {
  static final String RETRY = "db-transaction";

  private final DSLContext db;
  private final Retry retry;

  @Inject
  Transactions(DSLContext db, ResilienceSettings settings, RetryRegistry retries) {
    this.db = db;
    this.retry =
        retries.retry(
            RETRY,
            RetryConfig.custom()
                .maxAttempts(settings.retryMaxAttempts())
                .intervalFunction(
                    IntervalFunction.ofExponentialRandomBackoff(
                        settings.retryInitialDelay(), 2.0, 0.5, settings.retryMaxDelay()))
                .retryOnException(Transactions::retryable)
                .build());
  }

  /** Whether a whole transaction that failed with {@code failure} may be run again. */
  static boolean retryable(Throwable failure) {
    if (failure instanceof DatabaseUnavailableException
        || failure instanceof DatabaseBusyException) {
      return false;
    }
    return switch (SqlFailures.classify(failure)) {
      case RETRYABLE -> true;
      case UNAVAILABLE -> !DatabaseGuard.committing();
      default -> false;
    };
  }

  /** Runs {@code transaction}, retrying it whole on conflicts; returns its result. */
  public <T> T result(TransactionalCallable<T> transaction) {
    var attempts = new ArrayList<String>();
    try {
      return retry.executeCallable(
          () -> {
            DatabaseGuard.resetCommitting();
            try {
              return db.transactionResult(transaction);
            } catch (RuntimeException e) {
              var state = SqlFailures.sqlState(e);
              attempts.add(
                  "attempt "
                      + (attempts.size() + 1)
                      + ": "
                      + (state == null ? "" : state + " ")
                      + SqlFailures.rootLine(e)
                      + (retryable(e) ? "" : " (not retryable)"));
              throw e;
            }
          });
    } catch (RuntimeException e) {
      if (attempts.size() > 1 && retryable(e)) {
        throw new TransactionRetryException(RETRY, attempts, e);
      }
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs {@code transaction}, retrying it whole on conflicts. */
  public void run(TransactionalRunnable transaction) {
    result(
        cfg -> {
          transaction.run(cfg);
          return null;
        });
  }

  Retry retry() {
    return retry;
  }
}
