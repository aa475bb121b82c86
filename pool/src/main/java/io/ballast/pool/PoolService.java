package io.ballast.pool;

import com.google.inject.Inject;
import io.ballast.core.Managed;
import java.time.Duration;

/** Opens the pool when the lifecycle starts, before anything else, and closes it last. */
final class PoolService implements Managed {
  private final ManagedPool pool;

  @Inject
  PoolService(ManagedPool pool) {
    this.pool = pool;
  }

  @Override
  public String name() {
    return "pool:" + pool.name();
  }

  @Override
  public int phase() {
    return PHASE_POOL;
  }

  @Override
  public void start() throws Exception {
    pool.start();
  }

  @Override
  public void stop(Duration grace) {
    pool.stop(grace);
  }
}
