package io.ballast.examples;

import java.util.Map;

/**
 * Entry point of the examples jar: {@code java -jar examples/target/ballast-demo.jar demo
 * [--duration 30s]}.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    // jOOQ prints a banner and tips on first use; a demo's output should be its own
    System.setProperty("org.jooq.no-logo", "true");
    System.setProperty("org.jooq.no-tips", "true");
    int code = Demo.run(args, Map.copyOf(System.getenv()), System.out, System.err);
    if (code != 0) {
      System.exit(code);
    }
  }
}
