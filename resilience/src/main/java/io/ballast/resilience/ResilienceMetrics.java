package io.ballast.resilience;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.retry.RetryRegistry;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Locale;

/**
 * The breakers', retries' and bulkheads' exported series, labelled {@code breaker}, {@code retry}
 * or {@code bulkhead} by name ({@code db}, {@code db:<server>}, {@code redis}, a {@code @Guarded}
 * name). Calls are counted from Resilience4j's events (its own metrics are of a sliding window, not
 * monotonic); states and rates are read at scrape time.
 */
final class ResilienceMetrics {
  private ResilienceMetrics() {}

  static void breakers(CircuitBreakerRegistry breakers, PrometheusRegistry registry) {
    var calls =
        Counter.builder()
            .name("ballast_breaker_calls_total")
            .help(
                "Calls through each breaker by outcome: success, failure (counted against the"
                    + " breaker), ignored (an error the breaker does not count) or not_permitted"
                    + " (refused while open)")
            .labelNames("breaker", "outcome")
            .register(registry);
    var transitions =
        Counter.builder()
            .name("ballast_breaker_transitions_total")
            .help("State changes of each breaker, by the state entered")
            .labelNames("breaker", "state")
            .register(registry);
    breakers.getAllCircuitBreakers().forEach(b -> listen(b, calls, transitions));
    breakers.getEventPublisher().onEntryAdded(e -> listen(e.getAddedEntry(), calls, transitions));
    GaugeWithCallback.builder()
        .name("ballast_breaker_state")
        .help(
            "1 for each breaker's current state (closed, open, half_open, disabled, forced_open,"
                + " metrics_only), 0 for the others")
        .labelNames("breaker", "state")
        .callback(
            cb ->
                breakers
                    .getAllCircuitBreakers()
                    .forEach(
                        b -> {
                          var now = b.getState();
                          for (var s : CircuitBreaker.State.values()) {
                            cb.call(s == now ? 1 : 0, b.getName(), state(s));
                          }
                        }))
        .register(registry);
    GaugeWithCallback.builder()
        .name("ballast_breaker_failure_rate_ratio")
        .help(
            "Failed calls over calls in each breaker's sliding window, 0 to 1; NaN until the"
                + " window has its minimum number of calls")
        .labelNames("breaker")
        .callback(
            cb ->
                breakers
                    .getAllCircuitBreakers()
                    .forEach(
                        b -> {
                          var rate = b.getMetrics().getFailureRate();
                          cb.call(rate < 0 ? Double.NaN : rate / 100, b.getName());
                        }))
        .register(registry);
  }

  private static void listen(CircuitBreaker breaker, Counter calls, Counter transitions) {
    var name = breaker.getName();
    var success = calls.labelValues(name, "success");
    var failure = calls.labelValues(name, "failure");
    var ignored = calls.labelValues(name, "ignored");
    var refused = calls.labelValues(name, "not_permitted");
    for (var s : CircuitBreaker.State.values()) { // every state's series from the start, at zero
      transitions.labelValues(name, state(s));
    }
    var events = breaker.getEventPublisher();
    events.onSuccess(e -> success.inc());
    events.onError(e -> failure.inc());
    events.onIgnoredError(e -> ignored.inc());
    events.onCallNotPermitted(e -> refused.inc());
    events.onStateTransition(
        e -> transitions.labelValues(name, state(e.getStateTransition().getToState())).inc());
  }

  static String state(CircuitBreaker.State state) {
    return state.name().toLowerCase(Locale.ROOT);
  }

  static void retries(RetryRegistry retries, PrometheusRegistry registry) {
    CounterWithCallback.builder()
        .name("ballast_retry_calls_total")
        .help(
            "Calls through each retry by outcome: success (first attempt), success_after_retry,"
                + " failure (not retried) or failure_after_retry (attempts exhausted)")
        .labelNames("retry", "outcome")
        .callback(
            cb ->
                retries
                    .getAllRetries()
                    .forEach(
                        r -> {
                          var m = r.getMetrics();
                          var n = r.getName();
                          cb.call(
                              (double) m.getNumberOfSuccessfulCallsWithoutRetryAttempt(),
                              n,
                              "success");
                          cb.call(
                              (double) m.getNumberOfSuccessfulCallsWithRetryAttempt(),
                              n,
                              "success_after_retry");
                          cb.call(
                              (double) m.getNumberOfFailedCallsWithoutRetryAttempt(), n, "failure");
                          cb.call(
                              (double) m.getNumberOfFailedCallsWithRetryAttempt(),
                              n,
                              "failure_after_retry");
                        }))
        .register(registry);
  }

  static void bulkheads(BulkheadRegistry bulkheads, PrometheusRegistry registry) {
    var rejected =
        Counter.builder()
            .name("ballast_bulkhead_rejected_total")
            .help("Calls each bulkhead turned away because all its places were taken")
            .labelNames("bulkhead")
            .register(registry);
    bulkheads.getAllBulkheads().forEach(b -> listen(b, rejected));
    bulkheads.getEventPublisher().onEntryAdded(e -> listen(e.getAddedEntry(), rejected));
    GaugeWithCallback.builder()
        .name("ballast_bulkhead_available_calls")
        .help("Places free in each bulkhead now")
        .labelNames("bulkhead")
        .callback(
            cb ->
                bulkheads
                    .getAllBulkheads()
                    .forEach(
                        b -> cb.call(b.getMetrics().getAvailableConcurrentCalls(), b.getName())))
        .register(registry);
    GaugeWithCallback.builder()
        .name("ballast_bulkhead_max_calls")
        .help("Places in each bulkhead")
        .labelNames("bulkhead")
        .callback(
            cb ->
                bulkheads
                    .getAllBulkheads()
                    .forEach(
                        b -> cb.call(b.getMetrics().getMaxAllowedConcurrentCalls(), b.getName())))
        .register(registry);
  }

  private static void listen(Bulkhead bulkhead, Counter rejected) {
    var point = rejected.labelValues(bulkhead.getName());
    bulkhead.getEventPublisher().onCallRejected(e -> point.inc());
  }
}
