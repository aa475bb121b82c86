package io.ballast.pool;

/**
 * A pool's counts at one moment.
 *
 * @param pool the pool's name
 * @param active connections lent out now
 * @param idle connections open and free
 * @param total connections open ({@code active + idle})
 * @param waiting threads waiting for a connection
 * @param max the pool's maximum size ({@code connection_limit})
 */
public record PoolSnapshot(String pool, int active, int idle, int total, int waiting, int max) {

  /** Active connections as a percentage of the maximum, 0–100. */
  public double utilisationPercent() {
    return max == 0 ? 0 : 100.0 * active / max;
  }

  @Override
  public String toString() {
    return "active " + active + ", idle " + idle + ", waiting " + waiting + ", max " + max;
  }
}
