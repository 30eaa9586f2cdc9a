package dev.penumbra.failover.pg;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

/**
 * The address a node's clients connect through: Penumbra's connection endpoint (client side, in process). It
 * hands out connections to the node's current primary only; during a failover it refuses connections with a
 * transient error, and afterwards hands out the new primary. It never routes to a fenced server. Clients keep
 * one rule: on a connection error, ask the endpoint again.
 *
 * <p>Clients outside this process would use the same rule through a TCP proxy or a DNS name pointed at the
 * endpoint's target; that part is not built here.
 */
public final class Endpoint {

  private final String node;
  private volatile PgServer target;
  private volatile long generation;

  Endpoint(String node, PgServer target) {
    this.node = node;
    this.target = target;
  }

  /** A connection to the node's current primary. */
  public Connection connect() throws SQLException {
    PgServer t = target;
    if (t == null) {
      throw new SQLTransientConnectionException("node '" + node + "' is failing over: no primary to connect to");
    }
    if (t.fenced()) {
      throw new SQLTransientConnectionException("node '" + node + "': " + t + " is fenced");
    }
    return t.connect();
  }

  /** How many times clients were redirected. */
  public long generation() {
    return generation;
  }

  /** The server clients are sent to, or null during a failover. */
  public PgServer target() {
    return target;
  }

  synchronized void hold() {
    target = null;
  }

  synchronized void redirect(PgServer to) {
    if (to.fenced()) {
      throw new IllegalArgumentException("node '" + node + "': cannot route clients to fenced " + to);
    }
    target = to;
    generation++;
  }
}
