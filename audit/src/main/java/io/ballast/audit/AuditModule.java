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
import java.util.Objects;
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
  ContextListener contextListener(MetricRegistry metrics) {
    return new ContextListener(
        metrics.counter(MetricRegistry.name("ballast", "audit", "context", "applied")),
        metrics.counter(
            MetricRegistry.name("ballast", "audit", "context", "implicit_transactions")));
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
  AuditLog auditLog(DSLContext db, Pagination pagination) {
    return new AuditLog(db, pagination, settings);
  }

  @Provides
  @Singleton
  AuditService auditService(DSLContext db, AuditLog log, MetricRegistry metrics) {
    return new AuditService(
        db,
        log,
        settings,
        metrics.counter(MetricRegistry.name("ballast", "audit", "chain", "sealed")));
  }

  @Provides
  @Singleton
  @Named(PROBE)
  ProbeCheck probe(AuditService service) {
    return service.probe();
  }
}
