package dev.penumbra.cluster;

import java.nio.file.Path;

/**
 * One replica of the ledger's Raft group.
 *
 * @param id unique in the group (letters, digits, '-', '_')
 * @param host where it listens
 * @param port its Raft port
 * @param dataDir where it keeps its Raft log and snapshots (only its own replica uses it)
 */
public record ClusterPeer(String id, String host, int port, Path dataDir) {

  public ClusterPeer {
    if (id == null || !id.matches("[A-Za-z0-9_-]{1,64}")) {
      throw new IllegalArgumentException(
          "peer id must be 1 to 64 letters, digits, '-' or '_', was " + (id == null ? "null" : "'" + id + "'"));
    }
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("host of peer '" + id + "' must not be blank, was "
          + (host == null ? "null" : "'" + host + "'"));
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port of peer '" + id + "' must be 1..65535, was " + port);
    }
  }

  /** host:port. */
  public String address() {
    return host + ":" + port;
  }
}
