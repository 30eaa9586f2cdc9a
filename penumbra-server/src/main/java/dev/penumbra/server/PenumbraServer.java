package dev.penumbra.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.InsufficientCapacityException;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.LedgerEvent;
import dev.penumbra.core.ledger.LedgerTimer;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.ledger.Reservation;
import io.javalin.Javalin;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane: one ledger for this machine, the capabilities that reserve on it, an HTTP API under
 * {@code /v1}, Prometheus metrics at {@code /metrics}, health at {@code /health} and {@code /ready}, and the
 * dashboard at {@code /}.
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
  /** A manual reservation may not ask for more than this many times the largest node (absurd beyond). */
  private static final Duration MAX_LEASE = Duration.ofDays(1);

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
  private final ArrayDeque<LedgerEvent> events = new ArrayDeque<>();
  private final Javalin app;
  private final Api api;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Consumer<String> progress;
  private volatile boolean admitting = true;
  private volatile boolean started;
  private volatile boolean stopped;
  private volatile CompletableFuture<Void> starting = CompletableFuture.completedFuture(null);
  private final Ledger.Subscription subscription;
  /** Where ids (and, later, more) outlive the process; null when server.dataDir is not set. */
  private final DataDir dataDir;
  /**
   * Live reservations clients took through POST /v1/reservations, by id: the principal that took it ("" without
   * authentication). Only these may be released over HTTP, and they are preemptible for critical work.
   */
  private final Map<Long, String> manual = new java.util.concurrent.ConcurrentHashMap<>();
  /** Expires leases and fails missed deadlines on time (finding: they waited for the next request). */
  private LedgerTimer timer;
  private final Runnable refreshMetrics;

  private PenumbraServer(Builder b) {
    this.config = b.config;
    this.progress = b.progress;
    TempFiles.removeStale();
    this.dataDir = config.server().dataDirPath().map(DataDir::open).orElse(null);
    this.ledger = Ledger.inMemory(b.clock, dataDir == null ? 1 : dataDir.firstId());
    ledger.addNode(config.ledger().node(), config.ledger().capacity());
    this.subscription = ledger.subscribe(this::record);
    List<Capability> caps = new ArrayList<>();
    for (CapabilityFactory f : b.factories) {
      caps.add(f.create(ledger, config, progress));
    }
    this.capabilities = List.copyOf(caps);
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    this.refreshMetrics = ServerMetrics.bind(registry, ledger, capabilities);
    capabilities.forEach(c -> c.metrics(registry));
    Api[] holder = new Api[1];
    this.app = Javalin.create(cfg -> {
      cfg.startup.showJavalinBanner = false;
      cfg.startup.showOldJavalinVersionWarning = false;
      cfg.jsonMapper(new io.javalin.json.JavalinJackson(Json.MAPPER, false));
      cfg.jetty.host = config.server().host();
      cfg.jetty.port = config.server().port();
      // The body limit is enforced (413 with a JSON error) while reading; Jetty's own limit stays above it.
      cfg.http.maxRequestSize = Math.max(config.server().maxBodyBytes() * 2, 1 << 20);
      // A known path with another method is 405 (with Allow), not 404.
      cfg.http.prefer405over404 = true;
      // Errors Jetty answers itself (a malformed request line, a path it refuses, URI or headers too long) are
      // JSON like every other error, not an HTML page.
      cfg.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
      cfg.staticFiles.enableWebjars();
      Api a = new Api(cfg.routes, this);
      holder[0] = a;
      routes(a, cfg.routes);
      capabilities.forEach(c -> c.routes(a));
    });
    this.api = holder[0];
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
      if (config.query().enabled()) {
        factories.add(QueryCapability::new);
      }
      if (config.stream().enabled()) {
        factories.add(StreamCapability::new);
      }
      if (config.task().enabled()) {
        factories.add(TaskCapability::new);
      }
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
    timer.add(() -> capabilities.forEach(Capability::tick));
    timer.add(this::makeRoomForWaiting);
    starting = CompletableFuture.runAsync(() -> {
      for (Capability c : capabilities) {
        try {
          c.start();
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
    return admitting && capabilities.stream().allMatch(Capability::ready);
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
    return inFlight.get() + capabilities.stream().mapToInt(Capability::inFlight).sum();
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
      while (inFlight() > 0 && System.nanoTime() < end) {
        Thread.sleep(20);
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
    for (Capability c : capabilities) {
      try {
        c.close();
      } catch (RuntimeException e) {
        LOG.warn("closing capability {} failed", c.name(), e);
      }
    }
    int released = releaseAll();
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
  }

  @Override
  public void close() {
    stop();
  }

  /**
   * Waiting work gets through a hog: while a capability has work waiting for capacity, the live reservations
   * clients took through {@code POST /v1/reservations} at a strictly lower priority than the most urgent waiting
   * work are preempted, one per timer pass (lowest priority first, then the newest), until it is admitted — the
   * ledger's own rule (critical preempts standard and batch, standard preempts batch). Capabilities' own
   * reservations are not taken: a running query cannot give its memory back. Returns the id preempted.
   */
  Optional<Long> makeRoomForWaiting() {
    Optional<Priority> waiting = capabilities.stream().map(Capability::mostUrgentWaiting).flatMap(Optional::stream)
        .min(java.util.Comparator.naturalOrder());
    if (waiting.isEmpty()) {
      return Optional.empty();
    }
    Optional<Reservation> victim = ledger.snapshot().reservations().stream()
        .filter(r -> manual.containsKey(r.id()) && r.priority().compareTo(waiting.get()) > 0)
        .min(java.util.Comparator.comparing((Reservation r) -> r.priority(), java.util.Comparator.reverseOrder())
            .thenComparing(Reservation::created, java.util.Comparator.reverseOrder()));
    if (victim.isEmpty()) {
      return Optional.empty();
    }
    Reservation r = victim.get();
    try {
      ledger.release(r.id());
    } catch (IllegalStateException | IllegalArgumentException e) {
      return Optional.empty(); // ended meanwhile
    }
    manual.remove(r.id());
    LOG.info("released manual reservation #{} (owner {}, {}) to admit waiting {} work", r.id(), r.owner(),
        r.priority().label(), waiting.get().label());
    return Optional.of(r.id());
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
  void admitted(ThrowingRunnable work) throws Exception {
    if (!admitting) {
      throw new ApiException(503, null, null, "server is stopping; no new work is admitted");
    }
    inFlight.incrementAndGet();
    try {
      work.run();
    } finally {
      inFlight.decrementAndGet();
    }
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
    synchronized (events) {
      if (events.size() == EVENT_HISTORY) {
        events.removeFirst();
      }
      events.addLast(e);
    }
  }

  /** The methods registered for {@code path} (matching {@code {param}} segments), e.g. "GET, DELETE". */
  String allowed(String path) {
    String[] want = path.split("/", -1);
    java.util.Set<String> methods = new java.util.TreeSet<>();
    for (Api.Route route : api.routes()) {
      String[] have = route.path().split("/", -1);
      if (have.length != want.length) {
        continue;
      }
      boolean match = true;
      for (int i = 0; i < have.length && match; i++) {
        match = have[i].equals(want[i]) || have[i].startsWith("{") && !want[i].isEmpty();
      }
      if (match) {
        methods.add(route.method().toUpperCase(Locale.ROOT));
      }
    }
    return String.join(", ", methods);
  }

  List<LedgerEvent> events() {
    synchronized (events) {
      return List.copyOf(events);
    }
  }

  /** Manual reservation: what an external scheduler asks for. */
  record ReservationBody(String owner, String node, String cpu, String memory, String priority, Double leaseSeconds) {}

  private void routes(Api a, io.javalin.config.RoutesConfig r) {
    r.exception(ApiException.class, (e, ctx) -> ctx.status(e.status())
        .json(Json.error(e.status(), e.getMessage(), e.field(), e.value())));
    r.exception(HttpResponseException.class, (e, ctx) -> ctx.status(e.getStatus())
        .json(Json.error(e.getStatus(), e.getMessage(), null, null)));
    r.exception(Exception.class, (e, ctx) -> {
      LOG.error("request {} {} failed", ctx.method(), ctx.path(), e);
      // The log has the details; the client learns no internals (class names, stack frames).
      ctx.status(500).json(Json.error(500, "internal error (logged on the server)", null, null));
    });
    r.error(404, "*", ctx -> {
      if (ctx.result() == null || ctx.result().isEmpty()) {
        ctx.json(Json.error(404, "no such resource: " + ctx.method() + " " + ctx.path(), null, null));
      }
    });
    r.error(405, "*", ctx -> {
      String allow = allowed(ctx.path());
      if (!allow.isEmpty()) {
        ctx.header("Allow", allow);
      }
      ctx.json(Json.error(405, "method not allowed: " + ctx.method() + " " + ctx.path()
          + (allow.isEmpty() ? "" : " (allowed: " + allow + ")"), null, null));
    });
    r.before(ctx -> {
      Edge.checkHostAndOrigin(ctx, config.server().host());
      Edge.authenticate(ctx, config.auth());
      Edge.checkContentType(ctx);
      String len = ctx.header("Content-Length");
      if (len != null) {
        try {
          if (Long.parseLong(len.strip()) > config.server().maxBodyBytes()) {
            throw new ApiException(413, "(body)", len.strip() + " bytes",
                "request body larger than " + config.server().maxBodyBytes() + " bytes");
          }
        } catch (NumberFormatException ignored) {
          // Jetty rejects a malformed Content-Length itself.
        }
      }
    });

    a.get("/health", ctx -> ctx.json(Map.of("status", "up")));
    a.get("/ready", ctx -> {
      ObjectNode n = Json.MAPPER.createObjectNode();
      n.put("ready", ready());
      ObjectNode caps = n.putObject("capabilities");
      capabilities.forEach(c -> caps.put(c.name(), c.ready()));
      ctx.status(ready() ? 200 : 503).json(n);
    });
    a.get("/metrics", ctx -> {
      refreshMetrics.run();
      ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(registry.scrape());
    });
    a.get("/", ctx -> ctx.contentType("text/html; charset=utf-8").result(resource("web/index.html")));
    a.get("/v1/openapi.json", ctx -> ctx.contentType("application/json").result(resource("openapi.json")));
    a.get("/v1/nodes", ctx -> {
      ArrayNode arr = Json.MAPPER.createArrayNode();
      ledger.nodes().forEach(v -> arr.add(Json.node(v)));
      ctx.json(arr);
    });
    a.get("/v1/reservations", ctx -> {
      String state = Optional.ofNullable(ctx.queryParam("state")).orElse("live");
      ArrayNode arr = Json.MAPPER.createArrayNode();
      switch (state) {
        case "live" -> ledger.snapshot().reservations().forEach(x -> arr.add(Json.reservation(x)));
        case "ended" -> ended().forEach(x -> arr.add(Json.reservation(x)));
        default -> throw new ApiException(400, "state", state, "query parameter 'state' must be live or ended");
      }
      ctx.json(arr);
    });
    a.get("/v1/reservations/{id}", ctx -> {
      long id = longParam("id", ctx.pathParam("id"));
      Reservation res = ledger.get(id).orElseThrow(() -> new ApiException(404, "id", Long.toString(id),
          "no reservation " + id));
      ObjectNode n = Json.reservation(res);
      ArrayNode h = n.putArray("history");
      for (LedgerEvent e : events()) {
        Reservation x = e.after() != null ? e.after() : e.before();
        if (x != null && x.id() == id) {
          h.add(Json.event(e));
        }
      }
      ctx.json(n);
    });
    a.command(HandlerType.POST, "/v1/reservations", ctx -> {
      ReservationBody b = Json.read(ctx, ReservationBody.class, config.server().maxBodyBytes());
      Optional<ServerConfig.Principal> who = Edge.principal(ctx);
      if (who.isPresent()) {
        if (b.owner() != null && !b.owner().equals(who.get().name()) && !who.get().admin()) {
          throw new ApiException(403, "owner", b.owner(), "field 'owner' must be your principal '"
              + who.get().name() + "' (or absent)");
        }
        Priority asked = parsePriority(b.priority());
        Edge.checkPriority(who.get(), asked);
        if (b.owner() == null) {
          b = new ReservationBody(who.get().name(), b.node(), b.cpu(), b.memory(), b.priority(), b.leaseSeconds());
        }
      }
      Reservation res = reserve(b);
      manual.put(res.id(), who.map(ServerConfig.Principal::name).orElse(""));
      ctx.status(201).json(Json.reservation(res));
    });
    a.command(HandlerType.DELETE, "/v1/reservations/{id}", ctx -> {
      long id = longParam("id", ctx.pathParam("id"));
      Reservation res = ledger.get(id).orElseThrow(() -> new ApiException(404, "id", Long.toString(id),
          "no reservation " + id));
      if (!res.isLive()) {
        throw new ApiException(409, "id", Long.toString(id), "reservation " + id + " is already "
            + res.state().name().toLowerCase(Locale.ROOT));
      }
      String holder = manual.get(id);
      Optional<ServerConfig.Principal> who = Edge.principal(ctx);
      if (holder == null && !who.map(ServerConfig.Principal::admin).orElse(false)) {
        // A query's, stream's or task's reservation: released by its capability when the work ends. Taking it
        // away over HTTP left a running query on cores the ledger showed free.
        throw new ApiException(403, "id", Long.toString(id), "reservation " + id + " is held by running work ("
            + res.owner() + "); only an admin may release it");
      }
      if (who.isPresent() && !who.get().admin() && !who.get().name().equals(holder)) {
        throw new ApiException(403, "id", Long.toString(id), "reservation " + id + " belongs to another principal");
      }
      try {
        manual.remove(id);
        ctx.json(Json.reservation(ledger.release(id)));
      } catch (IllegalStateException e) {
        throw new ApiException(409, "id", Long.toString(id), e.getMessage());
      }
    });
    a.get("/v1/events", ctx -> {
      long since = ctx.queryParam("since") == null ? -1 : longParam("since", ctx.queryParam("since"));
      long limit = ctx.queryParam("limit") == null ? 500 : longParam("limit", ctx.queryParam("limit"));
      if (limit < 1 || limit > EVENT_HISTORY) {
        throw new ApiException(400, "limit", Long.toString(limit), "limit must be in [1, " + EVENT_HISTORY + "]");
      }
      List<LedgerEvent> all = events().stream().filter(e -> e.sequence() > since).toList();
      ArrayNode arr = Json.MAPPER.createArrayNode();
      all.subList((int) Math.max(0, all.size() - limit), all.size()).forEach(e -> arr.add(Json.event(e)));
      ctx.json(arr);
    });
    a.get("/v1/errors", ctx -> {
      ObjectNode n = Json.MAPPER.createObjectNode();
      for (Capability c : capabilities) {
        ArrayNode arr = n.putArray(c.name());
        c.errors().all().forEach(s -> arr.add(Json.errorStats(s)));
      }
      ctx.json(n);
    });
    a.get("/v1/forecasts", ctx -> {
      ObjectNode n = Json.MAPPER.createObjectNode();
      for (Capability c : capabilities) {
        n.set(c.name(), timeline(c.timeline(), 200));
      }
      ctx.json(n);
    });
    a.get("/v1/dashboard", ctx -> ctx.json(dashboard()));
  }

  private List<Reservation> ended() {
    Map<Long, Reservation> last = new java.util.LinkedHashMap<>();
    for (LedgerEvent e : events()) {
      if (e.after() != null && !e.after().isLive()) {
        last.put(e.after().id(), e.after());
      }
    }
    List<Reservation> l = new ArrayList<>(last.values());
    return l.subList(Math.max(0, l.size() - 500), l.size());
  }

  private static Priority parsePriority(String text) {
    try {
      return text == null ? Priority.STANDARD : Edge.priority(text);
    } catch (IllegalArgumentException e) {
      throw new ApiException(400, "priority", text, "field 'priority' must be critical, standard or batch");
    }
  }

  private Reservation reserve(ReservationBody b) {
    if (b.owner() == null || b.owner().isBlank() || b.owner().length() > 200 || Edge.hasControl(b.owner())) {
      throw new ApiException(400, "owner", String.valueOf(b.owner()), "field 'owner' must be 1 to 200 characters, none a control character");
    }
    String node = b.node() == null ? config.ledger().node() : b.node();
    NodeView view = ledger.nodes().stream().filter(v -> v.id().equals(node)).findFirst()
        .orElseThrow(() -> new ApiException(400, "node", node, "unknown node '" + node + "'"));
    long cpu = amount("cpu", b.cpu(), Resources::parseCpuMillis);
    long mem = amount("memory", b.memory(), Resources::parseBytes);
    if (cpu == 0 && mem == 0) {
      throw new ApiException(400, "cpu", String.valueOf(b.cpu()), "a reservation needs cpu or memory > 0");
    }
    if (cpu > view.capacity().cpuMillis()) {
      throw new ApiException(422, "cpu", b.cpu(), "cpu " + b.cpu() + " exceeds node '" + node + "' capacity "
          + Resources.formatCpu(view.capacity().cpuMillis()));
    }
    if (mem > view.capacity().memoryBytes()) {
      throw new ApiException(422, "memory", b.memory(), "memory " + b.memory() + " exceeds node '" + node
          + "' capacity " + Resources.formatBytes(view.capacity().memoryBytes()));
    }
    Priority p;
    try {
      p = b.priority() == null ? Priority.STANDARD : Edge.priority(b.priority());
    } catch (IllegalArgumentException e) {
      throw new ApiException(400, "priority", b.priority(), "field 'priority' must be critical, standard or batch");
    }
    double lease = b.leaseSeconds() == null ? 60 : b.leaseSeconds();
    if (!(lease > 0) || lease > MAX_LEASE.toSeconds()) {
      throw new ApiException(400, "leaseSeconds", String.valueOf(b.leaseSeconds()),
          "field 'leaseSeconds' must be > 0 and <= " + MAX_LEASE.toSeconds());
    }
    try {
      return ledger.reserve(b.owner(), node, Resources.of(cpu, mem), p, Duration.ofMillis((long) (lease * 1000)),
          Reservation.State.ACTIVE);
    } catch (InsufficientCapacityException e) {
      throw new ApiException(409, "memory", b.memory(), "does not fit now: " + e.getMessage());
    }
  }

  private static long amount(String field, String text, java.util.function.ToLongFunction<String> parse) {
    if (text == null) {
      return 0;
    }
    try {
      return parse.applyAsLong(text);
    } catch (RuntimeException e) {
      throw new ApiException(400, field, text, "field '" + field + "' is not a valid non-negative amount: '"
          + text + "'");
    }
  }

  static long longParam(String name, String text) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new ApiException(400, name, text, "'" + name + "' must be an integer, was '" + text + "'");
    }
  }

  private ObjectNode dashboard() {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("time", System.currentTimeMillis());
    n.put("ready", ready());
    ArrayNode nodes = n.putArray("nodes");
    ledger.nodes().forEach(v -> nodes.add(Json.node(v)));
    n.put("liveReservations", ledger.snapshot().reservations().size());
    ObjectNode caps = n.putObject("capabilities");
    for (Capability c : capabilities) {
      ObjectNode o = timeline(c.timeline(), 120);
      o.put("ready", c.ready());
      o.put("queued", c.queued());
      o.put("inFlight", c.inFlight());
      Json.num(o, "shadowOverhead", c.shadowOverhead());
      ArrayNode loops = o.putArray("loops");
      for (dev.penumbra.core.loop.LoopStats ls : c.loops()) {
        ObjectNode l = loops.addObject();
        l.put("loop", ls.loop());
        l.put("baseline", ls.guard().baseline());
        l.put("acting", ls.guard().acting().label());
        Json.num(l, "penumbraCost", ls.guard().penumbraCost());
        Json.num(l, "baselineCost", ls.guard().baselineCost());
        l.put("switches", ls.guard().switches());
        l.put("scored", ls.guard().scored());
      }
      caps.set(c.name(), o);
    }
    return n;
  }

  static ObjectNode timeline(Timeline t, int last) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("dimension", t.dimension());
    o.put("unit", t.unit());
    Timeline.Summary s = t.summary();
    ObjectNode sum = o.putObject("summary");
    sum.put("samples", s.samples());
    Json.num(sum, "reservedPerActual", s.reservedPerActual());
    Json.num(sum, "baselinePerActual", s.baselinePerActual());
    Json.num(sum, "underReservedShare", s.underReservedShare());
    Json.num(sum, "baselineUnderShare", s.baselineUnderShare());
    ArrayNode arr = o.putArray("samples");
    List<Timeline.Sample> all = t.samples();
    for (Timeline.Sample x : all.subList(Math.max(0, all.size() - last), all.size())) {
      ObjectNode p = arr.addObject();
      p.put("time", x.timeMillis());
      p.put("label", x.label());
      p.put("predicted", x.predicted());
      p.put("reserved", x.reserved());
      p.put("actual", x.actual());
      p.put("baseline", x.baseline());
    }
    return o;
  }

  private static String resource(String name) {
    try (InputStream in = PenumbraServer.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("resource " + name + " is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
