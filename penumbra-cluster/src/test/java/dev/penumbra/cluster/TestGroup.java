package dev.penumbra.cluster;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.impl.MiniRaftCluster;
import org.apache.ratis.grpc.MiniRaftClusterWithGrpc;
import org.apache.ratis.util.TimeDuration;

/**
 * A Raft group of ledger state machines in this JVM, on Ratis' own test cluster (gRPC on loopback: faults are
 * injected by Ratis, not by flags in our code). Every state machine ever created is kept, restarted ones
 * included, so tests can audit all of them.
 */
final class TestGroup implements AutoCloseable {

  final MiniRaftCluster cluster;
  final List<LedgerStateMachine> machines = new CopyOnWriteArrayList<>();
  private final List<ClusterLedger> clients = new ArrayList<>();

  TestGroup(int peers, long snapshotEvery) throws Exception {
    this(peers, snapshotEvery, p -> { });
  }

  /** @param more further properties, set after the group's own (timeouts 150-300 ms, snapshots) */
  TestGroup(int peers, long snapshotEvery, java.util.function.Consumer<RaftProperties> more) throws Exception {
    RaftProperties p = new RaftProperties();
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(150, java.util.concurrent.TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(300, java.util.concurrent.TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    if (snapshotEvery > 0) {
      RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
      RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, snapshotEvery);
    }
    more.accept(p);
    cluster = MiniRaftClusterWithGrpc.FACTORY.newCluster(peers, p);
    cluster.setStateMachineRegistry(group -> {
      LedgerStateMachine m = new LedgerStateMachine(true);
      machines.add(m);
      return m;
    });
    cluster.start();
  }

  ClusterLedger client(Clock clock, ClusterLedger.Options options) {
    ClusterLedger l = new ClusterLedger(cluster.createClient(), clock, options);
    clients.add(l);
    return l;
  }

  /** The first invariant breach any replica's audit saw, or null. */
  String invariantBreach() {
    for (LedgerStateMachine m : machines) {
      if (m.invariantBreach() != null) {
        return m.invariantBreach();
      }
    }
    return null;
  }

  long invariantChecks() {
    return machines.stream().mapToLong(LedgerStateMachine::invariantChecks).sum();
  }

  @Override
  public void close() {
    for (ClusterLedger c : clients) {
      c.close();
    }
    cluster.shutdown();
  }
}
