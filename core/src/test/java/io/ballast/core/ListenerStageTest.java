package io.ballast.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import io.ballast.testkit.PostgresExtension;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.jooq.ExecuteContext;
import org.jooq.ExecuteListener;
import org.jooq.TransactionContext;
import org.jooq.TransactionListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Contributed jOOQ listeners run by stage, whatever order their modules are installed in. */
class ListenerStageTest {
  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();

  private static final List<String> CALLS = new CopyOnWriteArrayList<>();

  /** Records its name when a statement starts and when a transaction begins. */
  private record Recorder(String name) implements ExecuteListener, TransactionListener {
    @Override
    public void executeStart(ExecuteContext ctx) {
      CALLS.add("execute " + name);
    }

    @Override
    public void beginStart(TransactionContext ctx) {
      CALLS.add("begin " + name);
    }
  }

  /** Binds a recorder at a stage (or with no stage, when {@code stage} is null). */
  private static AbstractModule listener(String name, ListenerStage stage) {
    return new AbstractModule() {
      @Override
      protected void configure() {
        var recorder = new Recorder(name);
        Extensions.executeListeners(binder())
            .addBinding()
            .toInstance(stage == null ? () -> recorder : stage.execute(() -> recorder));
        Extensions.transactionListeners(binder())
            .addBinding()
            .toInstance(stage == null ? () -> recorder : stage.transaction(() -> recorder));
      }
    };
  }

  @Test
  void listenersRunByStage_thenInBindingOrder_whateverOrderModulesAreInstalledIn() {
    var injector =
        Guice.createInjector(
            new CoreModule(CoreSettings.defaults()),
            new AbstractModule() {
              @Override
              protected void configure() {
                bind(DataSource.class).toInstance(PG.dataSource());
              }
            },
            listener("plain-1", null),
            listener("breaker", ListenerStage.BREAKER),
            listener("default", ListenerStage.DEFAULT),
            listener("context", ListenerStage.REQUEST_CONTEXT),
            listener("plain-2", null));
    var db = injector.getInstance(DSLContext.class);

    CALLS.clear();
    db.fetch("select 1");
    assertThat(CALLS)
        .containsExactly(
            "execute context",
            "execute breaker",
            "execute plain-1",
            "execute default",
            "execute plain-2");

    CALLS.clear();
    db.transaction(cfg -> {});
    assertThat(CALLS)
        .containsExactly(
            "begin context", "begin breaker", "begin plain-1", "begin default", "begin plain-2");
  }
}
