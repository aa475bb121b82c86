package io.ballast.ops.load;

import io.ballast.core.Ballast;
import io.ballast.core.CoreModule;
import io.ballast.core.CoreSettings;
import io.ballast.pool.PoolModule;
import io.ballast.pool.PoolSettings;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.jooq.DSLContext;

/**
 * A test scenario: a key lookup through Ballast's {@code DSLContext}; with {@code
 * SCENARIO_SLEEP_MS}, every request holds its connection that long on the server; with {@code
 * SCENARIO_STALL_AT}, that request stalls 800 ms on the server.
 */
public final class LookupScenario implements Scenario {
  private final AtomicInteger calls = new AtomicInteger();
  private DSLContext db;
  private double sleepSeconds;
  private int stallAt;

  public LookupScenario() {}

  @Override
  public Ballast start(Map<String, String> env) {
    sleepSeconds = Integer.parseInt(env.getOrDefault("SCENARIO_SLEEP_MS", "0")) / 1000.0;
    stallAt = Integer.parseInt(env.getOrDefault("SCENARIO_STALL_AT", "-1"));
    var app =
        Ballast.start(
            new CoreModule(CoreSettings.fromEnv(env)), new PoolModule(PoolSettings.fromEnv(env)));
    db = app.get(DSLContext.class);
    return app;
  }

  @Override
  public void call(ThreadLocalRandom random) {
    var n = calls.incrementAndGet();
    if (n == stallAt) {
      db.fetch("select pg_sleep(0.8)");
    } else if (sleepSeconds > 0) {
      db.fetch("select pg_sleep(?)", sleepSeconds);
    } else {
      db.fetch("select ? as n", random.nextInt(1000));
    }
  }
}
