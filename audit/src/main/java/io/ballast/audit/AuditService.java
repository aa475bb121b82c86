package io.ballast.audit;

import com.codahale.metrics.Counter;
import io.ballast.core.Managed;
import io.ballast.core.ProbeCheck;
import io.ballast.core.ProbeKind;
import io.ballast.core.ProbeResult;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jooq.DSLContext;
import org.jooq.exception.DataAccessException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts after the migrations: checks that row-level security binds the application's role, creates
 * the audit partitions ahead, then seals the hash chain every {@code
 * BALLAST_AUDIT_SEAL_INTERVAL_MS} and keeps partitions and retention every hour. Stopping seals
 * once more.
 */
final class AuditService implements Managed {
  private static final Logger LOG = LoggerFactory.getLogger(AuditService.class);
  private static final Duration MAINTENANCE_INTERVAL = Duration.ofHours(1);

  private final DSLContext db;
  private final AuditLog log;
  private final AuditSettings settings;
  private final Counter sealed;
  private volatile ScheduledExecutorService scheduler;
  private volatile List<String> rlsProblems = List.of();
  private volatile Instant lastSeal;
  private volatile String lastSealFailure;

  AuditService(DSLContext db, AuditLog log, AuditSettings settings, Counter sealed) {
    this.db = db;
    this.log = log;
    this.settings = settings;
    this.sealed = sealed;
  }

  @Override
  public String name() {
    return "audit";
  }

  @Override
  public int phase() {
    return PHASE_MIGRATIONS + 50;
  }

  @Override
  public void start() {
    if (!Boolean.TRUE.equals(
        db.fetchValue("select to_regnamespace('ballast_audit') is not null"))) {
      throw new IllegalStateException(
          "The audit schema ballast_audit does not exist: install MigrationsModule "
              + "(ballast-migrations) in mode migrate, which runs the audit module's migration set 'audit' at start, or "
              + "apply that set in the deploy's migration step before starting in mode validate");
    }
    var problems = RowSecurityCheck.problems(db, settings.protectedTables());
    rlsProblems = problems;
    if (!problems.isEmpty()) {
      if (settings.rlsCheck() == AuditSettings.RlsCheck.ENFORCE) {
        throw new RowSecurityException(problems);
      }
      for (var p : problems) {
        LOG.warn(
            "ROW-LEVEL SECURITY IS NOT ENFORCED: {} (start-up is refused in production; {}=warn allows it)",
            p,
            AuditSettings.RLS_CHECK_VARIABLE);
      }
    }
    if (!settings.keyed() && settings.appEnv() == io.ballast.core.settings.AppEnv.PRODUCTION) {
      LOG.warn(
          "the audit hash chain is unkeyed: whoever can write the audit tables can also recompute it; set {} "
              + "(32+ characters, the same on every instance)",
          AuditSettings.KEY_VARIABLE);
    }
    maintain();
    var executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              var t = new Thread(r, "ballast-audit");
              t.setDaemon(true);
              return t;
            });
    var interval = settings.sealInterval().toMillis();
    var unusedSealing =
        executor.scheduleWithFixedDelay(
            this::sealQuietly, interval, interval, TimeUnit.MILLISECONDS);
    var unusedMaintenance =
        executor.scheduleWithFixedDelay(
            this::maintainQuietly,
            MAINTENANCE_INTERVAL.toMillis(),
            MAINTENANCE_INTERVAL.toMillis(),
            TimeUnit.MILLISECONDS);
    scheduler = executor;
  }

  @Override
  public void stop(Duration grace) throws InterruptedException {
    var executor = scheduler;
    if (executor == null) {
      return;
    }
    scheduler = null;
    long deadline = System.nanoTime() + grace.toNanos();
    executor.shutdownNow();
    executor.awaitTermination(Math.max(0, grace.toMillis()), TimeUnit.MILLISECONDS);
    // a last pass within what is left of the grace period: a backlog must not hold up shutdown (the
    // next
    // instance to start seals the rest)
    sealQuietly(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
  }

  private void maintain() {
    int created = log.ensurePartitions();
    if (created > 0) {
      LOG.info("created {} audit partitions", created);
    }
    var dropped = log.applyRetention();
    if (!dropped.isEmpty()) {
      LOG.info(
          "audit retention ({} months) dropped partitions {}", settings.retentionMonths(), dropped);
    }
  }

  private void maintainQuietly() {
    try {
      maintain();
    } catch (DataAccessException e) {
      LOG.warn(
          "audit partition maintenance failed, will try again in {}: {}",
          MAINTENANCE_INTERVAL,
          e.getMessage());
    } catch (RuntimeException e) {
      LOG.warn(
          "audit partition maintenance failed unexpectedly, will try again in {}",
          MAINTENANCE_INTERVAL,
          e);
    }
  }

  private void sealQuietly() {
    sealQuietly(null);
  }

  private void sealQuietly(Duration budget) {
    try {
      sealed.inc(budget == null ? log.seal() : log.seal(budget));
      lastSeal = Instant.now();
      if (lastSealFailure != null) {
        LOG.info("audit sealing works again");
        lastSealFailure = null;
      }
    } catch (RuntimeException e) {
      if (lastSealFailure == null) {
        if (e instanceof DataAccessException) {
          LOG.warn(
              "audit sealing failed; new audit rows stay unsealed until it works: {}",
              e.getMessage());
        } else {
          LOG.warn(
              "audit sealing failed unexpectedly; new audit rows stay unsealed until it works", e);
        }
      }
      lastSealFailure = String.valueOf(e.getMessage());
    }
  }

  /** When sealing last succeeded, or null if it has not yet. */
  Instant lastSeal() {
    return lastSeal;
  }

  /** Whether the last sealing pass failed. */
  boolean sealFailing() {
    return lastSealFailure != null;
  }

  /** DEEP check {@code audit}: the row-level security check's findings and how sealing stands. */
  ProbeCheck probe() {
    return ProbeCheck.of(
        "audit",
        ProbeKind.DEEP,
        () -> {
          var details = new LinkedHashMap<String, Object>();
          details.put("rls_problems", rlsProblems);
          details.put("chain_keyed", settings.keyed());
          details.put("last_seal", lastSeal == null ? "never" : lastSeal.toString());
          var pending =
              db.fetchOne(
                      "select count(*) from ballast_audit.log l, ballast_audit.chain_state s "
                          + "where s.id = 1 and (l.txid, l.id) > (s.last_txid, s.last_id)")
                  .get(0, Long.class);
          details.put("unsealed_rows", pending);
          if (lastSealFailure != null) {
            details.put("seal_failure", lastSealFailure);
            return ProbeResult.unhealthy("audit sealing fails: " + lastSealFailure, details);
          }
          if (!rlsProblems.isEmpty()) {
            return ProbeResult.degraded(
                "row-level security is not enforced: " + rlsProblems.get(0), details);
          }
          return ProbeResult.healthy("audit chain sealing, " + pending + " rows unsealed", details);
        });
  }
}
