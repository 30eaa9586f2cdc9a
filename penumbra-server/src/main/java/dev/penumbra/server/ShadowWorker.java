package dev.penumbra.server;

import dev.penumbra.query.engine.DuckDbSandbox;
import dev.penumbra.query.shadow.QueryRejectedException;
import dev.penumbra.query.shadow.ShadowEngine;
import dev.penumbra.query.shadow.ShadowResult;
import dev.penumbra.query.tpch.TpchDatabase;
import io.javalin.Javalin;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.duckdb.DuckDBConnection;

/**
 * A shadow worker ({@code penumbra serve --role shadow}): a process that runs query shadows for a control plane.
 * It holds its own sampled replicas of the TPC-H data (of the configuration's {@code query.scale}, from its own
 * {@code query.cacheDir}), plans on a locked read-only instance and runs samples on locked replicas (the gateway's
 * sandbox, unchanged), serves {@code POST /v1/shadow} on {@code server.host:server.port}, and registers with the
 * control plane, saying hello again every {@link ShadowWorkers#HEARTBEAT}. A stopped worker says goodbye; a killed
 * one is dropped by the control plane when its heartbeats stop or its next call fails.
 */
public final class ShadowWorker implements AutoCloseable {
  /** The TPC-H seed of the query capability's database (the control plane checks the worker holds the same). */
  static final long SEED = QueryCapability.TPCH_SEED;

  private final String id;
  private final String host;
  private final List<URI> controlPlanes;
  private final String token;
  private final int slots;
  private final double scale;
  private final Replicas replicas;
  private final ShadowEngine engine;
  private final Javalin app;
  private WorkerHeartbeat heartbeat;
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicLong shadows = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();

  private ShadowWorker(String id, List<URI> controlPlanes, String token, int slots, ServerConfig config,
      Consumer<String> progress) throws SQLException, IOException {
    this.id = id;
    this.controlPlanes = controlPlanes;
    this.token = token;
    this.slots = slots;
    String h = config.server().host();
    this.host = h.equals("0.0.0.0") || h.equals("::") ? "127.0.0.1" : h;
    this.scale = config.query().scale();
    this.replicas = Replicas.open(config.query(), slots, progress);
    this.engine = replicas.engine;
    this.app = Javalin.create(cfg -> {
      cfg.startup.showJavalinBanner = false;
      cfg.startup.showOldJavalinVersionWarning = false;
      cfg.jetty.host = config.server().host();
      cfg.jetty.port = config.server().port();
      cfg.routes.post("/v1/shadow", ctx -> {
        ShadowWire.Job job = ShadowWire.MAPPER.readValue(ctx.bodyAsBytes(), ShadowWire.Job.class);
        running.incrementAndGet();
        try {
          ShadowResult r = engine.shadow(job.sql(), Duration.ofNanos(Math.max(1, job.capNanos())));
          shadows.incrementAndGet();
          ctx.contentType("application/json").result(ShadowWire.MAPPER.writeValueAsBytes(r));
        } catch (QueryRejectedException e) {
          rejected.incrementAndGet();
          ctx.status(400).contentType("application/json").result(ShadowWire.MAPPER.writeValueAsBytes(
              new ShadowWire.Refusal(e.kind().name(), e.engineMessage())));
        } catch (IllegalArgumentException e) {
          ctx.status(422).result(String.valueOf(e.getMessage()));
        } finally {
          running.decrementAndGet();
        }
      });
      cfg.routes.get("/v1/shadow/status", ctx -> ctx.contentType("application/json").result(
          ShadowWire.MAPPER.writeValueAsBytes(status())));
      cfg.routes.get("/health", ctx -> ctx.result("ok"));
    });
  }

  /**
   * Starts a worker: opens (or generates) its data, loads its replicas, listens, and says hello to {@code
   * controlPlane} until stopped.
   *
   * @param controlPlane the control plane's base URL, {@code http://HOST:PORT}, or the URLs of every node of a
   *     replicated control plane separated by commas (the worker says hello to each, so a failover of the control
   *     plane does not lose it)
   * @param token the bearer token when the control plane authenticates (an admin's), else null
   * @throws IllegalArgumentException naming the value when the URL, id or slots are bad
   */
  public static ShadowWorker start(String id, String controlPlane, String token, int slots, ServerConfig config,
      Consumer<String> progress) throws SQLException, IOException {
    List<URI> cp = WorkerHeartbeat.parse(controlPlane);
    if (id == null || !id.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new IllegalArgumentException("--id = '" + id + "': must be 1-64 letters, digits, '.', '_' or '-'");
    }
    if (slots < 1 || slots > 64) {
      throw new IllegalArgumentException("--slots = " + slots + ": must be in [1, 64]");
    }
    ShadowWorker w = new ShadowWorker(id, cp, token, slots, config, progress);
    try {
      w.app.start();
    } catch (RuntimeException e) {
      w.close();
      throw new PenumbraServer.ListenException(config.server().host(), config.server().port(), e);
    }
    byte[] hello = ShadowWire.MAPPER.writeValueAsBytes(new ShadowWire.Hello(id, w.url(), w.scale, SEED, slots));
    w.heartbeat = new WorkerHeartbeat(id, cp, token, hello, java.time.Clock.systemUTC(), System.err::println);
    w.heartbeat.start(ShadowWorkers.HEARTBEAT);
    return w;
  }

