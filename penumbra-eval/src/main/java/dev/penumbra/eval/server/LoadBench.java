package dev.penumbra.eval.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.LedgerSnapshot;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.ledger.Reservation;
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
  public record Options(int clients, int requests, Duration limit, double queryShare, long seed) {
    public Options {
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
      int leftReserved) {}


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
        Result r = load(base, cfg, options, events, violations, ledger, progress);
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

  private static Result load(String base, ServerConfig cfg, Options o, AtomicLong events, AtomicLong violations,
      Ledger ledger, IntConsumer progress) throws Exception {
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
    try {
      List<Future<?>> clients = new ArrayList<>();
      for (int c = 0; c < o.clients(); c++) {
        Random rnd = new Random(o.seed() * 1_000_003 + c);
        clients.add(pool.submit(() -> {
          while (next.getAndIncrement() < o.requests() && System.nanoTime() < deadline) {
            boolean query = rnd.nextDouble() < o.queryShare();
            HttpRequest req;
            try {
              req = request(base, query, rnd, workload, reads, priorities);
            } catch (JsonProcessingException e) {
              failure.compareAndSet(null, e);
              return;
            }
            long t0 = System.nanoTime();
            try {
              HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
              double ms = (System.nanoTime() - t0) / 1e6;
              statuses.computeIfAbsent(resp.statusCode(), k -> new AtomicInteger()).incrementAndGet();
              latencies.computeIfAbsent(query ? "query" : "read", k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(ms);
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
    if (failure.get() != null) {
      throw new IllegalStateException("load client failed", failure.get());
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    // Every request has been answered; whatever is still reserved now was leaked.
    int left = ledger.snapshot().reservations().size();
    List<Double> every = new ArrayList<>();
    Map<String, Latency> byKind = new TreeMap<>();
    latencies.forEach((k, v) -> {
      every.addAll(v);
      byKind.put(k, latency(v));
    });
    Map<Integer, Integer> byStatus = new TreeMap<>();
    statuses.forEach((k, v) -> byStatus.put(k, v.get()));
    int server5xx = byStatus.entrySet().stream().filter(e -> e.getKey() >= 500).mapToInt(Map.Entry::getValue).sum();
    int sent = done.get() + transport.get();
    return new Result(sent, seconds, done.get() / seconds, latency(every), byKind, byStatus, server5xx,
        transport.get(), events.get(), violations.get(), left);
  }

  private static HttpRequest request(String base, boolean query, Random rnd, Workload workload, String[] reads,
      String[] priorities) throws JsonProcessingException {
    if (!query) {
      return HttpRequest.newBuilder(URI.create(base + reads[rnd.nextInt(reads.length)]))
          .timeout(Duration.ofSeconds(30)).GET().build();
    }
    String body = Json.MAPPER.writeValueAsString(Map.of(
        "sql", workload.sample(rnd).sql(), "user", "load", "priority", priorities[rnd.nextInt(priorities.length)]));
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
    return new Latency(v.length, pct(v, 0.5), pct(v, 0.99), v[v.length - 1]);
  }

  private static double pct(double[] sorted, double p) {
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }
}
