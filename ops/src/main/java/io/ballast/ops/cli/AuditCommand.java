package io.ballast.ops.cli;

import io.ballast.audit.AuditLog;
import io.ballast.audit.AuditModule;
import io.ballast.audit.AuditSettings;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

/** {@code ballast audit …}: the audit log's hash chain. */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description = "The audit module's log (ballast-audit).",
    subcommands = {AuditCommand.Verify.class})
final class AuditCommand extends CommandGroup {
  @Command(
      name = "verify",
      mixinStandardHelpOptions = true,
      description = {
        "Checks the whole hash chain of the audit log: every sealed row unchanged, none deleted,"
            + " none inserted into the sealed range (BALLAST_AUDIT_KEY for a keyed chain).",
        "Exits 1 naming the first bad entry."
      })
  static final class Verify implements Callable<Integer> {
    @ParentCommand AuditCommand parent;
    @Mixin Output output;

    @Override
    public Integer call() {
      var root = parent.root;
      // the row-level security start-up check only warns here: verifying is not serving requests
      var settings =
          AuditSettings.fromEnv(root.env()).toBuilder()
              .rlsCheck(AuditSettings.RlsCheck.WARN)
              .build();
      try (var app = root.start(new AuditModule(settings))) {
        var verification = app.get(AuditLog.class).verify();
        if (output.json) {
          root.json(verification);
        } else {
          root.out().println(verification);
        }
        return verification.intact() ? BallastCli.OK : BallastCli.FINDINGS;
      }
    }
  }
}
