package dev.penumbra.failover.pg;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The address a node's clients connect through: Penumbra's connection endpoint (client side, in process). It
 * hands out connections to the node's current primary only; during a failover it refuses connections with a
 * transient error, and afterwards hands out the new primary. It never routes to a fenced server. Clients keep
 * one rule: on a connection error, ask the endpoint again.
 *
 * <p>While a node has a ready standby, the endpoint keeps a few connections to it opened in advance (idle; read-only
 * while the standby is in recovery, never handed out before the redirect). After the redirect, the first clients get
 * those: a planned move then costs them no backend start on the new primary, which on a loaded machine was a large
 * part of the time without a commit. A PostgreSQL session opened during recovery writes once its server is promoted.
 *
 * <p>Clients outside this process would use the same rule through a TCP proxy or a DNS name pointed at the
 * endpoint's target; that part is not built here.
 */
public final class Endpoint {

  /** One switch of the node's clients: when they were held and when redirected ({@link System#nanoTime()}). */
  public record Switch(long heldAtNanos, long redirectedAtNanos, PgServer to, int warmConnections) {}

  private final String node;
  private volatile PgServer target;
  private volatile long generation;
  /** The standby the warm connections go to, or null. Guarded by this. */
  private PgServer prepared;
  private final Deque<Connection> warm = new ArrayDeque<>();
  private long heldAt;
  private final List<Switch> switches = new ArrayList<>();

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
    Connection c = takeWarm(t);
    return c != null ? c : t.connect();
  }

  private synchronized Connection takeWarm(PgServer t) {
    if (prepared != t) {
      return null;
    }
    Connection c;
    while ((c = warm.poll()) != null) {
      try {
        if (!c.isClosed()) {
          return c;
        }
      } catch (SQLException e) {
        // Unusable: the next one, or a new connection.
      }
    }
    prepared = null;
    return null;
  }

  /** How many times clients were redirected. */
  public long generation() {
    return generation;
  }

  /** The server clients are sent to, or null during a failover. */
  public PgServer target() {
    return target;
  }

  /** Every switch so far, in order. */
  public synchronized List<Switch> switches() {
    return List.copyOf(switches);
  }

  /** Connections opened in advance to the standby and not handed out yet. */
  public synchronized int warmConnections() {
    return prepared == null ? 0 : warm.size();
  }

  /**
   * Opens {@code count} connections to {@code standby}, handed out after clients are redirected to it; replaces
   * any earlier set. A connection that cannot be opened is skipped (the redirect falls back to new connections).
   */
  void prepare(PgServer standby, int count) {
    List<Connection> opened = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      try {
        opened.add(standby.connect());
      } catch (SQLException e) {
        break;
      }
    }
    List<Connection> old;
    synchronized (this) {
      old = new ArrayList<>(warm);
      warm.clear();
      warm.addAll(opened);
      prepared = standby;
    }
    closeAll(old);
  }

  /** Closes the warm connections (the standby is going away). */
  void unprepare() {
    List<Connection> old;
    synchronized (this) {
      old = new ArrayList<>(warm);
      warm.clear();
      prepared = null;
    }
    closeAll(old);
  }

  private static void closeAll(List<Connection> cs) {
    for (Connection c : cs) {
      try {
        c.close();
      } catch (SQLException e) {
        // Its server is gone already.
      }
    }
  }

  synchronized void hold() {
    target = null;
    heldAt = System.nanoTime();
  }

  synchronized void redirect(PgServer to) {
    if (to.fenced()) {
      throw new IllegalArgumentException("node '" + node + "': cannot route clients to fenced " + to);
    }
    if (prepared != null && prepared != to) {
      closeAll(new ArrayList<>(warm));
      warm.clear();
      prepared = null;
    }
    target = to;
    generation++;
    switches.add(new Switch(heldAt, System.nanoTime(), to, prepared == null ? 0 : warm.size()));
  }
}
