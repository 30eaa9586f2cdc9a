package dev.penumbra.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.LedgerSnapshot;
import dev.penumbra.core.ledger.Reservation;
import java.time.Clock;
import java.time.Duration;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A follower that comes back without its data, after the leader has purged the log it would need, is caught up
 * from the leader's snapshot and then its log: the leader reaches it (its appender does not sleep past the
 * heartbeat interval) and the follower takes the snapshot in (its state machine pauses and reloads, where its
 * Ratis server closed itself before). Three replicas in this JVM with the product's Ratis settings.
 */
class FollowerReachTest {

  @Test
  @Timeout(120)
  void aFollowerBackWithoutItsDataIsCaughtUpFromTheLeadersSnapshot() throws Exception {
    try (TestGroup g = new TestGroup(3, 40, p -> {
      Raft.tune(p, Duration.ofMillis(150));
      // Small closed segments, purged up to each snapshot: the leader no longer has the log from its start.
      RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf("4KB"));
      RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
      RaftServerConfigKeys.Log.setPurgeGap(p, 1);
    })) {
      ClusterLedger client = g.client(Clock.systemUTC(), ClusterLedger.Options.DEFAULTS.withMaxBatch(1));
      client.addNode("n", Resources.cpu(1_000_000));
      ClusterFaultTest.awaitLeader(g);
      RaftPeerId away = g.cluster.getFollowers().get(0).getId();
      g.cluster.killServer(away);
      Reservation kept = client.reserve("kept", "n", Resources.cpu(7), Priority.STANDARD, Duration.ofHours(1));
      for (int i = 0; i < 300; i++) {
        Reservation r = client.reserve("r" + i, "n", Resources.cpu(1), Priority.STANDARD, Duration.ofHours(1));
        client.release(r.id());
      }
      RaftServer.Division l = g.cluster.getDivision(ClusterFaultTest.awaitLeader(g));
      await().atMost(Duration.ofSeconds(30)).until(() -> l.getRaftLog().getStartIndex() > 0);

      // Back with an empty directory (a lost disk): it needs entries the leader no longer has.
      g.cluster.restartServer(away, true);
      long committed = l.getRaftLog().getLastCommittedIndex();
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        RaftServer.Division d = g.cluster.getDivision(away);
        return d.getInfo().isAlive() && d.getInfo().getLastAppliedIndex() >= committed;
      });
      LedgerSnapshot back = ((LedgerStateMachine) g.cluster.getDivision(away).getStateMachine()).localSnapshot();
      LedgerSnapshot lead = ((LedgerStateMachine) l.getStateMachine()).localSnapshot();
      assertThat(back.reservations()).isEqualTo(lead.reservations());
      assertThat(back.reservations()).extracting(Reservation::id).contains(kept.id());
      assertThat(back.nodes()).isEqualTo(lead.nodes());
    }
  }
}
