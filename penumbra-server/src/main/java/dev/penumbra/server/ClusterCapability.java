package dev.penumbra.server;

import dev.penumbra.cluster.ClusterLedger;
import dev.penumbra.cluster.ClusterReplica;
import dev.penumbra.cluster.ClusterStatus;
import dev.penumbra.core.ledger.Ledger;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.Random;
import java.util.function.Consumer;

/**
 * The replicated ledger of {@code penumbra serve --cluster}: this process runs one replica of the ledger's Raft
 * group (the {@code cluster} section of the configuration) and the server's ledger is a client of that group, so
 * the API of every node reads and writes the same ledger: a write arriving at a follower is forwarded to the
 * leader by the Raft client, one arriving at the leader goes to its replica in this process, and reads go through
 * the log. {@code GET /v1/cluster} shows what this replica knows
 * of the group: members, leader, term, commit and applied index, and each member's lag behind this replica.
 * It runs no work of its own (no predictions, no timeline).
 */
final class ClusterCapability implements Capability {

  private final ClusterReplica replica;
  private final ClusterLedger ledger;
  private final LoopView view;
  private volatile boolean closed;

  private ClusterCapability(ClusterReplica replica, ClusterLedger ledger) {
    this.replica = replica;
    this.ledger = ledger;
    this.view = LoopView.of("cluster", new Timeline("ledger", "entries", 1))
        .ready(() -> !closed && replica.status().leader() != null).build();
  }

  /**
   * Starts this node's replica and waits until the group has a leader; fails naming the peers it cannot reach
   * when none is elected within {@code cluster.awaitLeader()}.
   */
  static ClusterCapability start(ServerConfig.Cluster cluster, Clock clock, Consumer<String> progress) {
    ClusterReplica replica;
    try {
      replica = ClusterReplica.start(cluster.replica());
    } catch (IOException e) {
      throw new UncheckedIOException("cluster: replica " + cluster.replica().self() + " cannot start: "
          + e.getMessage(), e);
    }
    try {
      progress.accept("cluster: replica " + cluster.replica().self() + " listening on "
          + cluster.replica().me().address() + ", waiting up to " + cluster.awaitLeader().toSeconds()
          + " s for a leader among " + cluster.replica().peers().size() + " peers");
      ClusterStatus s = replica.awaitLeader(cluster.awaitLeader());
      progress.accept("cluster: leader " + s.leader() + " (term " + s.term() + ")");
      // While this node leads, its own writes go to its replica without the network (docs/cluster.md).
      return new ClusterCapability(replica, ClusterLedger.colocated(replica, clock, ClusterLedger.Options.DEFAULTS));
    } catch (RuntimeException e) {
      closeQuietly(replica);
      throw e;
    }
  }

  /** The replicated ledger, as a client of the group. */
  Ledger ledger() {
    return ledger;
  }

  @Override
  public void routes(Api api) {
    api.get("/v1/cluster", ctx -> ctx.json(replica.status()));
  }

  @Override
  public void metrics(MeterRegistry registry) {
    Gauge.builder("penumbra.cluster.term", () -> replica.status().term())
        .description("Current Raft term of the replicated ledger").register(registry);
    Gauge.builder("penumbra.cluster.commit.index", () -> replica.status().commitIndex())
        .description("This replica's commit index").register(registry);
    Gauge.builder("penumbra.cluster.leader", () -> "LEADER".equals(replica.status().role()) ? 1 : 0)
        .description("1 when this replica is the leader").register(registry);
  }

  @Override
  public LoopView view() {
    return view;
  }

  /** The demo's step here is a linearizable read of the replicated ledger (it runs no work of its own). */
  @Override
  public void demoStep(Random random) {
    ledger.nodes();
  }

  /**
   * Marks it not ready and nothing more: the other capabilities still release their grants through the ledger
   * while the server stops; the server calls {@link #leave()} last.
   */
  @Override
  public void close() {
    closed = true;
  }

  /** Leaves the group: the ledger client first, then the replica (the others go on without it). */
  void leave() {
    ledger.close();
    closeQuietly(replica);
  }

  private static void closeQuietly(ClusterReplica replica) {
    try {
      replica.close();
    } catch (IOException | RuntimeException e) {
      // stopping anyway
    }
  }
}
