package dev.penumbra.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.CommitInfoProto;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replica of the ledger in this process: a Ratis server holding a {@link LedgerStateMachine}, its Raft log
 * and snapshots in the peer's data directory (so a restarted replica comes back with its state: the latest
 * snapshot, then the log after it).
 */
public final class ClusterReplica implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterReplica.class);

  private final ClusterConfig config;
  private final RaftServer server;
  /** The ledger's state machine; null on a bare replica ({@link #startBare}). */
  private final LedgerStateMachine machine;
  private final LeaderEvents events;

  /** Resets this replica's channels to its peers off Ratis' threads (closing a channel may wait for it). */
  private final java.util.concurrent.ExecutorService channelReset =
      java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "ledger-channel-reset");
        t.setDaemon(true);
        return t;
      });

  private ClusterReplica(ClusterConfig config, RaftServer server, LedgerStateMachine machine, LeaderEvents events) {
    this.config = config;
    this.server = server;
    this.machine = machine;
    this.events = events;
    events.onLeaderEvents(e -> {
      if (e.startsWith("leader ") && !e.equals("leader " + config.self())) {
        String leader = e.substring("leader ".length());
        channelReset.execute(() -> resetVoteChannels(leader));
      }
    });
  }

  /**
   * Gives this follower fresh channels to every peer but the leader. A follower sends to its peers only to ask
   * for votes, and a gRPC channel that failed to connect (its peer was down, say killed and restarting) refuses
   * every call at once until its reconnect back-off (1 s, growing to minutes) runs out, even once the peer is back.
   * Measured: after the leader's kill, the two survivors, one just restarted, could not reach each other for
   * seconds, and no election could succeed (docs/cluster.md, "Failover"). A fresh channel connects on its first
   * call. The leader's channels carry replication and reset their own back-off on failure; this replica's channel
   * to its leader is left alone too.
   */
  private void resetVoteChannels(String leader) {
    for (ClusterPeer p : config.peers()) {
      if (p.id().equals(config.self()) || p.id().equals(leader)) {
        continue;
      }
      try {
        server.getServerRpc().handleException(RaftPeerId.valueOf(p.id()),
            new IOException("fresh channel after a leader change"), true);
      } catch (RuntimeException e) {
        LOG.debug("resetting the channel to {} failed: {}", p.id(), e.toString());
      }
    }
  }

  /**
   * Not a Ratis property: with {@code --raft penumbra.stagger-election=true} ({@code ClusterReplicaMain}, {@code
   * bench cluster}) the replicas' election timeouts are staggered by rank ({@link Raft#stagger}), a design measured
   * and not adopted.
   */
  static final String STAGGER = "penumbra.stagger-election";

  /** Checks the config on this machine, then starts the replica (it joins the others as they come up). */
  public static ClusterReplica start(ClusterConfig config) throws IOException {
    return start(config, Map.of());
  }

  /**
   * Starts the replica with some of Ratis' properties set otherwise ({@code raft.*} keys; for measuring other
   * designs of the write path, see {@code ClusterReplicaMain --raft}).
   */
  static ClusterReplica start(ClusterConfig config, Map<String, String> raftOverrides) throws IOException {
    LedgerStateMachine machine = new LedgerStateMachine();
    return start(config, raftOverrides, machine, machine);
  }

  /**
   * Starts a replica of Ratis alone: the same transport, storage and timeouts as a ledger replica's, and a state
   * machine that applies nothing ({@code penumbra bench cluster --bare} measures the engine's bound with it). Its
   * {@link #machine()} fails; its status shows ledger sequence 0.
   */
  public static ClusterReplica startBare(ClusterConfig config) throws IOException {
    return startBare(config, Map.of());
  }

  static ClusterReplica startBare(ClusterConfig config, Map<String, String> raftOverrides) throws IOException {
    BareStateMachine bare = new BareStateMachine();
    return start(config, raftOverrides, null, bare);
  }

  private static <M extends org.apache.ratis.statemachine.StateMachine & LeaderEvents> ClusterReplica start(
      ClusterConfig config, Map<String, String> raftOverrides, LedgerStateMachine ledger, M stateMachine)
      throws IOException {
    config.checkReachable();
    ClusterPeer me = config.me();
    Files.createDirectories(me.dataDir());
    RaftProperties p = new RaftProperties();
    Raft.tune(p, config.electionTimeoutMin());
    if (Boolean.parseBoolean(raftOverrides.getOrDefault(STAGGER, "false"))) {
      Raft.stagger(p, config.electionTimeoutMin(), config.peers().stream().map(ClusterPeer::id).sorted().toList()
          .indexOf(me.id()));
    }
    RaftServerConfigKeys.setStorageDir(p, List.of(me.dataDir().toFile()));
    GrpcConfigKeys.Server.setHost(p, me.host());
    GrpcConfigKeys.Server.setPort(p, me.port());
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, config.snapshotEvery());
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    // Without fsync the log is written to the page cache and the flush index moves on without waiting for
    // the disk: a killed process loses nothing, a crashed machine may.
    // (Ratis refuses unsafe and asynchronous flush together: without fsync there is nothing to wait for anyway.)
    RaftServerConfigKeys.Log.setUnsafeFlushEnabled(p, !config.fsync());
    RaftServerConfigKeys.Log.setAsyncFlushEnabled(p, config.fsync());
    raftOverrides.forEach((k, v) -> {
      if (!k.equals(STAGGER)) {
        p.set(k, v);
      }
    });
    boolean fresh;
    try (var files = Files.list(me.dataDir())) {
      fresh = files.findAny().isEmpty();
    }
    RaftServer server = RaftServer.newBuilder()
        .setServerId(RaftPeerId.valueOf(me.id()))
        .setGroup(Raft.group(config.peers()))
        .setProperties(p)
        .setParameters(new Parameters())
        .setStateMachine(stateMachine)
        .setOption(fresh ? RaftStorage.StartupOption.FORMAT : RaftStorage.StartupOption.RECOVER)
        .build();
    server.start();
    LOG.info("ledger replica {} listening on {} ({} state in {})", me.id(), me.address(),
        fresh ? "fresh" : "recovered", me.dataDir());
    return new ClusterReplica(config, server, ledger, stateMachine);
  }

  public ClusterConfig config() {
    return config;
  }

  /** The replica's state machine (for status and checks). */
  public LedgerStateMachine machine() {
    if (machine == null) {
      throw new IllegalStateException("replica " + config.self() + " is bare: it holds no ledger");
    }
    return machine;
  }

  /**
   * Waits until the group has a leader this replica knows of; fails naming the peers that cannot be reached
   * when none appears in {@code timeout}.
   */
  public ClusterStatus awaitLeader(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      ClusterStatus s = status();
      if (s.leader() != null) {
        return s;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    List<String> down = new ArrayList<>();
    for (ClusterPeer peer : config.peers()) {
      if (peer.id().equals(config.self())) {
        continue;
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(peer.host(), peer.port()), 500);
      } catch (IOException e) {
        down.add(peer.id() + " at " + peer.address());
      }
    }
    throw new IllegalStateException("no leader elected within " + timeout + "; a majority of "
        + config.peers().size() + " peers is needed, unreachable: " + (down.isEmpty() ? "none" : down));
  }

  /**
   * Submits a write to this replica's Raft server directly, without the network, when this replica leads the
   * group; null when it does not (the caller goes through the group's client). The reply completes once the
   * entry is committed and applied here, as a client's would.
   */
  java.util.concurrent.CompletableFuture<org.apache.ratis.protocol.RaftClientReply> submitIfLeader(
      org.apache.ratis.protocol.ClientId clientId, long callId, org.apache.ratis.protocol.Message message) {
    RaftServer.Division d;
    try {
      d = server.getDivision(Raft.GROUP_ID);
    } catch (IOException e) {
      return null;
    }
    if (!d.getInfo().isLeaderReady()) {
      return null;
    }
    try {
      return server.submitClientRequestAsync(org.apache.ratis.protocol.RaftClientRequest.newBuilder()
          .setClientId(clientId).setServerId(server.getId()).setGroupId(Raft.GROUP_ID).setCallId(callId)
          .setMessage(message).setType(org.apache.ratis.protocol.RaftClientRequest.writeRequestType()).build());
    } catch (IOException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Asks the group to make this replica its leader (Ratis' leadership transfer), for a node that should take the
   * writes of its own process without the network ({@link ClusterLedger#colocated}); fails when the transfer
   * does not complete within {@code timeout}.
   */
  public void transferLeadershipHere(Duration timeout) throws IOException {
    try (org.apache.ratis.client.RaftClient c = Raft.client(config.peers(), config.electionTimeoutMin())) {
      org.apache.ratis.protocol.RaftClientReply r = c.admin().transferLeadership(
          RaftPeerId.valueOf(config.self()), timeout.toMillis());
      if (!r.isSuccess()) {
        throw new IOException("leadership not transferred to " + config.self() + ": " + r.getException());
      }
    }
  }

  /** Starts timing the stages of each commit this replica leads (diagnosis; see {@link #writeCommitStages}). */
  public void recordCommitStages() {
    machine().recordStages(new CommitStages(200_000));
  }

  /**
   * Writes the commit stages recorded since {@link #recordCommitStages} and Ratis' timers of this JVM to {@code
   * file}, in the format of {@code ClusterReplicaMain --stages}.
   */
  public void writeCommitStages(java.nio.file.Path file) throws IOException {
    CommitStages s = machine().stages();
    if (s == null) {
      throw new IllegalStateException("commit stages are not recorded on replica " + config.self());
    }
    s.write(file);
  }

  /** See {@link LeaderEvents#onLeaderEvents}. */
  void onLeaderEvents(java.util.function.Consumer<String> listener) {
    events.onLeaderEvents(listener);
  }

  /** {@code ROLE TERM READY}: this replica's role, term and (as a leader) whether it serves yet; cheap. */
  String roleLine() {
    try {
      RaftServer.Division d = server.getDivision(Raft.GROUP_ID);
      var info = d.getInfo();
      return info.getCurrentRole().name() + " " + info.getCurrentTerm() + " " + (info.isLeader() && info.isLeaderReady());
    } catch (IOException e) {
      return "UNKNOWN -1 false";
    }
  }

  /** What this replica knows of the group now. */
  public ClusterStatus status() {
    try {
      RaftServer.Division d = server.getDivision(Raft.GROUP_ID);
      Map<String, Long> commits = new HashMap<>();
      for (CommitInfoProto c : d.getCommitInfos()) {
        commits.put(c.getServer().getId().toStringUtf8(), c.getCommitIndex());
      }
      long commit = d.getRaftLog().getLastCommittedIndex();
      List<ClusterStatus.Member> members = new ArrayList<>();
      for (ClusterPeer peer : config.peers()) {
        long c = peer.id().equals(config.self()) ? commit : commits.getOrDefault(peer.id(), -1L);
        members.add(new ClusterStatus.Member(peer.id(), peer.address(), c, c < 0 ? -1 : Math.max(0, commit - c)));
      }
      RaftPeerId leader = d.getInfo().getLeaderId();
      return new ClusterStatus(config.self(), d.getInfo().getCurrentRole().name(),
          leader == null ? null : leader.toString(), d.getInfo().getCurrentTerm(), commit,
          d.getInfo().getLastAppliedIndex(), machine == null ? 0 : machine.ledgerSequence(), members);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() throws IOException {
    channelReset.shutdownNow();
    server.close();
  }
}
