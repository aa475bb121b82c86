package io.ballast.core;

import org.jooq.Configuration;

/**
 * Which database server a jOOQ {@link Configuration} runs on. The primary's configuration (the one
 * {@link CoreModule} binds) carries no mark; a configuration derived to run on a read replica (the
 * pool module's {@code Replicas}) carries the replica's pool name under {@link #CONFIGURATION_KEY},
 * so that listeners keep per-server state (a breaker per server, statistics by server) instead of
 * charging a replica's failures to the primary.
 */
public final class Servers {
  /** The configuration data key holding the server's name. */
  public static final String CONFIGURATION_KEY = "ballast.server";

  /** The name of the primary server. */
  public static final String PRIMARY = "primary";

  private Servers() {}

  /** The server {@code configuration} runs on: a replica's pool name, or {@link #PRIMARY}. */
  public static String of(Configuration configuration) {
    var name = configuration.data(CONFIGURATION_KEY);
    return name instanceof String s ? s : PRIMARY;
  }

  /** Whether {@code configuration} runs on the primary. */
  public static boolean isPrimary(Configuration configuration) {
    return configuration.data(CONFIGURATION_KEY) == null;
  }
}
