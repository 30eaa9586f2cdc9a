package dev.penumbra.eval.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.LedgerSnapshot;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.eval.report.Quantiles;
import dev.penumbra.query.workload.Workload;
import dev.penumbra.server.Json;
import dev.penumbra.server.PenumbraServer;
import dev.penumbra.server.ServerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * A bounded load test of the control plane on loopback: a fixed number of requests from concurrent clients,
 * stopping by itself at the request count or the time limit, whichever comes first. The mix is what a user's
 * tools send: query submissions of mixed priority (the query workload's templates) and reads of nodes,
 * reservations, events and metrics. A ledger listener checks the capacity invariant on every ledger event;
 * once the load has drained, nothing may be left reserved.
 *
 * <p>With a hostile share, that share of requests is what a hostile client sends instead (bad bodies, wrong
 * types and methods, a foreign origin, a body over the size limit, bad bodies for the shard request, shadow worker,
 * shadow node and stream routes, and the SQL sandbox probes: host files, catalog functions, stacked statements),
 * every one of which must be refused with a 4xx; and before the load a "hog" takes the
 * whole node for a day at batch priority, which critical queries must get through.
 *
 * <p>Only 127.0.0.1 is ever addressed: the server is started here, on a free port.
 */
public final class LoadBench {

  /**
   * @param clients concurrent clients (>= 1)
   * @param requests total requests (>= 1)
   * @param limit the time limit; the run stops at whichever comes first
   * @param queryShare share of requests that submit a query, in [0, 1]
   * @param seed for the request mix and the query parameters
   */
  public record Options(int clients, int requests, Duration limit, double queryShare, long seed,
      double hostileShare) {
    /** Well-formed load only. */
    public Options(int clients, int requests, Duration limit, double queryShare, long seed) {
      this(clients, requests, limit, queryShare, seed, 0);
    }

    public Options {
      if (!(hostileShare >= 0 && hostileShare <= 1)) {
        throw new IllegalArgumentException("hostileShare must be in [0, 1], was " + hostileShare);
      }
      if (clients < 1) {
        throw new IllegalArgumentException("clients must be >= 1, was " + clients);
      }
      if (requests < 1) {
        throw new IllegalArgumentException("requests must be >= 1, was " + requests);
      }
      if (limit == null || limit.isNegative() || limit.isZero()) {
        throw new IllegalArgumentException("limit must be > 0, was " + limit);
      }
      if (!(queryShare >= 0 && queryShare <= 1)) {
        throw new IllegalArgumentException("queryShare must be in [0, 1], was " + queryShare);
      }
    }

    public static Options defaults() {
      return new Options(8, 600, Duration.ofSeconds(60), 0.5, 42);
    }
  }

  /** Latency figures of one kind of request, in milliseconds. */
  public record Latency(int count, double p50, double p99, double max) {}

  /**
   * @param sent requests sent
   * @param seconds wall time of the load
   * @param perSecond requests completed per second
   * @param all latency over every request
   * @param byKind latency per kind ("query", "read")
   * @param byStatus responses per HTTP status
   * @param serverErrors responses with a 5xx status (must be 0)
   * @param transportErrors requests that got no response
   * @param ledgerEvents ledger events checked
   * @param invariantViolations ledger events after which some node held more than its capacity (must be 0)
   * @param leftReserved live reservations once the load had drained (must be 0)
   */
  public record Result(
      int sent,
      double seconds,
      double perSecond,
      Latency all,
      Map<String, Latency> byKind,
      Map<Integer, Integer> byStatus,
      int serverErrors,
      int transportErrors,
      long ledgerEvents,
      long invariantViolations,
      int leftReserved,
      Hostile hostile) {}

  /**
   * What the hostile share did.
   *
   * @param sent hostile requests sent
   * @param refused of those, answered 4xx (target: all)
   * @param probes SQL sandbox probes among them
   * @param probesRefused probes answered 4xx (target: all)
   * @param accepted hostile requests answered 2xx (target 0)
   * @param hogReleased whether the hog's reservation was released for critical work during the load
   * @param residentBytesBefore the process's resident memory (VmRSS) before the load, bytes (0 when unknown)
   * @param residentBytesAfter the same after the load
   * @param slowClients slow-header (slowloris) connections opened beside the load
   * @param slowCutOff of those, cut off by the server before sending their whole header (target: all)
   * @param slowCutOffMillisMin the shortest a slow connection lasted before it was cut off, ms
   * @param slowCutOffMillisMax the longest a slow connection lasted before it was cut off, ms
   * @param headerDeadlineMillis the server's header deadline ({@code server.headerTimeout}), ms: a cut-off is due
   *     then (target: within 500 ms after it)
   */
  public record Hostile(int sent, int refused, int probes, int probesRefused, int accepted, boolean hogReleased,
      long residentBytesBefore, long residentBytesAfter, int slowClients, int slowCutOff,
      double slowCutOffMillisMin, double slowCutOffMillisMax, long headerDeadlineMillis) {}

  /** Slow-header connections a hostile run opens beside the load. */
  static final int SLOW_CLIENTS = 4;
  /** A slow client sends one header byte per this long. */
  static final Duration SLOW_PACE = Duration.ofMillis(200);
  /** ... and gives up (not cut off) after this many bytes: bounded whatever the server does. */
  static final int SLOW_MAX_BYTES = 300;

  /**
   * One slowloris connection: a request line, then one header byte per {@link #SLOW_PACE} (paced by the socket's
   * read timeout) until the server answers or closes, or {@link #SLOW_MAX_BYTES} were sent. Returns the
   * milliseconds until the cut-off, or -1 when it was never cut off.
   */
  static double slowClient(int port) {
    long t0 = System.nanoTime();
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
      s.setSoTimeout((int) SLOW_PACE.toMillis());
      s.getOutputStream().write("GET /v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".getBytes(
          java.nio.charset.StandardCharsets.US_ASCII));
      for (int i = 0; i < SLOW_MAX_BYTES; i++) {
        try {
          s.getOutputStream().write('a');
          s.getOutputStream().flush();
        } catch (java.io.IOException closed) {
          return (System.nanoTime() - t0) / 1e6;
        }
        try {
          s.getInputStream().read();
          return (System.nanoTime() - t0) / 1e6; // an answer (408) or the end of the stream
        } catch (java.net.SocketTimeoutException waiting) {
          // still reading our header: send the next byte
        } catch (java.io.IOException reset) {
          return (System.nanoTime() - t0) / 1e6;
        }
      }
      return -1;
    } catch (java.io.IOException e) {
      return (System.nanoTime() - t0) / 1e6;
    }
  }

  /** SQL a hostile client sends (issue findings 1-3); each must be refused before anything runs. */
  static final List<String> PROBES = List.of(
      "SELECT * FROM read_text('/etc/hostname')",
      "SELECT * FROM read_csv('/etc/passwd', header = false)",
      "SELECT * FROM glob('/etc/*')",
      "SELECT * FROM read_json_auto('/etc/hostname')",
      "SELECT path FROM duckdb_databases()",
      "SELECT current_setting('temp_directory')",
      "SELECT $$'$$ AS a; COPY (SELECT 42 AS pwned) TO '/tmp/penumbra-bench-pwned.csv'; SELECT 1 AS done --'",
      "SELECT E'\\'' AS a; COPY (SELECT 42) TO '/tmp/penumbra-bench-pwned.csv'; SELECT 1 --'",
      "ATTACH '/tmp/penumbra-bench-x.db'",
      "SELECT $$'$$ AS a; CREATE OR REPLACE TEMP VIEW region AS SELECT 999 AS poisoned; SELECT 1 --'",
      "SET lock_configuration = true",
      "INSTALL httpfs");


  private LoadBench() {}

  /** Starts a server with {@code config} on a free loopback port, runs the load, stops the server. */
  public static Result run(ServerConfig config, Options options, IntConsumer progress) throws Exception {
    ServerConfig cfg = config.withPort(0);
    try (PenumbraServer server = PenumbraServer.builder(cfg).build()) {
      server.start();
      if (!server.awaitReady(Duration.ofMinutes(5))) {
        throw new IllegalStateException("server did not become ready within 5 minutes");
      }
      Ledger ledger = server.ledger();
      AtomicLong events = new AtomicLong();
      AtomicLong violations = new AtomicLong();
      try (Ledger.Subscription sub = ledger.subscribe(e -> {
        events.incrementAndGet();
        if (!holds(ledger.snapshot())) {
          violations.incrementAndGet();
        }
      })) {
        String base = "http://127.0.0.1:" + server.port();
        long hog = options.hostileShare() > 0 ? hog(base, cfg) : -1;
        Result r = load(base, cfg, options, events, violations, ledger, progress, hog);
        return r;
      }
    }
  }

  /** Per node and dimension, the live reservations add up to what the node reports used, within capacity. */
  static boolean holds(LedgerSnapshot s) {
    for (NodeView n : s.nodes()) {
      Resources sum = Resources.ZERO;
      for (Reservation r : s.reservationsOn(n.id())) {
        sum = sum.plus(r.amount());
      }
      if (!sum.fits(n.capacity()) || !sum.equals(n.used())) {
        return false;
      }
    }
    return true;
  }

  /** Takes the whole node for a day at batch priority, as finding 7's client did; returns the reservation id. */
  private static long hog(String base, ServerConfig cfg) throws Exception {
    Resources all = cfg.ledger().capacity();
    String body = Json.MAPPER.writeValueAsString(Map.of("owner", "hog", "cpu", all.cpuMillis() + "m",
        "memory", (all.memoryBytes() >> 20) + "MiB", "priority", "batch", "leaseSeconds", 86_400));
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base
        + "/v1/reservations")).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 201) {
      throw new IllegalStateException("the hog's reservation was refused: " + r.statusCode() + " " + r.body());
    }
    return Json.MAPPER.readTree(r.body()).get("id").asLong();
  }

  /** The process's resident set (VmRSS of /proc/self/status) in bytes, 0 where there is no /proc. */
  static long residentBytes() {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      return 0;
    }
    return 0;
  }

  private static Result load(String base, ServerConfig cfg, Options o, AtomicLong events, AtomicLong violations,
      Ledger ledger, IntConsumer progress, long hogId) throws Exception {
    long rssBefore = residentBytes();
    AtomicInteger hostileSent = new AtomicInteger();
    AtomicInteger hostileRefused = new AtomicInteger();
    AtomicInteger hostileAccepted = new AtomicInteger();
    AtomicInteger probes = new AtomicInteger();
    AtomicInteger probesRefused = new AtomicInteger();
    Workload workload = Workload.tpch(cfg.query().scale());
    String[] reads = {"/v1/nodes", "/v1/reservations", "/v1/events?limit=50", "/metrics", "/v1/errors", "/ready"};
    String[] priorities = {"critical", "standard", "standard", "batch", "batch"};
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    AtomicInteger next = new AtomicInteger();
    AtomicInteger done = new AtomicInteger();
    Map<String, List<Double>> latencies = new ConcurrentHashMap<>();
    Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
    AtomicInteger transport = new AtomicInteger();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long start = System.nanoTime();
    long deadline = start + o.limit().toNanos();
    ExecutorService pool = Executors.newFixedThreadPool(o.clients());
    int port = URI.create(base).getPort();
    ExecutorService slowPool = Executors.newFixedThreadPool(SLOW_CLIENTS);
    List<Future<Double>> slow = new ArrayList<>();
    if (o.hostileShare() > 0) {
      for (int i = 0; i < SLOW_CLIENTS; i++) {
        slow.add(slowPool.submit(() -> slowClient(port)));
      }
    }
    try {
      List<Future<?>> clients = new ArrayList<>();
      for (int c = 0; c < o.clients(); c++) {
        Random rnd = new Random(o.seed() * 1_000_003 + c);
        clients.add(pool.submit(() -> {
          while (next.getAndIncrement() < o.requests() && System.nanoTime() < deadline) {
            boolean hostile = rnd.nextDouble() < o.hostileShare();
            boolean query = !hostile && rnd.nextDouble() < o.queryShare();
            String priority = priorities[rnd.nextInt(priorities.length)];
            HttpRequest req;
            boolean probe = false;
            try {
              if (hostile) {
                int kind = rnd.nextInt(HOSTILE_KINDS + PROBES.size());
                probe = kind >= HOSTILE_KINDS;
                req = hostileRequest(base, kind, rnd);
              } else {
                req = request(base, query, rnd, workload, reads, priority);
              }
            } catch (JsonProcessingException e) {
              failure.compareAndSet(null, e);
              return;
            }
            long t0 = System.nanoTime();
            try {
              HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
              double ms = (System.nanoTime() - t0) / 1e6;
              int code = resp.statusCode();
              statuses.computeIfAbsent(code, k -> new AtomicInteger()).incrementAndGet();
              String kind = hostile ? "hostile" : query ? "query" : "read";
              latencies.computeIfAbsent(kind, k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(ms);
              if (query) {
                latencies.computeIfAbsent("query " + priority,
                    k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(ms);
              }
              if (hostile) {
                hostileSent.incrementAndGet();
                boolean refused = code >= 400 && code < 500;
                (refused ? hostileRefused : code < 300 ? hostileAccepted : new AtomicInteger()).incrementAndGet();
                if (probe) {
                  probes.incrementAndGet();
                  if (refused) {
                    probesRefused.incrementAndGet();
                  }
                }
              }
            } catch (java.io.IOException e) {
              transport.incrementAndGet();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              return;
            } catch (RuntimeException e) {
              failure.compareAndSet(null, e);
              return;
            }
            progress.accept(done.incrementAndGet());
          }
        }));
      }
      for (Future<?> f : clients) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    int slowCutOff = 0;
    double slowMax = 0;
    double slowMin = Double.NaN;
    for (Future<Double> f : slow) {
      double ms = f.get(); // bounded: SLOW_MAX_BYTES x SLOW_PACE at most
      if (ms >= 0) {
        slowCutOff++;
        slowMax = Math.max(slowMax, ms);
        slowMin = Double.isNaN(slowMin) ? ms : Math.min(slowMin, ms);
      }
    }
    slowPool.shutdownNow();
    if (failure.get() != null) {
      throw new IllegalStateException("load client failed", failure.get());
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    boolean hogReleased = false;
    if (hogId >= 0) {
      hogReleased = ledger.get(hogId).map(r -> !r.isLive()).orElse(true);
      if (!hogReleased) {
        ledger.release(hogId); // no critical query came: the hog is not a leak of the load
      }
    }
    // Every request has been answered; whatever is still reserved now was leaked.
    int left = ledger.snapshot().reservations().size();
    List<Double> every = new ArrayList<>();
    Map<String, Latency> byKind = new TreeMap<>();
    latencies.forEach((k, v) -> {
      if (!k.contains(" ")) {
        every.addAll(v); // "query critical" etc. repeat requests already under "query"
      }
      byKind.put(k, latency(v));
    });
    Map<Integer, Integer> byStatus = new TreeMap<>();
    statuses.forEach((k, v) -> byStatus.put(k, v.get()));
    int server5xx = byStatus.entrySet().stream().filter(e -> e.getKey() >= 500).mapToInt(Map.Entry::getValue).sum();
    int sent = done.get() + transport.get();
    return new Result(sent, seconds, done.get() / seconds, latency(every), byKind, byStatus, server5xx,
        transport.get(), events.get(), violations.get(), left, new Hostile(hostileSent.get(), hostileRefused.get(),
            probes.get(), probesRefused.get(), hostileAccepted.get(), hogReleased, rssBefore, residentBytes(),
            slow.size(), slowCutOff, slowMin, slowMax, cfg.server().headerTimeout().toMillis()));
  }

  /** Kinds of hostile request besides the SQL probes (see {@link #hostileRequest}). */
  static final int HOSTILE_KINDS = 14;

  /** A hostile request: {@code kind} below {@link #HOSTILE_KINDS} is a bad request, above it a SQL probe. */
  static HttpRequest hostileRequest(String base, int kind, Random rnd) throws JsonProcessingException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/v1/queries")).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json");
    String reservation = "{\"owner\": \"x\", \"memory\": \"16MiB\", \"leaseSeconds\": \"30\"}";
    return switch (kind) {
      case 0 -> b.POST(HttpRequest.BodyPublishers.ofString("null")).build();
      case 1 -> b.POST(HttpRequest.BodyPublishers.ofString("{\"sql\": \"SELECT 1\", \"sql\": \"SELECT 2\"}")).build();
      case 2 -> b.POST(HttpRequest.BodyPublishers.ofString("{\"sql\": 42, \"priority\": \" critical\"}")).build();
      case 3 -> HttpRequest.newBuilder(URI.create(base + "/v1/reservations")).timeout(Duration.ofSeconds(30))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(reservation)).build();
      case 4 -> HttpRequest.newBuilder(URI.create(base + "/v1/queries")).timeout(Duration.ofSeconds(30))
          .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("{\"sql\": \"SELECT 1\"}"))
          .build();
      case 5 -> b.header("Origin", "http://evil.example")
          .POST(HttpRequest.BodyPublishers.ofString("{\"sql\": \"SELECT 1\"}")).build();
      case 6 -> HttpRequest.newBuilder(URI.create(base + "/v1/reservations")).timeout(Duration.ofSeconds(30))
          .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString("{}")).build();
      case 7 -> b.POST(HttpRequest.BodyPublishers.ofString("{\"sql\": \"" + "x".repeat(128 << 10) + "\"}")).build();
      case 8 -> b.POST(HttpRequest.BodyPublishers.ofString("{\"sql\": \"SELECT 1\", \"deadlineSeconds\": NaN}")).build();
      case 9 -> b.POST(HttpRequest.BodyPublishers.ofString("{\"sql\": \"SELECT 1\", \"deadlineSeconds\": 1e400}")).build();
      // The newer routes: shard requests, shadow workers, shadow nodes, streams.
      case 10 -> post(base, "/v1/requests", "{\"priority\": \"critical \", \"shards\": -1}");
      case 11 -> post(base, "/v1/shadow-workers", "{\"url\": \"http://169.254.169.254/\", \"slots\": 1e9}");
      case 12 -> post(base, "/v1/failover/nodes", "{\"name\": \"n\\u0000x\"}");
      case 13 -> post(base, "/v1/streams", "{\"name\": \"s\", \"partitions\": \"2\"}");
      default -> b.POST(HttpRequest.BodyPublishers.ofString(Json.MAPPER.writeValueAsString(
          Map.of("sql", PROBES.get(kind - HOSTILE_KINDS), "priority", "critical")))).build();
    };
  }

  private static HttpRequest post(String base, String path, String body) {
    return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
  }

  private static HttpRequest request(String base, boolean query, Random rnd, Workload workload, String[] reads,
      String priority) throws JsonProcessingException {
    if (!query) {
      return HttpRequest.newBuilder(URI.create(base + reads[rnd.nextInt(reads.length)]))
          .timeout(Duration.ofSeconds(30)).GET().build();
    }
    String body = Json.MAPPER.writeValueAsString(Map.of(
        "sql", workload.sample(rnd).sql(), "user", "load", "priority", priority));
    return HttpRequest.newBuilder(URI.create(base + "/v1/queries"))
        .timeout(Duration.ofSeconds(120))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
  }

  static Latency latency(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
    if (v.length == 0) {
      return new Latency(0, Double.NaN, Double.NaN, Double.NaN);
    }
    Arrays.sort(v);
    return new Latency(v.length, Quantiles.sorted(v, 0.5), Quantiles.sorted(v, 0.99), v[v.length - 1]);
  }

}
