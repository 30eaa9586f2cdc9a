package dev.penumbra.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code penumbra} command. */
@Command(
    name = "penumbra",
    mixinStandardHelpOptions = true,
    version = "penumbra 0.1.0",
    description = "Predictive resource allocation: shadow the work, forecast its demand, reserve before it arrives.",
    subcommands = {CommandLine.HelpCommand.class, ReplayCommand.class, QueryCommand.class, BenchCommand.class,
        ServeCommand.class, DemoCommand.class},
    footer = {"", "The ./penumbra launcher also takes 'test', which runs the whole test suite with the Maven wrapper "
        + "(extra arguments go to Maven)."})
public final class Main implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The configured command line, shared by {@link #main} and the tests. */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    // Every subcommand's -V prints the one version, not an empty line.
    setVersion(cli, cli.getCommandSpec().version());
    // A bad option is reported as one line naming it, not buried above the whole usage text.
    cli.setParameterExceptionHandler((ex, args) -> {
      ex.getCommandLine().getErr().println(ex.getMessage());
      return CommandLine.ExitCode.USAGE;
    });
    return cli;
  }

  private static void setVersion(CommandLine cli, String[] version) {
    cli.getCommandSpec().version(version);
    cli.getSubcommands().values().forEach(sub -> setVersion(sub, version));
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
