package dev.penumbra.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code penumbra serve}: the control plane (HTTP API, dashboard, metrics) until Ctrl-C; a replica or a shadow worker. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description =
      "Runs the control plane: HTTP API under /v1, dashboard at /, Prometheus metrics at /metrics, until Ctrl-C. "
      + "Configuration: --config FILE (YAML; docs/server.md lists every key) and PENUMBRA_<SECTION>_<KEY> environment variables.")
final class ServeCommand extends ControlPlaneCommand {
  @Option(names = "--cluster", description = "Run this node as a replica of the Raft-replicated ledger: the "
      + "configuration's cluster section names this node and its peers (its keys self, peers and dataDir); "
      + "every node's API reads and writes the same ledger. docs/cluster.md has the details.")
  void cluster(boolean v) {
    cluster = v;
  }

  @Option(names = "--role", paramLabel = "ROLE", description = "control (default): the control plane; shadow: a "
      + "shadow worker that runs query shadows for the control plane at --control-plane (its own replicas of the "
      + "TPC-H data of query.scale, in query.cacheDir). docs/cluster.md has the details.")
  void role(String v) {
    role = v;
  }

  @Option(names = "--control-plane", paramLabel = "URL[,URL...]",
      description = "With --role shadow: the control plane's base URL, http://HOST:PORT, which the worker registers "
          + "with and heartbeats to; for a replicated control plane (serve --cluster) every node's URL, separated by "
          + "commas, so that a failover of the control plane does not lose the worker. Its admin token, when it "
          + "authenticates, in PENUMBRA_SHADOW_TOKEN.")
  void controlPlane(String v) {
    controlPlane = v;
  }

  @Option(names = "--worker-id", paramLabel = "ID",
      description = "With --role shadow: this worker's id (default: shadow-<pid>).")
  void workerId(String v) {
    workerId = v;
  }

  @Option(names = "--slots", paramLabel = "N",
      description = "With --role shadow: shadows this worker runs at once (default 2).")
  void slots(Integer v) {
    slots = v;
  }

  @Override
  boolean demo() {
    return false;
  }
}
