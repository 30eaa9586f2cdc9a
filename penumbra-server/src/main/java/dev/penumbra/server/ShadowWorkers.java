package dev.penumbra.server;

import dev.penumbra.query.shadow.QueryRejectedException;
import dev.penumbra.query.shadow.ShadowResult;
import dev.penumbra.query.shadow.ShadowSite;
import io.javalin.Javalin;
import io.javalin.http.HandlerType;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane's shadow workers ({@code penumbra serve --role shadow} processes): who is up, and a {@link
 * ShadowSite} that spreads sample runs over them. A worker registers itself with {@code POST /v1/shadow-workers}
 * and says the same again as its heartbeat; one not heard from for {@link #expiry()} is dropped, and so is one
 * whose call fails (refused, reset, timed out, 5xx) until its next heartbeat. A shadow goes to the live worker
 * with the fewest running; when none is up, or the one chosen fails mid-shadow (killed), the shadow runs on the
 * local site, so no query is lost to a worker. A worker's refusal of the SQL (its sandbox is the same) is the
 * query's rejection, not a failure.
 *
 * <pre>{@code
 * ShadowWorkers workers = new ShadowWorkers(Clock.systemUTC(), ShadowWorkers.EXPIRY, 0.1, 42);
 * QueryGateway.builder().shadowSite(workers::around)...;   // the gateway's shadows now run on the workers
 * }</pre>
 */
public final class ShadowWorkers implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ShadowWorkers.class);
  /** How often a worker says hello. */
  public static final Duration HEARTBEAT = Duration.ofMillis(500);
  /** A worker not heard from for this long is dropped: four missed heartbeats. */
  public static final Duration EXPIRY = Duration.ofSeconds(2);
  /** Beyond its cap, how long a sample run may take on a worker before the worker counts as failed. */
  static final Duration CALL_MARGIN = Duration.ofSeconds(5);

  private final Clock clock;
  private final Duration expiry;
  private final double scale;
  private final long seed;
  private final Map<String, Worker> workers = new ConcurrentHashMap<>();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(1)).build();
  private final AtomicLong remote = new AtomicLong();
  private final AtomicLong local = new AtomicLong();
  private final AtomicLong fellBack = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();

  /**
   * A registry whose workers must hold the TPC-H data of {@code scale} and {@code seed} (the control plane's), so
   * a sample run there measures what a local one would.
   */
  public ShadowWorkers(Clock clock, Duration expiry, double scale, long seed) {
    if (clock == null) {
      throw new IllegalArgumentException("clock must not be null");
    }
    if (expiry == null || expiry.isNegative() || expiry.isZero()) {
      throw new IllegalArgumentException("expiry must be > 0, was " + expiry);
    }
    this.clock = clock;
    this.expiry = expiry;
    this.scale = scale;
    this.seed = seed;
  }

  /** One worker as the control plane sees it; {@code lastSeen} is its last heartbeat (ISO-8601). */
  public record WorkerView(String id, String url, int slots, int running, long shadows, long failures,
      String lastSeen) {}

  /**
   * The workers now live and what went where: shadows run on workers, locally because none was up, and locally
   * again after the worker chosen failed mid-shadow; workers dropped (expired or failed).
   */
  public record Stats(List<WorkerView> workers, long remote, long local, long fellBack, long dropped) {}

  private static final class Worker {
    final String id;
    final URI shadowUri;
    final String url;
    final int slots;
    volatile Instant lastSeen;
    final AtomicInteger running = new AtomicInteger();
    final AtomicLong shadows = new AtomicLong();
    final AtomicLong failures = new AtomicLong();

    Worker(String id, String url, int slots, Instant seen) {
      this.id = id;
      this.url = url;
      this.shadowUri = URI.create(url + "/v1/shadow");
      this.slots = slots;
      this.lastSeen = seen;
    }

    WorkerView view() {
      return new WorkerView(id, url, slots, running.get(), shadows.get(), failures.get(), lastSeen.toString());
    }
  }

  public Duration expiry() {
    return expiry;
  }

  /**
   * Registers a worker, or renews it when its id is known (a heartbeat); a worker that changed its URL is the new
   * one. Checks every field and names the one that is wrong.
   *
   * @throws ApiException 400 for a blank or over-long id, a URL that is not {@code http://HOST:PORT}, slots out of
   *     [1, 64]; 409 when the worker holds other data than the control plane
   */
  public void register(String id, String url, double workerScale, long workerSeed, int slots) {
    if (id == null || id.isBlank() || id.length() > 64 || !id.matches("[A-Za-z0-9._-]+")) {
      throw new ApiException(400, "id", String.valueOf(id), "must be 1-64 letters, digits, '.', '_' or '-'");
    }
    String base = checkUrl(url);
    if (slots < 1 || slots > 64) {
      throw new ApiException(400, "slots", Integer.toString(slots), "must be in [1, 64]");
    }
    if (workerScale != scale) {
      throw new ApiException(409, "scale", Double.toString(workerScale), "the worker's TPC-H data differs from the "
          + "control plane's (scale " + scale + "): start it with query.scale = " + scale);
    }
    if (workerSeed != seed) {
      throw new ApiException(409, "seed", Long.toString(workerSeed), "the worker's TPC-H data differs from the "
          + "control plane's (seed " + seed + ")");
    }
    Instant now = clock.instant();
    workers.compute(id, (k, w) -> {
      if (w != null && w.url.equals(base) && w.slots == slots) {
        w.lastSeen = now;
        return w;
      }
      if (w == null) {
        LOG.info("shadow worker {} registered at {} ({} slots)", id, base, slots);
      }
      return new Worker(id, base, slots, now);
    });
  }

  /**
   * The base URL of a worker: {@code http://HOST:PORT} with a port and nothing after it (a trailing slash is
   * dropped).
   *
   * @throws ApiException 400 naming the field {@code url} and its value otherwise
   */
  static String checkUrl(String url) {
    if (url == null || url.isBlank()) {
      throw new ApiException(400, "url", String.valueOf(url), "must be http://HOST:PORT");
    }
    URI u;
    try {
      u = new URI(url.strip());
    } catch (URISyntaxException e) {
      throw new ApiException(400, "url", url, "is not a URL (" + e.getReason() + "); must be http://HOST:PORT");
    }
    if (!"http".equalsIgnoreCase(u.getScheme())) {
      throw new ApiException(400, "url", url, "must be http://HOST:PORT, starting with http://");
    }
    if (u.getHost() == null || u.getPort() < 1 || u.getPort() > 65535) {
      throw new ApiException(400, "url", url, "must be http://HOST:PORT with a port in [1, 65535]");
    }
    String path = u.getRawPath();
    if (u.getRawUserInfo() != null || u.getRawQuery() != null || u.getRawFragment() != null
        || path != null && !path.isEmpty() && !path.equals("/")) {
      throw new ApiException(400, "url", url, "must be http://HOST:PORT with nothing after the port");
    }
    return "http://" + u.getRawAuthority();
  }

  /** Forgets a worker (it stops); false when it was not registered. */
  public boolean remove(String id) {
    Worker w = workers.remove(id);
    if (w != null) {
      LOG.info("shadow worker {} left", id);
    }
    return w != null;
  }

  /** The live workers now and the counts so far. */
  public Stats stats() {
    expire();
    return new Stats(workers.values().stream().map(Worker::view).sorted(Comparator.comparing(WorkerView::id))
        .toList(), remote.get(), local.get(), fellBack.get(), dropped.get());
  }

  /** The site that runs shadows on the workers and on {@code local} when none can. */
  public ShadowSite around(ShadowSite local) {
    if (local == null) {
      throw new IllegalArgumentException("local site must not be null");
    }
    return (sql, cap) -> shadow(sql, cap, local);
  }

  private ShadowResult shadow(String sql, java.time.Duration cap, ShadowSite site) {
    Worker w = pick();
    if (w == null) {
      local.incrementAndGet();
      return site.shadow(sql, cap);
    }
    try {
      ShadowResult r = call(w, sql, cap);
      remote.incrementAndGet();
      return r;
    } catch (WorkerFailed e) {
      drop(w, e.getMessage());
      fellBack.incrementAndGet();
      return site.shadow(sql, cap);
    }
  }

  /** The live worker with the fewest shadows running (ties: the fewest run so far), null when none is up. */
  private Worker pick() {
    expire();
    return workers.values().stream()
        .min(Comparator.<Worker>comparingDouble(w -> (double) w.running.get() / w.slots)
            .thenComparingLong(w -> w.shadows.get()))
        .orElse(null);
  }

  private void expire() {
    Instant oldest = clock.instant().minus(expiry);
    for (Worker w : workers.values()) {
      if (w.lastSeen.isBefore(oldest)) {
        drop(w, "no heartbeat since " + w.lastSeen);
      }
    }
  }

  private void drop(Worker w, String why) {
    if (workers.remove(w.id, w)) {
      dropped.incrementAndGet();
      LOG.warn("shadow worker {} at {} dropped: {}", w.id, w.url, why);
    }
  }

  private ShadowResult call(Worker w, String sql, Duration cap) throws WorkerFailed {
    byte[] body;
    try {
      body = ShadowWire.MAPPER.writeValueAsBytes(new ShadowWire.Job(sql, cap.toNanos()));
    } catch (IOException e) {
      throw new IllegalStateException("cannot write a shadow job: " + e.getMessage(), e);
    }
    HttpRequest req = HttpRequest.newBuilder(w.shadowUri).timeout(cap.plus(CALL_MARGIN))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    w.running.incrementAndGet();
    HttpResponse<byte[]> resp;
    try {
      resp = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      w.failures.incrementAndGet();
      throw new WorkerFailed(e.getClass().getSimpleName() + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while a shadow ran on worker " + w.id, e);
    } finally {
      w.running.decrementAndGet();
    }
    try {
      if (resp.statusCode() == 200) {
        ShadowResult r = ShadowWire.MAPPER.readValue(resp.body(), ShadowResult.class);
        w.shadows.incrementAndGet();
        return r;
      }
      if (resp.statusCode() == 400) {
        ShadowWire.Refusal f = ShadowWire.MAPPER.readValue(resp.body(), ShadowWire.Refusal.class);
        w.shadows.incrementAndGet();
        throw new QueryRejectedException(QueryRejectedException.Kind.valueOf(f.kind()), f.message(), null);
      }
    } catch (IOException | IllegalArgumentException e) {
      w.failures.incrementAndGet();
      throw new WorkerFailed("unreadable answer (" + e.getMessage() + ")");
    }
    w.failures.incrementAndGet();
    throw new WorkerFailed("answered " + resp.statusCode() + ": "
        + new String(resp.body(), java.nio.charset.StandardCharsets.UTF_8).lines().findFirst().orElse(""));
  }

  /** A worker could not run a shadow (not the query's fault): the shadow runs locally instead. */
  private static final class WorkerFailed extends Exception {
    WorkerFailed(String message) {
      super(message, null, false, false);
    }
  }

  /** The registry's routes on the control plane. */
  void routes(Api api, long maxBodyBytes) {
    api.command(HandlerType.POST, "/v1/shadow-workers", ctx -> hello(ctx, maxBodyBytes));
    api.get("/v1/shadow-workers", ctx -> ctx.json(stats()));
    api.command(HandlerType.DELETE, "/v1/shadow-workers/{id}", this::goodbye);
  }

  private void hello(io.javalin.http.Context ctx, long maxBodyBytes) {
    requireAdmin(ctx);
    ShadowWire.Hello h = Json.read(ctx, ShadowWire.Hello.class, maxBodyBytes);
    for (var f : java.util.Map.of("scale", java.util.Optional.ofNullable(h.scale()), "seed",
        java.util.Optional.ofNullable(h.seed()), "slots", java.util.Optional.ofNullable(h.slots())).entrySet()) {
      if (f.getValue().isEmpty()) {
        throw new ApiException(400, f.getKey(), "", "field '" + f.getKey() + "' is required");
      }
    }
    register(h.id(), h.url(), h.scale(), h.seed(), h.slots());
    ctx.json(new ShadowWire.Welcome(h.id(), HEARTBEAT.toMillis(), expiry.toMillis()));
  }

  private void goodbye(io.javalin.http.Context ctx) {
    requireAdmin(ctx);
    String id = ctx.pathParam("id");
    if (!remove(id)) {
      throw new ApiException(404, "id", id, "no shadow worker with this id is registered");
    }
    ctx.status(204);
  }

  /** The registry served on a port of its own (see {@link #serve}). */
  public interface Endpoint extends AutoCloseable {
    /** The base URL workers are given as their control plane, e.g. {@code http://127.0.0.1:8093}. */
    String url();

    @Override
    void close();
  }

  /**
   * Serves the registry's routes ({@code /v1/shadow-workers}) on {@code host:port} (0 picks a free port), without
   * authentication: for a gateway embedded in another process than {@code penumbra serve}, whose workers need
   * somewhere to register. Bind a loopback or private address.
   */
  public Endpoint serve(String host, int port) {
    Javalin app = Javalin.create(cfg -> {
      cfg.startup.showJavalinBanner = false;
      cfg.startup.showOldJavalinVersionWarning = false;
      cfg.jsonMapper(new io.javalin.json.JavalinJackson(Json.MAPPER, false));
      cfg.jetty.host = host;
      cfg.jetty.port = port;
      cfg.routes.post("/v1/shadow-workers", ctx -> hello(ctx, 64 * 1024));
      cfg.routes.get("/v1/shadow-workers", ctx -> ctx.json(stats()));
      cfg.routes.delete("/v1/shadow-workers/{id}", this::goodbye);
      cfg.routes.exception(ApiException.class, (e, ctx) ->
          ctx.status(e.status()).json(Json.error(e.status(), e.getMessage(), e.field(), e.value())));
    }).start();
    String h = host.contains(":") ? "[" + host + "]" : host;
    return new Endpoint() {
      @Override
      public String url() {
        return "http://" + h + ":" + app.port();
      }

      @Override
      public void close() {
        app.stop();
      }
    };
  }

  /** Shadows go where a worker says: with authentication on, only an admin may register or remove one. */
  private static void requireAdmin(io.javalin.http.Context ctx) {
    var p = Edge.principal(ctx);
    if (p.isPresent() && !p.get().admin()) {
      throw new ApiException(403, "Authorization", p.get().name(), "only an admin principal may register or "
          + "remove shadow workers, not '" + p.get().name() + "'");
    }
  }

  @Override
  public void close() {
    workers.clear();
    http.close();
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "ShadowWorkers[%d live]", workers.size());
  }
}
