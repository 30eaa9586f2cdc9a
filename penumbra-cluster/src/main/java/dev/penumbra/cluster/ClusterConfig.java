package dev.penumbra.cluster;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which replica this process is and who the others are, checked at load: this node must be in the peer list,
 * ids and addresses unique, every host resolvable, this node's host an address of this machine and its port
 * free, and it must have a data directory. Errors name the field and the value.
 *
 * @param self this node's id
 * @param peers every replica of the group, this one included
 * @param electionTimeoutMin the shortest time a follower waits for a leader's heartbeat before standing
 * @param snapshotEvery take a snapshot after this many log entries
 * @param fsync whether a log entry counts as written only once it is on disk (fsync): on, an acknowledged
 *     operation survives power loss of a majority; off, it is in the operating system's page cache, which
 *     survives the kill of the replica's process but not of its machine
 */
public record ClusterConfig(
    String self, List<ClusterPeer> peers, Duration electionTimeoutMin, long snapshotEvery, boolean fsync) {

  public static final Duration DEFAULT_ELECTION_TIMEOUT = Duration.ofMillis(100);
  public static final long DEFAULT_SNAPSHOT_EVERY = 20_000;

  public ClusterConfig {
    if (peers == null || peers.isEmpty()) {
      throw new IllegalArgumentException("cluster.peers must list at least this node, was "
          + (peers == null ? "null" : "empty"));
    }
    peers = List.copyOf(peers);
    Set<String> ids = new HashSet<>();
    Set<String> addresses = new HashSet<>();
    for (ClusterPeer p : peers) {
      if (!ids.add(p.id())) {
        throw new IllegalArgumentException("cluster.peers has the id '" + p.id() + "' twice");
      }
      if (!addresses.add(p.address())) {
        throw new IllegalArgumentException("cluster.peers has the address " + p.address() + " twice (peer '"
            + p.id() + "')");
      }
    }
    if (self == null || !ids.contains(self)) {
      throw new IllegalArgumentException("cluster.self '" + self + "' is not in cluster.peers " + ids
          + ": the peer list must include this node");
    }
    if (electionTimeoutMin == null || electionTimeoutMin.toMillis() < 50 || electionTimeoutMin.toMillis() > 60_000) {
      throw new IllegalArgumentException(
          "cluster.electionTimeoutMin must be 50 ms .. 60 s, was " + electionTimeoutMin);
    }
    if (snapshotEvery < 100) {
      throw new IllegalArgumentException("cluster.snapshotEvery must be >= 100 entries, was " + snapshotEvery);
    }
  }

  public ClusterConfig(String self, List<ClusterPeer> peers) {
    this(self, peers, DEFAULT_ELECTION_TIMEOUT, DEFAULT_SNAPSHOT_EVERY, true);
  }

  /** The same config with fsync on or off. */
  public ClusterConfig withFsync(boolean on) {
    return new ClusterConfig(self, peers, electionTimeoutMin, snapshotEvery, on);
  }

  /** This node's peer entry. */
  public ClusterPeer me() {
    return peers.stream().filter(p -> p.id().equals(self)).findFirst().orElseThrow();
  }

  /**
   * Checks what can only be checked on this machine: every host resolves, this node's host is one of this
   * machine's addresses, its port is free, it has a data directory.
   */
  public void checkReachable() {
    for (ClusterPeer p : peers) {
      try {
        InetAddress.getByName(p.host());
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException("host '" + p.host() + "' of peer '" + p.id() + "' does not resolve");
      }
    }
    ClusterPeer me = me();
    if (me.dataDir() == null) {
      throw new IllegalArgumentException("peer '" + me.id() + "' (this node) needs a dataDir");
    }
    try {
      InetAddress addr = InetAddress.getByName(me.host());
      if (!addr.isLoopbackAddress() && !addr.isAnyLocalAddress() && NetworkInterface.getByInetAddress(addr) == null) {
        throw new IllegalArgumentException("host '" + me.host() + "' of peer '" + me.id()
            + "' (this node) is not an address of this machine");
      }
      try (ServerSocket s = new ServerSocket()) {
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(addr, me.port()));
      }
    } catch (SocketException e) {
      throw new IllegalArgumentException("port " + me.port() + " of peer '" + me.id() + "' (this node) on "
          + me.host() + " cannot be opened: " + e.getMessage());
    } catch (IOException e) {
      throw new IllegalArgumentException("address " + me.address() + " of peer '" + me.id() + "' (this node): "
          + e.getMessage());
    }
  }
}
