package dev.penumbra.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.penumbra.core.ManualClock;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client in the leader's process ({@link ClusterLedger#colocated}): while its replica leads, writes go to it
 * without the network and are seen by every other client; once that replica is gone (or on a follower), writes
 * go through the group as any client's, and nothing acknowledged is lost.
 */
class ColocatedLedgerTest {

  @TempDir
  Path dir;

  @Test
  @Timeout(120)
  void writesGoToTheLocalLeaderAndThroughTheGroupOnceItIsGone() throws Exception {
    List<ClusterPeer> peers = new ArrayList<>();
    for (String id : List.of("a", "b", "c")) {
      peers.add(new ClusterPeer(id, "127.0.0.1", freePort(), dir.resolve(id)));
    }
    List<ClusterReplica> replicas = new ArrayList<>();
    ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    try {
      for (ClusterPeer p : peers) {
        replicas.add(ClusterReplica.start(new ClusterConfig(p.id(), peers)));
      }
      ClusterReplica a = replicas.get(0);
      a.awaitLeader(Duration.ofSeconds(60));
      a.transferLeadershipHere(Duration.ofSeconds(20));
      await().atMost(Duration.ofSeconds(20)).until(() -> "LEADER".equals(a.status().role()));

      try (ClusterLedger onLeader = ClusterLedger.colocated(a, clock, ClusterLedger.Options.DEFAULTS);
          ClusterLedger onFollower = ClusterLedger.colocated(replicas.get(1), clock, ClusterLedger.Options.DEFAULTS);
          ClusterLedger remote = ClusterLedger.connect(peers, clock, ClusterLedger.Options.DEFAULTS)) {
        onLeader.addNode("n", Resources.cpu(1000));
        Reservation r = onLeader.reserve("x", "n", Resources.cpu(400), Priority.STANDARD, Duration.ofMinutes(5));
        assertThat(onLeader.localWrites()).isEqualTo(onLeader.batches()).isPositive();
        assertThat(remote.get(r.id())).hasValueSatisfying(v -> assertThat(v.owner()).isEqualTo("x"));

        // On a follower the colocated client is an ordinary one.
        Reservation f = onFollower.reserve("y", "n", Resources.cpu(400), Priority.STANDARD, Duration.ofMinutes(5));
        assertThat(onFollower.localWrites()).isZero();
        assertThat(remote.get(f.id())).isPresent();

        // The leader's replica stops: the same client goes on through the other two.
        long local = onLeader.localWrites();
        a.close();
        Reservation after = onLeader.reserve("z", "n", Resources.cpu(200), Priority.STANDARD, Duration.ofMinutes(5));
        assertThat(onLeader.localWrites()).isEqualTo(local);
        assertThat(remote.get(after.id())).isPresent();
        assertThat(remote.nodes().get(0).used()).isEqualTo(Resources.cpu(1000));
        assertThat(remote.nodes().get(0).reservations()).isEqualTo(3);
      }
      for (ClusterReplica r : replicas.subList(1, 3)) {
        assertThat(r.machine().invariantBreach()).isNull();
      }
    } finally {
      for (ClusterReplica r : replicas) {
        try {
          r.close();
        } catch (IOException | RuntimeException e) {
          // closed already
        }
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
