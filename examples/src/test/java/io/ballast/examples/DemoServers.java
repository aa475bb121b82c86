package io.ballast.examples;

import io.ballast.testkit.Await;
import io.ballast.testkit.MachinePostgres;
import java.sql.SQLException;
import java.time.Duration;

/**
 * A throwaway primary and a real streaming replica of it, with a {@code demo} database the replica
 * has already received: what the demo's replica tests run on.
 *
 * @param primary the primary
 * @param replica its replica
 */
record DemoServers(MachinePostgres primary, MachinePostgres replica) implements AutoCloseable {

  static DemoServers start() throws Exception {
    var primary = MachinePostgres.builder().start();
    try {
      var replica = primary.startReplica();
      primary.execute("postgres", "create database demo");
      Await.until(
          "the replica has the demo database",
          Duration.ofSeconds(30),
          () -> {
            try {
              replica.execute("demo", "select 1");
              return true;
            } catch (SQLException e) {
              return false;
            }
          });
      return new DemoServers(primary, replica);
    } catch (Exception | Error e) {
      primary.close();
      throw e;
    }
  }

  @Override
  public void close() throws Exception {
    try {
      replica.close();
    } finally {
      primary.close();
    }
  }
}
