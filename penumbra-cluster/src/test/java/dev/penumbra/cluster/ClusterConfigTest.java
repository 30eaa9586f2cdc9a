package dev.penumbra.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad cluster configs are refused at load with the field and the value. */
class ClusterConfigTest {

  @TempDir
  Path dir;

  ClusterPeer peer(String id, int port) {
    return new ClusterPeer(id, "127.0.0.1", port, dir.resolve(id));
  }

  @Test
  void thePeerListMustIncludeThisNode() {
    assertThatThrownBy(() -> new ClusterConfig("c", List.of(peer("a", 7001), peer("b", 7002))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cluster.self 'c' is not in cluster.peers [a, b]: the peer list must include this node");
  }

  @Test
  void duplicateIdsAndAddressesAreRefused() {
    assertThatThrownBy(() -> new ClusterConfig("a", List.of(peer("a", 7001), peer("a", 7002))))
        .hasMessage("cluster.peers has the id 'a' twice");
    assertThatThrownBy(() -> new ClusterConfig("a", List.of(peer("a", 7001), peer("b", 7001))))
        .hasMessage("cluster.peers has the address 127.0.0.1:7001 twice (peer 'b')");
  }

  @Test
  void badPeersAndSettingsAreRefused() {
    assertThatThrownBy(() -> new ClusterPeer("a b", "127.0.0.1", 1, dir))
        .hasMessage("peer id must be 1 to 64 letters, digits, '-' or '_', was 'a b'");
    assertThatThrownBy(() -> new ClusterPeer("a", "127.0.0.1", 70000, dir))
        .hasMessage("port of peer 'a' must be 1..65535, was 70000");
    assertThatThrownBy(() -> new ClusterConfig("a", List.of()))
        .hasMessage("cluster.peers must list at least this node, was empty");
    assertThatThrownBy(() -> new ClusterConfig("a", List.of(peer("a", 7001)), Duration.ofMillis(5), 1000, true))
        .hasMessage("cluster.electionTimeoutMin must be 50 ms .. 60 s, was PT0.005S");
    assertThatThrownBy(() -> ClusterReplicaMain.parsePeers("a=127.0.0.1", dir))
        .hasMessage("peer 'a=127.0.0.1' is not id=host:port");
    assertThat(ClusterReplicaMain.parsePeers("a=127.0.0.1:7001, b=localhost:7002", dir))
        .extracting(ClusterPeer::address).containsExactly("127.0.0.1:7001", "localhost:7002");
  }

  @Test
  void unresolvableHostsAndBusyPortsAreRefusedAtLoad() throws Exception {
    ClusterConfig unknown = new ClusterConfig("a", List.of(peer("a", 7001),
        new ClusterPeer("b", "no-such-host.invalid", 7002, dir.resolve("b"))));
    assertThatThrownBy(unknown::checkReachable)
        .hasMessage("host 'no-such-host.invalid' of peer 'b' does not resolve");
    try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      ClusterConfig c = new ClusterConfig("a", List.of(peer("a", busy.getLocalPort())));
      assertThatThrownBy(c::checkReachable)
          .hasMessageStartingWith("port " + busy.getLocalPort() + " of peer 'a' (this node) on 127.0.0.1 cannot be opened");
    }
  }
}
