package io.ballast.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JVM shutdown hook, proven in a child JVM that exits without calling stop(). */
class LifecycleShutdownHookTest {

  /** The child: starts a lifecycle and returns from main, so only the shutdown hook can stop it. */
  public static void main(String[] args) throws Exception {
    var log = Path.of(args[0]);
    Managed service =
        new Managed() {
          @Override
          public String name() {
            return "recorder";
          }

          @Override
          public void start() throws Exception {
            Files.writeString(log, "started\n");
          }

          @Override
          public void stop(Duration grace) throws Exception {
            Files.writeString(log, "stopped\n", java.nio.file.StandardOpenOption.APPEND);
          }
        };
    new Lifecycle(Set.of(service), CoreSettings.defaults()).start();
  }

  @Test
  void jvmExitWithoutStop_stopsServicesOnceThroughTheHook(@TempDir Path dir) throws Exception {
    var log = dir.resolve("events.txt");
    var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    var process =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                LifecycleShutdownHookTest.class.getName(),
                log.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("out.txt").toFile())
            .start();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(Files.readString(dir.resolve("out.txt"))).isZero();
    assertThat(Files.readAllLines(log)).containsExactly("started", "stopped");
  }
}
