package dev.penumbra.server;

import dev.penumbra.core.Resources;
import dev.penumbra.failover.NodeDriver;
import dev.penumbra.failover.pg.PgBinaries;
import dev.penumbra.failover.pg.PgNodeDriver;
import dev.penumbra.failover.pg.PgServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The shadow-node capability's nodes, by {@code failover.driver}: known by their telemetry only ({@code bookkeeping},
 * {@link TelemetryNodes}) or real PostgreSQL primaries this server starts on 127.0.0.1 ({@code postgres}: the
 * penumbra-failover {@link PgNodeDriver}, as {@code penumbra bench failover} runs it), their servers and archive
 * under {@code server.dataDir}/failover-postgres. The nodes live as long as the server.
 */
final class FailoverNodes implements AutoCloseable {

  /** What a bookkeeping standby holds on the ledger: a token, since no server runs beside the node. */
  static final Resources TOKEN_STANDBY = Resources.of(50, 16L << 20);
  /** What a real PostgreSQL standby holds: a quarter core and its server's memory (32 MiB buffers, backends). */
  static final Resources PG_STANDBY = Resources.of(250, 128L << 20);

  private final ServerConfig config;
  private final Consumer<String> progress;
  private final TelemetryNodes telemetry = new TelemetryNodes();
  /** The real nodes, once {@link #start()} ran under the postgres driver; null otherwise. */
  private volatile PgNodeDriver pg;

  FailoverNodes(ServerConfig config, Consumer<String> progress) {
    this.config = config;
    this.progress = progress;
  }

  boolean postgres() {
    return config.failover().postgres();
  }

  /**
   * Under the postgres driver: clears what a killed server left in its directory (running postmasters, data
   * directories), then opens the driver. The configuration was checked at load (binaries, data directory, port).
   */
  void start() throws Exception {
    if (!postgres()) {
      return;
    }
    ServerConfig.Failover cfg = config.failover();
    Path root = config.server().dataDirPath().orElseThrow().resolve("failover-postgres").toAbsolutePath();
    PgBinaries bin = cfg.postgresBin().isEmpty() ? PgBinaries.find().orElseThrow(() -> new IllegalStateException(
        "failover.postgresBin: no PostgreSQL binaries under /usr/lib/postgresql/N/bin"))
        : PgBinaries.at(Path.of(cfg.postgresBin()));
    PgNodeDriver.clearLeftovers(root.resolve("nodes"));
    PgNodeDriver.clearLeftovers(root);
    Files.createDirectories(root);
    pg = new PgNodeDriver(bin, root.resolve("nodes"), root.resolve("archive"), PgNodeDriver.DEFAULT_WARM_CONNECTIONS,
        cfg.postgresPorts());
    progress.accept("failover: PostgreSQL nodes (" + bin.dir() + ", ports " + cfg.postgresPorts() + ") under " + root);
  }

  /** The driver the manager and the orchestrator act through. */
  NodeDriver driver() {
    return postgres() ? pg : telemetry;
  }

  /** What one standby reserves on the ledger. */
  Resources standbyAmount() {
    return postgres() ? PG_STANDBY : TOKEN_STANDBY;
  }

  /** Adds node {@code name}: under the postgres driver a new PostgreSQL primary (seconds). */
  void add(String name) throws Exception {
    if (postgres()) {
      pg.createNode(name);
    } else {
      telemetry.add(name);
    }
  }

  /** Takes back a node just added whose registration failed: its servers, directories and archive lineage go. */
  void remove(String name) {
    if (postgres()) {
      pg.removeNode(name);
    }
  }

  /** The node's hardware fails now: under the postgres driver its postmaster is killed (SIGKILL). */
  void fail(String node) throws InterruptedException {
    if (postgres()) {
      pg.crashPrimary(node);
    } else {
      telemetry.fail(node);
    }
  }

  /** One PostgreSQL server of a node; {@code pid} is null when the postmaster's is unknown. */
  record PgServerJson(String name, String host, int port, Long pid, String jdbcUrl) {}

  /**
   * Under the postgres driver: where the node's clients connect now ({@code primary}, the redirect for clients
   * outside this process) and its standby ({@code standbyServer}), either null when there is none.
   */
  record Servers(PgServerJson primary, PgServerJson standbyServer) {}

  /** The node's servers under the postgres driver; null under the simulated driver, which has none. */
  Servers servers(String node) {
    PgNodeDriver p = pg;
    if (!postgres() || p == null) {
      return null;
    }
    boolean known = p.nodes().contains(node);
    return new Servers(server(known ? p.primary(node) : null), server(known ? p.standby(node) : null));
  }

  private static PgServerJson server(PgServer p) {
    return p == null ? null
        : new PgServerJson(p.name(), "127.0.0.1", p.port(), p.pid().orElse(null),
            p.jdbcUrl());
  }

  /** Stops the servers and deletes their directories. */
  @Override
  public void close() {
    PgNodeDriver p = pg;
    if (p != null) {
      p.close();
    }
  }
}
