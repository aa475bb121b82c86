package io.ballast.core;

import com.codahale.metrics.MetricRegistry;
import com.google.inject.AbstractModule;
import com.google.inject.Key;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.name.Named;
import com.google.inject.name.Names;
import io.ballast.core.data.Pagination;
import io.ballast.core.monitor.QueryMonitor;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.sql.DataSource;
import org.jooq.Configuration;
import org.jooq.DSLContext;
import org.jooq.ExecuteListenerProvider;
import org.jooq.SQLDialect;
import org.jooq.TransactionListenerProvider;
import org.jooq.conf.Settings;
import org.jooq.impl.DSL;
import org.jooq.impl.DataSourceConnectionProvider;
import org.jooq.impl.DefaultConfiguration;

/**
 * Ballast's core wiring. Binds:
 *
 * <ul>
 *   <li>{@link CoreSettings}, the instance given;
 *   <li>{@link DSLContext} and its {@link Configuration}: jOOQ, POSTGRES dialect, over the bound
 *       {@link DataSource} (which a pool module such as {@code PoolModule} provides), with every
 *       {@link ExecuteListenerProvider} and {@link TransactionListenerProvider} contributed through
 *       {@link Extensions}; jOOQ's own execute logging is off (Ballast's query monitor replaces
 *       it);
 *   <li>{@link MetricRegistry}: the one Dropwizard registry every module registers in, under {@code
 *       ballast.<module>.…}, for in-process reporters and tests;
 *   <li>{@link PrometheusRegistry}: what {@code /metrics} exports, the designed series every module
 *       registers (snake_case, base units, identifiers as labels; listed in core's README) and the
 *       JVM's;
 *   <li>{@link QueryMonitor}: statistics, slow-query log, N+1 reports and timeouts of every
 *       statement; its listener runs after every contributed one;
 *   <li>health checks: LIVE {@code deadlocks}, READY {@code db} ({@code SELECT 1} within the pool
 *       timeout), DEEP {@code db.write} (a row written and read back, rolled back) and {@code
 *       db.details} (version, connections vs {@code max_connections}, cache hit ratio, latency);
 *   <li>{@link Pagination}: keyset pages with cursors signed by {@code BALLAST_CURSOR_SECRET};
 *   <li>{@link Lifecycle} over every {@link Managed}, and {@link HealthRegistry} over every {@link
 *       ProbeCheck};
 *   <li>the empty multibinders of {@link Extensions}, so an application without contributions still
 *       works.
 * </ul>
 *
 * <p>Like every Ballast module it does no I/O: nothing connects until {@link Lifecycle#start()}.
 */
public final class CoreModule extends AbstractModule {
  private static final String DB_CHECK = "ballast.core.check.db";
  private static final String DB_WRITE_CHECK = "ballast.core.check.db.write";
  private static final String DB_DETAILS_CHECK = "ballast.core.check.db.details";

  private final CoreSettings settings;

  /** The module, with {@code settings}. */
  public CoreModule(CoreSettings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  @Override
  protected void configure() {
    bind(CoreSettings.class).toInstance(settings);
    Extensions.managed(binder());
    Extensions.probeChecks(binder());
    Extensions.executeListeners(binder());
    Extensions.transactionListeners(binder());
    Extensions.directDataSource(binder());
    install(new io.ballast.core.monitor.MonitorModule(settings.monitor()));
    bind(Lifecycle.class);
    bind(HealthRegistry.class);
    Extensions.probeChecks(binder()).addBinding().toInstance(CoreChecks.deadlocks());
    Extensions.managed(binder()).addBinding().to(MonitorService.class);
    for (var check : List.of(DB_CHECK, DB_WRITE_CHECK, DB_DETAILS_CHECK)) {
      Extensions.probeChecks(binder())
          .addBinding()
          .to(Key.get(ProbeCheck.class, Names.named(check)));
    }
  }

  @Provides
  @Singleton
  @Named(DB_CHECK)
  ProbeCheck databaseCheck(DataSource dataSource) {
    return CoreChecks.database(dataSource);
  }

  @Provides
  @Singleton
  @Named(DB_WRITE_CHECK)
  ProbeCheck databaseWriteCheck(DataSource dataSource) {
    return CoreChecks.databaseWrite(dataSource);
  }

  @Provides
  @Singleton
  @Named(DB_DETAILS_CHECK)
  ProbeCheck databaseDetailsCheck(DataSource dataSource) {
    return CoreChecks.databaseDetails(dataSource);
  }

  @Provides
  @Singleton
  MetricRegistry metricRegistry() {
    return new MetricRegistry();
  }

  /**
   * The registry {@code /metrics} exports: every module registers its designed series here (core's
   * README lists them), with the client's JVM metrics.
   */
  @Provides
  @Singleton
  PrometheusRegistry prometheusRegistry() {
    var registry = new PrometheusRegistry();
    JvmMetrics.builder().register(registry);
    return registry;
  }

  /**
   * Contributed listeners first, by {@link ListenerStage} (request context, breaker, the rest) and
   * within a stage in binding order, then the query monitor (timeouts, statistics) last.
   */
  @Provides
  @Singleton
  Configuration jooqConfiguration(
      DataSource dataSource,
      Set<ExecuteListenerProvider> executeListeners,
      Set<TransactionListenerProvider> transactionListeners,
      QueryMonitor monitor) {
    var execute = new ArrayList<>(executeListeners);
    execute.sort(Comparator.comparing(ListenerStage::of)); // stable: binding order within a stage
    execute.add(monitor.executeListenerProvider());
    var transaction = new ArrayList<>(transactionListeners);
    transaction.sort(Comparator.comparing(ListenerStage::of));
    transaction.add(monitor.transactionListenerProvider());
    var connections = new DataSourceConnectionProvider(dataSource);
    return new DefaultConfiguration()
        .set(SQLDialect.POSTGRES)
        .set(connections)
        .set(new BeganTransactionProvider(connections))
        .set(new Settings().withExecuteLogging(false))
        .set(execute.toArray(ExecuteListenerProvider[]::new))
        .set(transaction.toArray(TransactionListenerProvider[]::new));
  }

  @Provides
  @Singleton
  DSLContext dslContext(Configuration configuration) {
    return DSL.using(configuration);
  }

  @Provides
  @Singleton
  Pagination pagination(CoreSettings settings) {
    return settings.cursorSecret() != null
        ? Pagination.withSecret(settings.cursorSecret().getBytes(StandardCharsets.UTF_8))
        : Pagination.withRandomKey();
  }
}
