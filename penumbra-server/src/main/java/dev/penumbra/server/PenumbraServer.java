package dev.penumbra.server;

import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.LedgerEvent;
import dev.penumbra.core.ledger.LedgerTimer;
import dev.penumbra.core.ledger.Reservation;
import io.javalin.Javalin;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane's lifecycle: one ledger for this machine, the capabilities that reserve on it, an HTTP API under
 * {@code /v1}, Prometheus metrics at {@code /metrics}, health at {@code /health} and {@code /ready}, and the
 * dashboard at {@code /}. Routes live in {@link StatusRoutes}, {@link ReservationRoutes}, {@link DashboardRoutes}
 * and each capability; the HTTP edge (checks, errors) in {@link HttpEdge} and {@link Edge}.
 *
 * <pre>{@code
 * try (PenumbraServer s = PenumbraServer.builder(ServerConfig.defaults()).build().start()) {
 *   s.awaitReady(Duration.ofMinutes(2));
 *   System.out.println(s.url());
 * }
 * }</pre>
 */
public final class PenumbraServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PenumbraServer.class);
  /** Ledger events kept for {@code /v1/events} and reservation histories. */
  static final int EVENT_HISTORY = 10_000;

  /** Creates a capability on the server's ledger; called once at build time. */
  @FunctionalInterface
  public interface CapabilityFactory {
    Capability create(Ledger ledger, ServerConfig config, Consumer<String> progress);
  }

  /** How late a lease expiry or a missed deadline may be noticed, at most. */
  static final Duration TIMER_PERIOD = Duration.ofMillis(100);

  private final ServerConfig config;
  private final Ledger ledger;
  private final List<Capability> capabilities;
  private final PrometheusMeterRegistry registry;
  private final EventLog events = new EventLog(EVENT_HISTORY);
  private final Javalin app;
  private final Api api;
  private final AtomicInteger inFlight = new AtomicInteger();
  /** Wakes a stop waiting for the command routes' requests to end. */
  private final Idle requestsIdle = new Idle(inFlight::get);
  private final Consumer<String> progress;
  private volatile boolean admitting = true;
  private volatile boolean started;
  private volatile boolean stopped;
  private volatile CompletableFuture<Void> starting = CompletableFuture.completedFuture(null);
  private final Ledger.Subscription subscription;
  /** Where ids (and, later, more) outlive the process; null when server.dataDir is not set. */
  private final DataDir dataDir;
  /** Per-principal caps on reserved resources and in-flight work. */
  private final Quotas quotas;
  /** The ledger's routes and the holds clients take directly. */
  private final ReservationRoutes reservations;
  /** Restores and saves what the capabilities learned; null without a data directory. */
  private final LearnedState learned;
  /** Expires leases and fails missed deadlines on time (finding: they waited for the next request). */
  private LedgerTimer timer;
  /** The replicated ledger's replica when this node is one of a cluster; null otherwise. */
  private final ClusterCapability cluster;

  private PenumbraServer(Builder b) {
    this.config = b.config;
    this.progress = b.progress;
    TempFiles.removeStale();
    this.dataDir = config.server().dataDirPath().map(DataDir::open).orElse(null);
    this.cluster = config.cluster().enabled() ? ClusterCapability.start(config.cluster(), b.clock, progress) : null;
    this.ledger = cluster != null ? cluster.ledger() : Ledger.inMemory(b.clock, dataDir == null ? 1 : dataDir.firstId());
    addNodeUnlessPresent(config.ledger().node(), config.ledger().capacity());
    this.subscription = ledger.subscribe(this::record);
    this.quotas = new Quotas(config.auth(), ledger);
    List<Capability> caps = new ArrayList<>();
    try {
      for (CapabilityFactory f : b.factories) {
        caps.add(f.create(ledger, config, progress));
      }
    } catch (RuntimeException e) {
      // A capability refused its saved state (or failed otherwise): let go of what was built, the lock first.
      caps.forEach(PenumbraServer::closeQuietly);
      if (dataDir != null) {
        dataDir.close();
      }
      throw e;
    }
    if (cluster != null) {
      caps.add(cluster); // last: closed after the capabilities that release through the ledger
    }
    this.capabilities = List.copyOf(caps);
    this.learned = dataDir == null ? null : new LearnedState(dataDir, capabilities);
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Runnable refreshMetrics = ServerMetrics.bind(registry, ledger, capabilities);
    capabilities.forEach(c -> c.metrics(registry));
    // A cluster node keeps direct holds in the replicated ledger itself; a single node keeps them in its data directory.
    this.reservations = new ReservationRoutes(this, events, cluster != null ? null : dataDir);
    int restored = reservations.restoreHolds();
    if (restored > 0) {
      progress.accept("restored " + restored + " reservations held through POST /v1/reservations");
    }
    HttpEdge.App http = HttpEdge.create(this, config, a -> {
      StatusRoutes.register(a, this, registry, refreshMetrics);
      reservations.register(a);
      DashboardRoutes.register(a, this);
      capabilities.forEach(c -> c.routes(a));
    });
    this.app = http.javalin();
    this.api = http.api();
  }

  /** A server configured by {@code config}, with the capabilities the configuration enables. */
  public static Builder builder(ServerConfig config) {
    return new Builder(config);
  }

  /** Options of a {@link PenumbraServer}. */
  public static final class Builder {
    private final ServerConfig config;
    private final List<CapabilityFactory> factories = new ArrayList<>();
    private Consumer<String> progress = m -> {};
    private Clock clock = Clock.systemUTC();

    private Builder(ServerConfig config) {
      if (config == null) {
        throw new IllegalArgumentException("config must not be null");
      }
      this.config = config;
      // The built-in capabilities, one registration line each (a capability registers its own routes).
      if (config.query().enabled()) {
        factories.add(QueryCapability::new);
      }
      if (config.stream().enabled()) {
        factories.add(StreamCapability::new);
      }
      if (config.task().enabled()) {
        factories.add(TaskCapability::new);
      }
      factories.add(ShardCapability::new);
      if (config.failover().enabled()) {
        factories.add(FailoverCapability::new);
      }
    }

    /** Adds a capability (beyond those the configuration enables). */
    public Builder capability(CapabilityFactory factory) {
      if (factory == null) {
        throw new IllegalArgumentException("capability factory must not be null");
      }
      factories.add(factory);
      return this;
    }

    /** Receives progress messages (database generation, readiness); default none. */
    public Builder progress(Consumer<String> progress) {
      this.progress = progress == null ? m -> {} : progress;
      return this;
    }

    /** The ledger's clock (leases); default the system clock. */
    public Builder clock(Clock clock) {
      if (clock == null) {
        throw new IllegalArgumentException("clock must not be null");
      }
      this.clock = clock;
      return this;
    }

    public PenumbraServer build() {
      return new PenumbraServer(this);
    }
  }

  /** Starts listening at once and prepares the capabilities in the background (see {@link #ready()}). */
  public synchronized PenumbraServer start() {
    if (started) {
      throw new IllegalStateException("server already started");
    }
    started = true;
    try {
      app.start();
    } catch (RuntimeException e) {
      throw new ListenException(config.server().host(), config.server().port(), e);
    }
    timer = LedgerTimer.start(ledger, TIMER_PERIOD);
    timer.add(() -> capabilities.forEach(c -> c.timed().tick()));
    timer.add(this::makeRoomForWaiting);
    starting = CompletableFuture.runAsync(() -> {
      for (Capability c : capabilities) {
        try {
          c.start();
          if (learned != null) {
            learned.restore(c, progress);
          }
        } catch (Exception e) {
          LOG.error("capability {} failed to start", c.name(), e);
          progress.accept("capability " + c.name() + " failed to start: " + e.getMessage());
        }
      }
      if (ready()) {
        progress.accept("ready");
      }
    });
    return this;
  }

  /**
   * The server could not listen: the port is taken, or the host is not an address of this machine. The message
   * is one line naming the host, port and reason (Jetty says "port already in use" for both).
   */
  public static final class ListenException extends RuntimeException {
    ListenException(String host, int port, Throwable cause) {
      super("cannot listen on " + host + ":" + port + ": " + reason(host, cause), cause);
    }

    private static String reason(String host, Throwable e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        String m = String.valueOf(t.getMessage());
        if (t instanceof java.nio.channels.UnresolvedAddressException || t instanceof java.net.UnknownHostException
            || m.contains("Unresolved") || m.contains("Cannot assign requested address")) {
          return "'" + host + "' is not an address of this machine (set server.host to e.g. 127.0.0.1)";
        }
        if (m.contains("Address already in use")) {
          return "the port is already in use (choose another with server.port or --port)";
        }
      }
      Throwable root = e;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      return String.valueOf(root.getMessage());
    }
  }

  /** Waits until every capability is ready; false when {@code timeout} passed first. */
  public boolean awaitReady(Duration timeout) throws InterruptedException {
    try {
      starting.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      return false;
    } catch (java.util.concurrent.ExecutionException e) {
      return false;
    }
    return ready();
  }

  /** True when every capability can take work and the server admits it. */
  public boolean ready() {
    return admitting && capabilities.stream().allMatch(c -> c.view().ready());
  }

  /** The port it listens on (the one picked when configured 0). */
  public int port() {
    return app.port();
  }

  /** The base URL, e.g. {@code http://127.0.0.1:8080}. */
  public String url() {
    String host = config.server().host();
    if (host.equals("0.0.0.0") || host.equals("::")) {
      host = "127.0.0.1";
    }
    return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port();
  }

  public Ledger ledger() {
    return ledger;
  }

  public List<Capability> capabilities() {
    return capabilities;
  }

  public Optional<Capability> capability(String name) {
    return capabilities.stream().filter(c -> c.name().equals(name)).findFirst();
  }

  /** Every route served (for checking the OpenAPI file). */
  public List<Api.Route> routes() {
    return api.routes();
  }

  public ServerConfig config() {
    return config;
  }

  /** Requests admitted by command routes and not finished. */
  public int inFlight() {
    return inFlight.get() + capabilities.stream().mapToInt(c -> c.view().inFlight()).sum();
  }

  /**
   * Graceful stop: refuses new work (503), waits up to the configured grace for running work, then closes
   * the capabilities (abandoning what still runs), releases every reservation still live and stops HTTP.
   * Afterwards the ledger holds no live reservation.
   */
  public synchronized void stop() {
    if (stopped) {
      return;
    }
    stopped = true;
    stopAdmitting();
    long end = System.nanoTime() + config.server().shutdownGrace().toNanos();
    try {
      // Requests first (they hold most capabilities' work), then what each capability runs on its own; each wait
      // is woken by the work ending, within what is left of the one grace.
      requestsIdle.await(config.server().shutdownGrace());
      for (Capability c : capabilities) {
        c.view().awaitIdle(Duration.ofNanos(Math.max(0, end - System.nanoTime())));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (inFlight() > 0) {
      LOG.warn("stopping with {} requests still running; their reservations are released", inFlight());
    }
    if (starting != null) {
      starting.cancel(true);
    }
    if (learned != null) {
      learned.close();
    }
    for (Capability c : capabilities) {
      try {
        c.close();
      } catch (RuntimeException e) {
        LOG.warn("closing capability {} failed", c.name(), e);
      }
    }
    // A replicated ledger outlives this node: what clients reserved stays for the other nodes to serve.
    int released = cluster != null ? 0 : releaseAll();
    if (released > 0) {
      LOG.info("released {} reservations left at stop", released);
    }
    app.stop();
    if (timer != null) {
      timer.close();
    }
    subscription.close();
    if (dataDir != null) {
      dataDir.close();
    }
    registry.close();
    if (cluster != null) {
      cluster.leave();
    }
  }

  private static void closeQuietly(Capability c) {
    try {
      c.close();
    } catch (RuntimeException e) {
      LOG.warn("closing capability {} failed", c.name(), e);
    }
  }

  /** Nodes of a replicated ledger may have been added by another node of the cluster already. */
  private void addNodeUnlessPresent(String node, dev.penumbra.core.Resources capacity) {
    if (ledger.nodes().stream().anyMatch(n -> n.id().equals(node))) {
      return;
    }
    try {
      ledger.addNode(node, capacity);
    } catch (IllegalArgumentException e) {
      if (ledger.nodes().stream().noneMatch(n -> n.id().equals(node))) {
        throw e;
      }
    }
  }

  @Override
  public void close() {
    stop();
  }

  /** Frees a lower-priority manual hold for work waiting for capacity (see {@link ReservationRoutes}). */
  Optional<Long> makeRoomForWaiting() {
    return reservations.makeRoomForWaiting();
  }

  /** Releases every live reservation; returns how many. */
  int releaseAll() {
    int n = 0;
    for (Reservation r : ledger.snapshot().reservations()) {
      try {
        ledger.release(r.id());
        n++;
      } catch (IllegalStateException | IllegalArgumentException e) {
        // Ended concurrently (its owner released it): nothing left to do.
      }
    }
    return n;
  }

  /** Runs a command route's work if the server still admits; counts it so a stop waits for it. */
  void admitted(io.javalin.http.Context ctx, ThrowingRunnable work) throws Exception {
    if (!admitting) {
      throw new ApiException(503, null, null, "server is stopping; no new work is admitted");
    }
    Runnable done = quotas.admit(ctx);
    inFlight.incrementAndGet();
    try {
      work.run();
    } finally {
      inFlight.decrementAndGet();
      requestsIdle.changed();
      done.run();
    }
  }

  /** The per-principal quotas. */
  Quotas quotas() {
    return quotas;
  }

  /** A route body that may throw. */
  @FunctionalInterface
  interface ThrowingRunnable {
    void run() throws Exception;
  }

  /** From now on command routes answer 503 and {@code /ready} 503 (the first step of a stop). */
  void stopAdmitting() {
    admitting = false;
  }

  private void record(LedgerEvent e) {
    if (dataDir != null && e.type() == LedgerEvent.Type.RESERVED && e.after() != null) {
      dataDir.used(e.after().id());
    }
    events.add(e);
    if (reservations != null) {
      reservations.onEvent(e);
    }
  }

  /** The last ledger events (at most {@value #EVENT_HISTORY}), oldest first. */
  List<LedgerEvent> events() {
    return events.all();
  }
}
