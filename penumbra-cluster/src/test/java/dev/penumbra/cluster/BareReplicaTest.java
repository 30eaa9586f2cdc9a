package dev.penumbra.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ratis alone (the engine's bound in {@code bench cluster --bare}): the same settings, nothing applied. */
class BareReplicaTest {

  @TempDir
  Path dir;

  @Test
  void threeBareReplicasCommitWritesAndHoldNoLedger() throws Exception {
    List<ClusterPeer> peers = new ArrayList<>();
    Set<Integer> ports = new HashSet<>();
    for (String id : List.of("a", "b", "c")) {
      int port;
      do {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
          port = s.getLocalPort();
        }
      } while (!ports.add(port));
      peers.add(new ClusterPeer(id, "127.0.0.1", port, dir.resolve(id)));
    }
    List<ClusterReplica> replicas = new ArrayList<>();
    try {
      for (ClusterPeer p : peers) {
        replicas.add(ClusterReplica.startBare(new ClusterConfig(p.id(), peers)));
      }
      replicas.get(0).awaitLeader(Duration.ofSeconds(30));
      long before = replicas.get(0).status().commitIndex();
      try (BareClient client = BareClient.connect(peers, ClusterConfig.DEFAULT_ELECTION_TIMEOUT)) {
        for (int i = 0; i < 20; i++) {
          client.write(Duration.ofSeconds(20));
        }
      }
      // every replica applies the 20 entries (and nothing else: the ledger sequence stays 0)
      for (ClusterReplica r : replicas) {
        Awaitility.await().atMost(Duration.ofSeconds(20))
            .until(() -> r.status().appliedIndex() >= before + 20);
        assertThat(r.status().ledgerSequence()).isZero();
        assertThatThrownBy(r::machine).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("is bare");
      }
    } finally {
      for (ClusterReplica r : replicas) {
        r.close();
      }
    }
  }
}
