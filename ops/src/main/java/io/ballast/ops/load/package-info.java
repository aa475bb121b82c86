/**
 * {@code ballast load}: open-model load tests of a service's own database and cache paths, with SLO
 * thresholds and a self-contained HTML report that shows the client's latency next to what happened
 * inside the service. Start with {@link io.ballast.ops.load.Scenario} and {@link
 * io.ballast.ops.load.LoadTest}.
 */
package io.ballast.ops.load;
