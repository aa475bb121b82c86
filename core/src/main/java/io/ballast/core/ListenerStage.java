package io.ballast.core;

import java.util.Objects;
import org.jooq.ExecuteListener;
import org.jooq.ExecuteListenerProvider;
import org.jooq.TransactionListener;
import org.jooq.TransactionListenerProvider;

/**
 * Where a contributed jOOQ listener runs in the fixed order of a query's trip: the request context
 * first (so the acting user is set before anything else touches the statement), then the breaker,
 * then everything else, and core's query monitor (timeouts, statistics) always last. Within a
 * stage, listeners keep their binding order. A listener bound without a stage runs at {@link
 * #DEFAULT}.
 *
 * <pre>{@code
 * Extensions.executeListeners(binder()).addBinding()
 *     .toInstance(ListenerStage.REQUEST_CONTEXT.execute(() -> contextListener));
 * }</pre>
 */
public enum ListenerStage {
  /** Applies the acting request context (the audit module). */
  REQUEST_CONTEXT,
  /** Short-circuits calls to a failing database (the resilience module). */
  BREAKER,
  /** Any other listener. */
  DEFAULT;

  /** {@code provider}, to run at this stage. */
  public ExecuteListenerProvider execute(ExecuteListenerProvider provider) {
    return new StagedExecute(this, Objects.requireNonNull(provider, "provider"));
  }

  /** {@code provider}, to run at this stage. */
  public TransactionListenerProvider transaction(TransactionListenerProvider provider) {
    return new StagedTransaction(this, Objects.requireNonNull(provider, "provider"));
  }

  static ListenerStage of(Object provider) {
    if (provider instanceof StagedExecute s) {
      return s.stage();
    }
    if (provider instanceof StagedTransaction s) {
      return s.stage();
    }
    return DEFAULT;
  }

  private record StagedExecute(ListenerStage stage, ExecuteListenerProvider provider)
      implements ExecuteListenerProvider {
    @Override
    public ExecuteListener provide() {
      return provider.provide();
    }
  }

  private record StagedTransaction(ListenerStage stage, TransactionListenerProvider provider)
      implements TransactionListenerProvider {
    @Override
    public TransactionListener provide() {
      return provider.provide();
    }
  }
}
