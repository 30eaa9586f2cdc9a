package dev.penumbra.cli;

import picocli.CommandLine.Command;

/** {@code penumbra demo}: the server plus a built-in workload exercising every capability. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
      "Starts the control plane and a built-in workload (TPC-H queries of mixed priority, a stream, phased tasks, "
      + "sharded requests and shadow nodes replayed from drive telemetry) and prints the dashboard URL; runs until "
      + "Ctrl-C or --duration. The TPC-H database (SF 0.1) is generated on first use.")
final class DemoCommand extends ControlPlaneCommand {
  @Override
  boolean demo() {
    return true;
  }
}
