package io.ballast.audit;

import java.util.List;

/**
 * Thrown at start-up when row-level security would not hold for the application's database role (a
 * superuser, a role with {@code BYPASSRLS}, or the owner of a protected table without {@code FORCE
 * ROW LEVEL SECURITY}) and the check is enforced (the default in production). The message names
 * every problem and its fix.
 */
public final class RowSecurityException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  private final transient List<String> problems;

  RowSecurityException(List<String> problems) {
    super(
        "row-level security is not enforced for this application's database role:\n  - "
            + String.join("\n  - ", problems));
    this.problems = List.copyOf(problems);
  }

  /** Each problem with its fix, one sentence each. */
  public List<String> problems() {
    return problems;
  }
}
