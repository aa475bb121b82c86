package io.ballast.pool;

/**
 * The sizing rule Ballast checks at start: all instances' pools together should use at most 80 % of
 * the server's {@code max_connections}, leaving room for migrations, consoles, replication and
 * superuser slots.
 *
 * <pre>{@code
 * var a = PoolSizing.assess(20, 6, 100);   // 20 × 6 = 120 > 80
 * a.exceeds();                             // true
 * a.recommendedConnectionLimit();          // 13 = floor(80 / 6)
 * }</pre>
 */
public final class PoolSizing {
  /** The share of {@code max_connections} the pools may use together. */
  public static final double BUDGET_SHARE = 0.8;

  private PoolSizing() {}

  /**
   * Assesses {@code connectionLimit × instances} against {@code maxConnections}.
   *
   * @throws IllegalArgumentException when a figure is below 1
   */
  public static Assessment assess(int connectionLimit, int instances, int maxConnections) {
    if (connectionLimit < 1 || instances < 1 || maxConnections < 1) {
      throw new IllegalArgumentException(
          "connectionLimit, instances and maxConnections must be at least 1, but were "
              + connectionLimit
              + ", "
              + instances
              + ", "
              + maxConnections);
    }
    return new Assessment(connectionLimit, instances, maxConnections);
  }

  /**
   * The largest {@code connection_limit} that keeps {@code instances} pools within 80 % of the
   * server.
   */
  public static int recommendedConnectionLimit(int instances, int maxConnections) {
    return Math.max(1, (int) Math.floor(BUDGET_SHARE * maxConnections / instances));
  }

  /**
   * One assessment.
   *
   * @param connectionLimit each instance's pool size
   * @param instances how many instances
   * @param maxConnections the server's {@code max_connections}
   */
  public record Assessment(int connectionLimit, int instances, int maxConnections) {
    /** {@code connectionLimit × instances}. */
    public int demand() {
      return connectionLimit * instances;
    }

    /** 80 % of {@code max_connections}, rounded down. */
    public int budget() {
      return (int) Math.floor(BUDGET_SHARE * maxConnections);
    }

    /** Whether the demand is above the budget. */
    public boolean exceeds() {
      return demand() > budget();
    }

    /** The largest per-instance limit that keeps every instance within the budget. */
    public int recommendedConnectionLimit() {
      return PoolSizing.recommendedConnectionLimit(instances, maxConnections);
    }

    /** A sentence with every figure, for the start-up warning. */
    public String message() {
      return "connection_limit "
          + connectionLimit
          + " × "
          + instances
          + " instance(s) = "
          + demand()
          + (exceeds() ? " exceeds " : " is within ")
          + "80% of the server's max_connections "
          + maxConnections
          + " ("
          + budget()
          + "); recommended connection_limit: at most "
          + recommendedConnectionLimit();
    }
  }
}
