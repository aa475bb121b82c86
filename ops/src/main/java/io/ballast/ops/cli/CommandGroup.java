package io.ballast.ops.cli;

import picocli.CommandLine;
import picocli.CommandLine.ParentCommand;

/** A command that only groups subcommands: run by itself, it is a usage error. */
abstract class CommandGroup implements Runnable {
  @ParentCommand BallastCli root;
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Without a subcommand: the usage, as a usage error. */
  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing a subcommand");
  }
}
