package dev.penumbra.failover.pg;

import dev.penumbra.failover.NodeDriver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL node driver: each node is a primary on 127.0.0.1 with its own data directory and port, its
 * clients connect through its {@link Endpoint}, its WAL is archived to a shared {@link WalArchive} (one base
 * backup per node, taken when the node is created).
 *
 * <ul>
 *   <li>Standby: {@code pg_basebackup -R} from the primary, started with {@code cluster_name} = its name, named
 *       in the primary's {@code synchronous_standby_names} (so every commit acknowledged from then on is on both),
 *       awaited until {@code pg_stat_replication} says {@code sync}, then its buffer cache is filled with the
 *       node's tables and indexes ({@code pg_prewarm}).
 *   <li>Promotion: clients held, old primary fenced ({@link PgServer#fence}), standby promoted
 *       ({@code pg_promote}), clients redirected, old primary's directory deleted. Connections are opened to a
 *       ready standby in advance (the driver's own, for the promotion; the endpoint's, for the first clients), so
 *       no backend has to start on the move's path.
 *   <li>Replacement without standby: clients held, old primary fenced, a new server restored from the archive's
 *       base backup and WAL (latest timeline), clients redirected when it accepts writes.
 * </ul>
 *
 * <p>Calls for one node are serialised; calls for different nodes run in parallel.
 */
public final class PgNodeDriver implements NodeDriver, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(PgNodeDriver.class);
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,30}");

  private final PgBinaries bin;
  private final WalArchive archive;
  private final Path work;
  private final Map<String, Node> nodes = new ConcurrentHashMap<>();
  private final int warmConnections;
  private final PortRange ports;

  private static final class Node {
    final String name;
    final Endpoint endpoint;
    volatile PgServer primary;
    volatile PgServer standby;
    WalReceiver receiver;
    /** The standby's own archive receiver (cascading), ready to carry on once the standby is promoted. */
    WalReceiver standbyReceiver;
    int generation;
    long prewarmedBlocks;
    /** The driver's connection to the ready standby (promotes it, then watches its archive receiver), or null. */
    Connection control;

    Node(String name, PgServer primary) {
      this.name = name;
      this.primary = primary;
      this.endpoint = new Endpoint(name, primary);
    }
  }

  /**
   * A driver keeping its servers under {@code work} and its archive under {@code archiveDir} (both created; when
   * this process is root, user postgres must be able to traverse their parents).
   */
  public PgNodeDriver(PgBinaries bin, Path work, Path archiveDir) throws IOException, InterruptedException {
    this(bin, work, archiveDir, DEFAULT_WARM_CONNECTIONS);
  }

  /** Connections each node's endpoint opens to a ready standby in advance, by default. */
  public static final int DEFAULT_WARM_CONNECTIONS = 2;

  /**
   * As above, with {@code warmConnections} client connections opened to every ready standby in advance (0: none,
   * and the driver opens its own connection to the standby only when it promotes it).
   *
   * @throws IllegalArgumentException when warmConnections is outside 0..16
   */
  public PgNodeDriver(PgBinaries bin, Path work, Path archiveDir, int warmConnections)
      throws IOException, InterruptedException {
    this(bin, work, archiveDir, warmConnections, PortRange.ANY);
  }

  /** As above, every server listening on a port of {@code ports}. */
  public PgNodeDriver(PgBinaries bin, Path work, Path archiveDir, int warmConnections, PortRange ports)
      throws IOException, InterruptedException {
    if (ports == null) {
      throw new IllegalArgumentException("ports must not be null");
    }
    this.ports = ports;
    if (warmConnections < 0 || warmConnections > 16) {
      throw new IllegalArgumentException("warmConnections must be in 0..16, was " + warmConnections);
    }
    this.warmConnections = warmConnections;
    this.bin = bin;
    this.work = work;
    Files.createDirectories(work);
    PgBinaries.run(List.of("chmod", "755", work.toString()), 30);
    bin.checkReachable(work);
    this.archive = WalArchive.at(archiveDir, bin);
    bin.checkReachable(archiveDir);
  }

  /**
   * Creates node {@code name}: a new primary, and its base backup in the archive.
   *
   * @throws IllegalArgumentException when the name is not lower-case letters, digits and '_' (at most 31,
   *     starting with a letter) or is taken
   */
  public Endpoint createNode(String name) throws IOException, InterruptedException, SQLException {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "node name must be lower-case letters, digits and '_', starting with a letter, at most 31; was '" + name
              + "'");
    }
    if (nodes.containsKey(name)) {
      throw new IllegalArgumentException("node '" + name + "' exists already");
    }
    Path dir = work.resolve(name + "_g0");
    if (Files.exists(dir)) {
      throw new IllegalArgumentException("server directory '" + dir + "' of node '" + name + "' exists already");
    }
    PgServer primary;
    try {
      primary = PgServer.newPrimary(bin, dir, name + "_g0", archive, name, ports);
    } catch (IOException | InterruptedException | RuntimeException e) {
      // A server that did not start leaves nothing behind: a later attempt of the same name starts clean.
      PgServer.delete(dir);
      archive.delete(name);
      throw e;
    }
    try {
      archive.baseBackup(primary, name, bin);
    } catch (IOException | InterruptedException | RuntimeException e) {
      primary.destroy();
      throw e;
    }
    Node n = new Node(name, primary);
    try {
      attachReceiver(n);
    } catch (IOException | InterruptedException | SQLException | RuntimeException e) {
      if (n.receiver != null) {
        n.receiver.stop();
      }
      primary.destroy();
      throw e;
    }
    nodes.put(name, n);
    return n.endpoint;
  }

  /** Streams the node's primary's WAL into the archive synchronously; waits until it is in sync. */
  private void attachReceiver(Node n) throws IOException, SQLException, InterruptedException {
    if (n.receiver != null) {
      n.receiver.stop();
    }
    n.receiver = WalReceiver.start(bin, n.primary, archive.stream(n.name));
    Replication.setSyncNames(n.primary, null);
    try {
      Replication.awaitSync(n.primary, WalReceiver.NAME, n.receiver::alive);
    } catch (IllegalStateException e) {
      throw new IllegalStateException(e.getMessage() + "; pg_receivewal says: " + n.receiver.log(), e);
    }
  }

  private Node node(String name) {
    Node n = nodes.get(name);
    if (n == null) {
      throw new IllegalArgumentException("unknown node '" + name + "'; known: " + nodes.keySet());
    }
    return n;
  }

  public Endpoint endpoint(String node) {
    return node(node).endpoint;
  }

  /** The node's current primary. */
  public PgServer primary(String node) {
    Node n = node(node);
    synchronized (n) {
      return n.primary;
    }
  }

  /** The node's standby, or null. */
  public PgServer standby(String node) {
    Node n = node(node);
    synchronized (n) {
      return n.standby;
    }
  }

  /** Buffer-cache blocks the last standby of the node pre-warmed. */
  public long prewarmedBlocks(String node) {
    Node n = node(node);
    synchronized (n) {
      return n.prewarmedBlocks;
    }
  }

  /** Kills the node's primary with SIGKILL (what a failing disk does to it; for fault injection). */
  public void crashPrimary(String node) throws InterruptedException {
    PgServer p;
    Node n = node(node);
    // Not under the node's lock: a crash does not wait for a provisioning in progress.
    p = n.primary;
    p.kill9();
  }

  @Override
  public boolean healthy(String node) {
    PgServer p = node(node).primary;
    return p != null && !p.fenced() && p.alive() && p.listening(500);
  }

  @Override
  public void provisionStandby(String node) throws Exception {
    Node n = node(node);
    synchronized (n) {
      if (n.standby != null) {
        return;
      }
      PgServer primary = n.primary;
      n.generation++;
      String name = node + "_s" + n.generation;
      PgServer standby = PgServer.newStandby(bin, primary, work.resolve(name), name, ports);
      try {
        // The standby inherited the primary's synchronous_standby_names; cleared now (ALTER SYSTEM works on a
        // standby), a promotion does not wait for a reload before it accepts writes.
        try (Connection c = standby.connect(); Statement st = c.createStatement()) {
          PgServer.clearSynchronousStandby(st);
        }
        // Named only once it streams, caught up: a named standby that is not streaming yet holds every commit of
        // the primary (FIRST 2 needs both), which on a loaded machine stopped writes for most of a second.
        Replication.awaitState(primary, name, standby::alive, "streaming", 60);
        Replication.setSyncNames(primary, name);
        Replication.awaitSync(primary, name, standby::alive);
        n.prewarmedBlocks = Replication.prewarm(standby);
        // The promoted standby's archive receiver starts now, streaming from the standby (cascading); on promotion
        // it follows the new timeline. So the first commits after a move wait for an archiver already connected,
        // not for one being spawned, connected and caught up (the largest part of a move on a loaded machine).
        // Ignored while the standby is in recovery, the name makes the promoted node's commits synchronous again.
        n.standbyReceiver = WalReceiver.start(bin, standby, archive.stream(n.name));
        try (Connection c = standby.connect(); Statement st = c.createStatement()) {
          st.execute("ALTER SYSTEM SET synchronous_standby_names = '\"" + WalReceiver.NAME + "\"'");
          st.execute("SELECT pg_reload_conf()");
        }
      } catch (Exception e) {
        restoreSync(n);
        stopStandbyReceiver(n);
        standby.destroy();
        throw e;
      }
      n.standby = standby;
      if (warmConnections > 0) {
        try {
          n.control = standby.connect();
        } catch (SQLException e) {
          LOG.warn("node '{}': no control connection to {} ({}); the promotion will open one", node, standby,
              e.getMessage());
        }
        n.endpoint.prepare(standby, warmConnections);
      }
    }
  }

  /** Closes the connections opened to the standby in advance. */
  private static void closeWarm(Node n) {
    n.endpoint.unprepare();
    if (n.control != null) {
      try {
        n.control.close();
      } catch (SQLException e) {
        // Its server is gone already.
      }
      n.control = null;
    }
  }

  private static void stopStandbyReceiver(Node n) {
    if (n.standbyReceiver != null) {
      n.standbyReceiver.stop();
      n.standbyReceiver = null;
    }
  }

  /** Back to the archive receiver alone as synchronous standby. */
  private static void restoreSync(Node n) {
    if (!n.primary.alive()) {
      return;
    }
    try {
      Replication.setSyncNames(n.primary, null);
    } catch (SQLException e) {
      // The primary is going away; nothing waits on it then.
    }
  }

  @Override
  public void decommissionStandby(String node) throws Exception {
    Node n = node(node);
    synchronized (n) {
      if (n.standby == null) {
        return;
      }
      // Un-name it first: a primary whose synchronous standby vanishes stops acknowledging commits.
      restoreSync(n);
      closeWarm(n);
      stopStandbyReceiver(n);
      n.standby.destroy();
      n.standby = null;
    }
  }

  @Override
  public void promoteStandby(String node) throws Exception {
    Node n = node(node);
    synchronized (n) {
      if (n.standby == null) {
        throw new IllegalStateException("node '" + node + "' has no standby to promote");
      }
      PgServer old = n.primary;
      long t0 = System.nanoTime();
      n.endpoint.hold();
      old.fence();
      long t1 = System.nanoTime();
      Connection control = n.control;
      n.control = null;
      if (control == null || !control.isValid(1)) {
        if (control != null) {
          control.close();
        }
        control = n.standby.connect();
      }
      try {
        n.standby.promote(control);
      } catch (SQLException e) {
        control.close();
        throw e;
      }
      long t2 = System.nanoTime();
      n.endpoint.redirect(n.standby);
      LOG.info("node '{}': old primary fenced in {} ms, standby promoted in {} ms", node, (t1 - t0) / 1_000_000,
          (t2 - t1) / 1_000_000);
      if (t2 - t1 > 1_000_000_000L) {
        LOG.warn("node '{}': slow promotion; the end of {}'s log:\n{}", node, n.standby, n.standby.logTail(30));
      }
      n.primary = n.standby;
      n.standby = null;
      WalReceiver cascaded = n.standbyReceiver;
      n.standbyReceiver = null;
      if (n.receiver != null) {
        n.receiver.stop();
      }
      n.receiver = cascaded;
      boolean followed = false;
      try (Connection c = control) {
        if (cascaded != null && cascaded.alive()) {
          try {
            Replication.awaitSync(c, n.primary, WalReceiver.NAME, cascaded::alive, 5);
            followed = true;
          } catch (IllegalStateException | SQLException e) {
            LOG.warn("node '{}': the standby's archive receiver did not follow the promotion ({}); starting a new"
                + " one", node, e.getMessage());
          }
        }
      }
      if (!followed) {
        // Until the new receiver is in sync, the new primary's commits wait for it.
        attachReceiver(n);
      }
      LOG.info("node '{}': archive receiver in sync {} ms after the redirect", node,
          (System.nanoTime() - t2) / 1_000_000);
      old.destroy();
    }
  }

  @Override
  public void replaceFromArchive(String node) throws Exception {
    Node n = node(node);
    synchronized (n) {
      PgServer old = n.primary;
      n.endpoint.hold();
      old.fence();
      if (n.receiver != null) {
        n.receiver.stop();
        n.receiver = null;
      }
      closeWarm(n);
      stopStandbyReceiver(n);
      if (n.standby != null) {
        n.standby.destroy();
        n.standby = null;
      }
      n.generation++;
      String name = node + "_g" + n.generation;
      PgServer fresh = PgServer.restore(bin, archive, node, work.resolve(name), name, ports);
      long deadline = System.nanoTime() + 300_000_000_000L;
      while (fresh.inRecovery()) {
        if (System.nanoTime() > deadline) {
          fresh.destroy();
          throw new IllegalStateException(fresh + " still recovering from the archive after 300 s");
        }
        Thread.sleep(50);
      }
      try (Connection c = fresh.connect(); Statement st = c.createStatement()) {
        PgServer.clearSynchronousStandby(st);
      }
      n.endpoint.redirect(fresh);
      n.primary = fresh;
      attachReceiver(n);
      old.destroy();
    }
  }

  /** The nodes, in no particular order. */
  public java.util.Set<String> nodes() {
    return java.util.Set.copyOf(nodes.keySet());
  }

  /**
   * Stops and deletes node {@code name}: its servers, its archive receiver, its directories and its lineage in the
   * archive (segment names repeat across clusters: a later node of the same name must start a clean lineage).
   */
  public void removeNode(String name) {
    Node n = node(name);
    synchronized (n) {
      stopAll(n);
      nodes.remove(name);
      archive.delete(name);
    }
  }

  private static void stopAll(Node n) {
    closeWarm(n);
    stopStandbyReceiver(n);
    if (n.standby != null) {
      n.standby.destroy();
    }
    n.primary.destroy();
    if (n.receiver != null) {
      n.receiver.stop();
    }
  }

  /**
   * Clears what a driver killed with its process left in {@code work}: kills (SIGKILL) the postmasters whose
   * {@code postmaster.pid} is in a server directory directly under it, then deletes it. For a directory only this
   * process's drivers use (the server's locked data directory).
   */
  public static void clearLeftovers(Path work) throws IOException, InterruptedException {
    if (!Files.isDirectory(work)) {
      return;
    }
    try (var dirs = Files.list(work)) {
      for (Path d : dirs.toList()) {
        Path pidFile = d.resolve("data").resolve("postmaster.pid");
        if (!Files.isRegularFile(pidFile)) {
          continue;
        }
        try {
          long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
          if (PgServer.running(pid)) {
            LOG.warn("killing postmaster {} left running in {} by an earlier run", pid, d);
            ProcessHandle.of(pid).ifPresent(p -> {
              p.children().forEach(ProcessHandle::destroyForcibly);
              p.destroyForcibly();
            });
          }
        } catch (IOException | RuntimeException e) {
          LOG.warn("could not read {}: {}", pidFile, e.toString());
        }
      }
    }
    PgServer.delete(work);
  }

  /** Stops every server and deletes the work directory (the archive is left to its owner). */
  @Override
  public void close() {
    for (Node n : nodes.values()) {
      synchronized (n) {
        stopAll(n);
      }
    }
    nodes.clear();
    PgServer.delete(work);
  }
}
