package dev.penumbra.server;

import dev.penumbra.failover.NodeDriver;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Nodes known only by their telemetry (the server's simulated mode, no PostgreSQL): a node is healthy until its
 * drive's record says it failed; provisioning, promoting and replacing are bookkeeping that takes no time. The
 * standbys' grants on the ledger are real; the standbys are not.
 */
final class TelemetryNodes implements NodeDriver {

  private final Map<String, Boolean> healthy = new ConcurrentHashMap<>();

  void add(String node) {
    healthy.put(node, true);
  }

  /** The node's hardware fails now: its health checks fail until its work is moved. */
  void fail(String node) {
    known(node);
    healthy.put(node, false);
  }

  private void known(String node) {
    if (!healthy.containsKey(node)) {
      throw new IllegalArgumentException("unknown node '" + node + "'");
    }
  }

  @Override
  public boolean healthy(String node) {
    known(node);
    return healthy.get(node);
  }

  @Override
  public void provisionStandby(String node) {
    known(node);
  }

  @Override
  public void decommissionStandby(String node) {
    known(node);
  }

  @Override
  public void promoteStandby(String node) {
    known(node);
    healthy.put(node, true);
  }

  @Override
  public void replaceFromArchive(String node) {
    known(node);
    healthy.put(node, true);
  }
}
