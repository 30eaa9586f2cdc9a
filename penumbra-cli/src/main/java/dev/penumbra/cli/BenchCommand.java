package dev.penumbra.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code penumbra bench}: fixed, reproducible benchmark runs; each kind of run is a subcommand. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Runs a fixed benchmark and prints its summary.",
    subcommands = {BenchReplayCommand.class, BenchQueryCommand.class, BenchStreamCommand.class,
        BenchTaskCommand.class, BenchServerCommand.class, BenchClusterCommand.class, BenchShardCommand.class,
        BenchShardLiveCommand.class, BenchFailureCommand.class, BenchFailoverCommand.class,
        BenchShadowWorkersCommand.class})
final class BenchCommand implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