  /** This worker's base URL, e.g. {@code http://127.0.0.1:8091}. */
  public String url() {
    return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + app.port();
  }

  public String id() {
    return id;
  }

  /** What this worker has done so far. */
  ShadowWire.Status status() {
    return new ShadowWire.Status(id, slots, running.get(), shadows.get(), rejected.get(),
        heartbeat == null ? List.of() : heartbeat.planes());
  }

  /** Stops saying hello, says goodbye to the control plane, stops listening and drops the replicas. */
  @Override
  public void close() {
    if (heartbeat != null) {
      heartbeat.close();
    }
    app.stop();
    replicas.close();
  }

  /**
   * The shadow engine over this process's own TPC-H data, set up as the gateway sets up its own (QueryDatabase):
   * the same fractions, sandbox (plans on a locked read-only instance, samples on locked replicas) and timeout.
   */
  public static final class Replicas implements AutoCloseable {
    final ShadowEngine engine;
    private final DuckDBConnection root;

    private Replicas(ShadowEngine engine, DuckDBConnection root) {
      this.engine = engine;
      this.root = root;
    }

    /**
     * Opens (generating it when absent) the TPC-H data of {@code q.scale()} under {@code q.cacheDir()} and loads
     * the sampled replicas; {@code slots} shadows run at once.
     */
    public static Replicas open(ServerConfig.Query q, int slots, Consumer<String> progress) throws SQLException,
        IOException {
      double scale = q.scale();
      Path cache = q.cacheDirPath().orElse(dev.penumbra.query.QueryGateway.defaultCacheDir());
      Path file = dev.penumbra.query.QueryGateway.databaseFile(cache, scale, SEED);
      progress.accept("shadow worker: TPC-H SF " + scale + " at " + file);
      TpchDatabase db = TpchDatabase.duckdb(file, scale, SEED);
      DuckDBConnection root = (DuckDBConnection) db.connect(true);
      try {
        try (Statement s = root.createStatement()) {
          s.execute("SET threads = 1");
        }
        ShadowEngine sqe = ShadowEngine.builder(root::duplicate).fractions(scale >= 1 ? 0.01 : 0.1)
            .maxConcurrent(slots).timeout(Duration.ofSeconds(2))
            .planner(() -> DuckDbSandbox.openLocked(file, "tpch", List.of("SET threads = 1"))).build();
        return new Replicas(sqe, root);
      } catch (SQLException | RuntimeException e) {
        root.close();
        throw e;
      }
    }

    /** The local shadow site over these replicas. */
    public ShadowEngine engine() {
      return engine;
    }

    @Override
    public void close() {
      engine.close();
      try {
        root.close();
      } catch (SQLException ignored) {
        // Closing is best effort.
      }
    }
  }

  /**
   * A worker process: {@code --control-plane URL [--id ID] [--slots N]}, configured by the {@code PENUMBRA_*}
   * environment like {@code penumbra serve} (server.host, server.port, query.scale, query.cacheDir). Prints
   * {@code shadow worker ID at URL} on stdout when it listens and runs until killed or its stdin closes.
   */
  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new java.util.HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      opts.put(args[i], args[i + 1]);
    }
    ServerConfig config = ServerConfig.load(null, System.getenv());
    ShadowWorker w = start(opts.getOrDefault("--id", "w" + ProcessHandle.current().pid()),
        opts.get("--control-plane"), System.getenv("PENUMBRA_SHADOW_TOKEN"),
        Integer.parseInt(opts.getOrDefault("--slots", "2")), config, System.err::println);
    System.out.println("shadow worker " + w.id() + " at " + w.url());
    System.out.flush();
    try {
      while (System.in.read() >= 0) {
        // runs until stdin closes (the parent went away) or the process is killed
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      w.close();
    }
  }
}
