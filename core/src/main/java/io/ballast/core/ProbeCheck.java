package io.ballast.core;

import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * A named health check of a {@link ProbeKind}. Contribute one through {@link
 * Extensions#probeChecks(com.google.inject.Binder)}; names are unique across the application.
 * {@link #check()} may be called from several threads at once and should finish within a second or
 * two.
 */
public interface ProbeCheck {
  /** The check's name, e.g. {@code db}; unique in the application. */
  String name();

  /** The probes this check runs in (and every broader one). */
  ProbeKind kind();

  /** Runs the check. An exception counts as unhealthy, with its message as the reason. */
  ProbeResult check() throws Exception;

  /** A check from a lambda. */
  static ProbeCheck of(String name, ProbeKind kind, Callable<ProbeResult> check) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(check, "check");
    return new ProbeCheck() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public ProbeKind kind() {
        return kind;
      }

      @Override
      public ProbeResult check() throws Exception {
        return check.call();
      }

      @Override
      public String toString() {
        return "ProbeCheck[" + name + ", " + kind + "]";
      }
    };
  }
}
