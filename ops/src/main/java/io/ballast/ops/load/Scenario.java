package io.ballast.ops.load;

import io.ballast.core.Ballast;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What {@code ballast load} runs: a service's own database and cache paths, in the load test's JVM
 * so that the report can show what happened inside (pool, query patterns, cache levels, breakers)
 * next to the client's latency.
 *
 * <p>A scenario starts Ballast with the service's own modules (as the service does), then answers
 * one request per {@link #call}, from many threads at once. It needs a public no-argument
 * constructor when named on the command line ({@code --scenario com.example.CheckoutScenario}).
 *
 * <pre>{@code
 * import io.ballast.core.Ballast;
 * import io.ballast.core.CoreModule;
 * import io.ballast.core.CoreSettings;
 * import io.ballast.ops.load.Scenario;
 * import io.ballast.pool.PoolModule;
 * import io.ballast.pool.PoolSettings;
 * import java.util.Map;
 * import java.util.concurrent.ThreadLocalRandom;
 * import org.jooq.DSLContext;
 *
 * public final class LookupScenario implements Scenario {
 *   private DSLContext db;
 *
 *   public Ballast start(Map<String, String> env) {
 *     var app = Ballast.start(
 *         new CoreModule(CoreSettings.fromEnv(env)), new PoolModule(PoolSettings.fromEnv(env)));
 *     db = app.get(DSLContext.class);
 *     return app;
 *   }
 *
 *   public void call(ThreadLocalRandom random) {
 *     db.fetch("select * from pg_class where oid = ?", random.nextInt(1, 3000));
 *   }
 * }
 * }</pre>
 */
public interface Scenario {
  /**
   * Starts Ballast with the service's modules over {@code env} (the process's environment, or what
   * a test gives) and prepares what {@link #call} needs. The load test closes the returned instance
   * at the end.
   */
  Ballast start(Map<String, String> env) throws Exception;

  /**
   * One request. Called from many threads at once; a thrown exception counts as an error (its class
   * is reported, never its message, which may hold data).
   */
  void call(ThreadLocalRandom random) throws Exception;
}
