package io.ballast.audit;

import com.codahale.metrics.MetricRegistry;
import com.google.inject.AbstractModule;
import com.google.inject.Key;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.name.Named;
import com.google.inject.name.Names;
import io.ballast.core.Extensions;
import io.ballast.core.ListenerStage;
import io.ballast.core.MigrationSet;
import io.ballast.core.ProbeCheck;
import io.ballast.core.data.Pagination;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Objects;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import org.jooq.DSLContext;
import org.jooq.ExecuteListenerProvider;
import org.jooq.TransactionListenerProvider;

/**
 * The acting request context, row-level security and the audit log. Binds:
 *
 * <ul>
 *   <li>{@link AuditSettings}, the instance given;
 *   <li>a jOOQ execute listener and transaction listener that apply the {@link ActingContext} open
 *       through {@link RequestContext} transaction-locally before the first statement of every
 *       transaction (and around single statements, in an implicit transaction), at {@link
 *       ListenerStage#REQUEST_CONTEXT}: they run first, whatever order the modules are installed
 *       in;
 *   <li>the migration set {@code audit} ({@code classpath:io/ballast/audit/db}, history table
 *       {@code flyway_schema_history_audit}): the schema {@code ballast_audit} with the partitioned
 *       audit log, its hash chain and the functions {@code ballast_audit.enable(…)} / {@code
 *       disable(…)};
 *   <li>{@link AuditLog}: enable capture, record events, read the trail, seal, verify, retention;
 *   <li>a {@code Managed} (after the migrations) that runs the row-level security start-up check,
 *       creates partitions, seals the chain on a schedule and applies retention;
 *   <li>a DEEP check {@code audit}; metrics {@code ballast.audit.context.applied}, {@code
 *       ballast.audit.context.implicit_transactions} and {@code ballast.audit.chain.sealed}.
 * </ul>
 *
 * <p>Needs {@code CoreModule}, {@code PoolModule} and, to create its schema, {@code
 * MigrationsModule} ({@code ballast-migrations}; the audit module itself does not depend on it).
 * Does no I/O itself.
 */
public final class AuditModule extends AbstractModule {
  private static final String EXECUTE = "ballast.audit.context.execute";
  private static final String TRANSACTION = "ballast.audit.context.transaction";
  private static final String PROBE = "ballast.audit.check";

  private final AuditSettings settings;

  /** The module, with {@code settings}. */
  public AuditModule(AuditSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  @Override
  protected void configure() {
    bind(AuditSettings.class).toInstance(settings);
    Extensions.migrationSets(binder())
        .addBinding()
        .toInstance(MigrationSet.of("audit", "classpath:io/ballast/audit/db"));
    Extensions.executeListeners(binder())
        .addBinding()
        .to(Key.get(ExecuteListenerProvider.class, Names.named(EXECUTE)));
    Extensions.transactionListeners(binder())
        .addBinding()
        .to(Key.get(TransactionListenerProvider.class, Names.named(TRANSACTION)));
    Extensions.managed(binder()).addBinding().to(AuditService.class);
    Extensions.probeChecks(binder()).addBinding().to(Key.get(ProbeCheck.class, Names.named(PROBE)));
  }

  @Provides
  @Singleton
  ContextListener contextListener(MetricRegistry metrics, PrometheusRegistry prometheus) {
    var applied = metrics.counter(MetricRegistry.name("ballast", "audit", "context", "applied"));
    var implicit =
        metrics.counter(
            MetricRegistry.name("ballast", "audit", "context", "implicit_transactions"));
    counter(
        prometheus,
        "ballast_audit_context_applied_total",
        "Statements and transactions that carried the request context (acting user, tenant)",
        applied::getCount);
    counter(
        prometheus,
        "ballast_audit_implicit_transactions_total",
        "Statements outside a transaction that the audit context wrapped in one of their own",
        implicit::getCount);
    return new ContextListener(applied, implicit);
  }

  private static void counter(
      PrometheusRegistry registry, String name, String help, LongSupplier value) {
    CounterWithCallback.builder()
        .name(name)
        .help(help)
        .callback(cb -> cb.call((double) value.getAsLong()))
        .register(registry);
  }

  private static void gauge(
      PrometheusRegistry registry, String name, String help, DoubleSupplier value) {
    GaugeWithCallback.builder()
        .name(name)
        .help(help)
        .callback(cb -> cb.call(value.getAsDouble()))
        .register(registry);
  }

  @Provides
  @Singleton
  @Named(EXECUTE)
  ExecuteListenerProvider executeListener(ContextListener listener) {
    return ListenerStage.REQUEST_CONTEXT.execute(() -> listener);
  }

  @Provides
  @Singleton
  @Named(TRANSACTION)
  TransactionListenerProvider transactionListener(ContextListener listener) {
    return ListenerStage.REQUEST_CONTEXT.transaction(() -> listener);
  }

  @Provides
  @Singleton
  AuditLog auditLog(DSLContext db, Pagination pagination, PrometheusRegistry prometheus) {
    var log = new AuditLog(db, pagination, settings);
    CounterWithCallback.builder()
        .name("ballast_audit_chain_verifications_total")
        .help("Hash-chain verifications run by this process, by result (intact or broken)")
        .labelNames("result")
        .callback(
            cb -> {
              cb.call((double) log.verificationsIntact(), "intact");
              cb.call((double) log.verificationsBroken(), "broken");
            })
        .register(prometheus);
    gauge(
        prometheus,
        "ballast_audit_chain_broken",
        "1 when this process's last hash-chain verification found tampering, 0 when intact, NaN"
            + " before the first",
        log::lastVerificationBroken);
    return log;
  }

  @Provides
  @Singleton
  AuditService auditService(
      DSLContext db, AuditLog log, MetricRegistry metrics, PrometheusRegistry prometheus) {
    var sealed = metrics.counter(MetricRegistry.name("ballast", "audit", "chain", "sealed"));
    var service = new AuditService(db, log, settings, sealed);
    counter(
        prometheus,
        "ballast_audit_chain_sealed_rows_total",
        "Audit rows sealed into the hash chain",
        sealed::getCount);
    gauge(
        prometheus,
        "ballast_audit_chain_seal_failing",
        "1 while the last sealing pass failed (new audit rows stay unsealed), else 0",
        () -> service.sealFailing() ? 1 : 0);
    gauge(
        prometheus,
        "ballast_audit_chain_last_seal_timestamp_seconds",
        "When sealing last succeeded, in Unix seconds; 0 before the first",
        () -> {
          var at = service.lastSeal();
          return at == null ? 0 : at.toEpochMilli() / 1e3;
        });
    return service;
  }

  @Provides
  @Singleton
  @Named(PROBE)
  ProbeCheck probe(AuditService service) {
    return service.probe();
  }
}
