package dev.penumbra.cluster;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.TimeDuration;

/** The Ratis settings every replica and client of the ledger's group share. */
final class Raft {

  /** One group per cluster; its id is fixed so that replicas and clients find each other by config alone. */
  static final RaftGroupId GROUP_ID =
      RaftGroupId.valueOf(UUID.nameUUIDFromBytes("penumbra-ledger".getBytes(StandardCharsets.UTF_8)));

  /**
   * How long the client waits before sending a failed request again (to the next peer when the leader is
   * unreachable): short, so that the client finds a new leader within tens of milliseconds of its election.
   */
  static final long RETRY_SLEEP_MS = 10;

  private Raft() {}

  static RaftGroup group(List<ClusterPeer> peers) {
    return RaftGroup.valueOf(GROUP_ID, peers.stream()
        .map(p -> RaftPeer.newBuilder().setId(RaftPeerId.valueOf(p.id())).setAddress(p.address()).build())
        .toList());
  }

  /**
   * Timeouts short enough that a new leader serves within about a second of the old one dying (an election
   * waits min..2*min; Ratis' pre-vote, on by default, keeps a partitioned follower from disturbing the group
   * when it comes back), reads linearizable through Ratis' read index (status reads only: ledger reads go
   * through the log because they may expire leases), served by the leader from its lease when it has one.
   *
   * <p>The write path: the log worker flushes asynchronously (it goes on writing the next entries while the
   * previous ones are fsynced; the flush index, and with it what a replica acknowledges, still only moves
   * once the data is on disk), so fsyncs and appends overlap and one fsync covers every entry written
   * meanwhile (group commit).
   */
  static void tune(RaftProperties p, Duration electionTimeoutMin) {
    RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
    long min = electionTimeoutMin.toMillis();
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(min, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(2 * min, TimeUnit.MILLISECONDS));
    // A leader that lost its majority's heartbeats steps down and, by Ratis' default, stays out of elections
    // for 10 s. On a loaded machine a leader elected right after a kill often steps down at once (its one live
    // follower answers late), and it may be the only replica whose log is complete: the group then has no
    // leader for those 10 s (measured: failovers of 10-15 s). The same setting is how long the JVM may pause
    // (a collection, a starved process) before its leader steps down: at one election timeout (150 ms) a loaded
    // machine's pauses deposed healthy leaders (measured: 2 new leaders in 14 s without a kill). The longest
    // election timeout serves both: a pause that long has let the followers stand anyway.
    RaftServerConfigKeys.LeaderElection.setLeaderStepDownWaitTime(p,
        TimeDuration.valueOf(2 * min, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    RaftServerConfigKeys.Read.setLeaderLeaseEnabled(p, true);
    RaftServerConfigKeys.Log.setAsyncFlushEnabled(p, true);
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(3, TimeUnit.SECONDS));
    RaftServerConfigKeys.Log.Appender.setRetryPolicy(p, appenderRetryPolicy(electionTimeoutMin));
  }

  /**
   * How long the leader's appender for one follower sleeps after each error of that follower: 1 ms for the first
   * 10 consecutive errors, then a fifth of the shortest election timeout (20 ms at 100 ms; Ratis sleeps 0.5-1.5x
   * that), until a reply succeeds. Why not Ratis' default (1 s after 10 errors, 5 s after 30): errors are not only
   * failed connections to a follower that is down, but every INCONSISTENCY reply of a follower whose log differs,
   * and an appender that wakes from a sleep longer than half the shortest election timeout finds a heartbeat
   * overdue and sends a heartbeat (no entries) instead of the entries the follower lacks. A follower back after
   * seconds away was then sent heartbeats, one every 1-7 s, each answered INCONSISTENCY, each one more error: a
   * restarted leader whose log ended in entries the new leader never had was walked back one entry per sleep (one
   * test run: not caught up within a minute), and a follower back with an empty log after the leader had seen it
   * (its data lost) was not reached within 60-120 s (docs/cluster.md, "A follower the leader stops reaching").
   * Below the heartbeat interval the woken appender sends the entries themselves (measured at a load of 30: the
   * first append 1.7-3.4 s after the follower listened, against 3.3-17 s). What it costs: a follower that is down
   * is tried every 10-30 ms (a refused connection on the leader) instead of every 5 s; after a minute without a
   * reply Ratis adds a heartbeat interval between attempts.
   */
  static String appenderRetryPolicy(Duration electionTimeoutMin) {
    long sleep = Math.max(1, electionTimeoutMin.toMillis() / 5);
    return "1ms,10, " + sleep + "ms," + Integer.MAX_VALUE;
  }

  /**
   * Staggers the replicas' election timeouts by rank (the place of this replica's id among the peers' ids, from
   * 0): replica k waits {@code min * (1 + k/2)} to {@code min * (2 + k/2)} for its leader (three replicas at 100
   * ms: 100-200, 150-250, 200-300 ms). Why: after a leader's death both survivors heard its last heartbeat at the
   * same moment and drew from the same window; on a loaded machine the first one's pre-vote and vote take longer
   * than the gap between their stands, both pass pre-vote, both vote for themselves in the same term and both are
   * refused ("already has voted"), and the election starts over 0.1-0.4 s later (the replicas' logs, docs/
   * cluster.md). With windows shifted by half a timeout, one survivor usually stands first. A new leader also
   * has its own longest timeout as the grace before it must have heard from a majority.
   *
   * <p>Measured against the same window on every replica in three pairs at a load of 14-33 (docs/benchmarks.md): no consistent gain,
   * as there the new leaders' step-downs, not split votes, make most of the election part; not the default.
   *
   * <p>Safe at any timeout; the leader lease (status reads) stays within 0.9 of the shortest timeout of any
   * replica, so no follower can stand while a leader still trusts its lease.
   */
  static void stagger(RaftProperties p, Duration electionTimeoutMin, int rank) {
    long base = electionTimeoutMin.toMillis();
    long lo = base + rank * base / 2;
    long hi = lo + base;
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(lo, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(hi, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.LeaderElection.setLeaderStepDownWaitTime(p, TimeDuration.valueOf(hi, TimeUnit.MILLISECONDS));
    RaftServerConfigKeys.Read.setLeaderLeaseTimeoutRatio(p, 0.9 * base / lo);
  }

  static RaftClient client(List<ClusterPeer> peers, Duration electionTimeoutMin) {
    RaftProperties p = new RaftProperties();
    tune(p, electionTimeoutMin);
    return RaftClient.newBuilder()
        .setProperties(p)
        .setParameters(new Parameters())
        .setClientId(ClientId.randomId())
        .setRaftGroup(group(peers))
        // Ratis closes a client's ordered request window for good once a request exhausts a limited retry
        // policy; the cluster ledger bounds every operation by its own deadline instead.
        .setRetryPolicy(RetryPolicies.retryForeverWithSleep(
            TimeDuration.valueOf(RETRY_SLEEP_MS, TimeUnit.MILLISECONDS)))
        .build();
  }
}
