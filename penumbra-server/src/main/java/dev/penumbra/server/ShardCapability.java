package dev.penumbra.server;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.loop.ControlLoop;
import dev.penumbra.query.QueryGateway;
import dev.penumbra.shard.EngineStats;
import dev.penumbra.shard.InProcessBackend;
import dev.penumbra.shard.KeyRange;
import dev.penumbra.shard.RequestResult;
import dev.penumbra.shard.Shard;
import dev.penumbra.shard.ShardEngine;
import dev.penumbra.shard.ShardFunction;
import dev.penumbra.shard.ShardFunctions;
import dev.penumbra.shard.ShardHistory;
import dev.penumbra.shard.ShardPolicy;
import dev.penumbra.shard.ShardReport;
import dev.penumbra.shard.ShardRequest;
import dev.penumbra.shard.SqlShardFunction;
import dev.penumbra.shard.Unit;
import dev.penumbra.shard.kafka.KafkaShardTransport;
import dev.penumbra.shard.kafka.ShardWorkerProcess;
import io.javalin.http.HandlerType;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.ToLongFunction;
import java.util.regex.Pattern;

/**
 * Large requests cut into shards ({@code /v1/requests}) on a {@link ShardEngine} that reserves each shard on the
 * server's ledger through the core control loop before dispatch. By default the machine is one in-process backend
 * (the ledger's node, its cores as the pools' threads); with {@code shard.transport = kafka} shards travel over
 * Kafka to the configured pools ({@link ShardConfig}), each a ledger node of its own serving one priority, with one
 * engine per priority over that priority's pools (a priority no pool serves is refused). Two kinds of request: {@code synthetic} (units of integer keys,
 * each key summed at {@value #MICROS_PER_KEY} µs, so the answer checks the cover) and {@code tpch} (TPC-H Q1's
 * pricing sums over {@code lineitem} cut by order key on the query capability's DuckDB database, partial results
 * merged). Timeline (CPU, millicores, one sample per finished shard): predicted = the shard's predicted CPU,
 * reserved = its reservation, actual = its measured CPU, baseline = the uniform static size (one core).
 *
 * <p>Why it is long (about 790 lines): every field of a request is validated here, each with its own 400 naming it,
 * the JSON views of requests, their shards and the pools ({@code /v1/shard/pools}) are built here, and the Kafka
 * pools (an engine per priority, their worker processes) are set up here; the engine does the sharding itself.
 */
final class ShardCapability implements Capability, Capability.Timed {
  static final String NAME = "shard";
  static final long MICROS_PER_KEY = 200;
  static final long MAX_KEYS = 100_000;
  static final int MAX_UNITS = 64;
  static final int MAX_SHARDS = 256;
  static final String TPCH_UNIT = "lineitem";
  private static final int RECENT = 50;
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private final Ledger ledger;
  private final ServerConfig config;
  private final ShardHistory history;
  private final InProcessBackend backend;
  private final KafkaShardTransport transport;
  private final List<ShardWorkerProcess> workers = new ArrayList<>();
  /** The engine of each priority (in-process: the same one for all). */
  private final Map<Priority, ShardEngine> engines = new EnumMap<>(Priority.class);
  private final List<ShardEngine> distinct = new ArrayList<>();
  private final Timeline timeline = new Timeline("cpu", "millicores", 600);
  private final LoopView view;
  private final Map<String, Tracked> requests = new LinkedHashMap<>();
  private final AtomicLong serial = new AtomicLong();
  private volatile SqlShardFunction tpch;
  private volatile long tpchKeys = -1;
  private volatile boolean closed;

  /** A request as submitted and, once it ended, its outcome. */
  private static final class Tracked {
    final ShardRequest request;
    final String kind;
    final String policy;
    final long submittedMillis = System.currentTimeMillis();
    volatile RequestResult result;
    volatile String error;
    volatile Object answer;
    volatile boolean cancelled;
    /** Completed once the outcome above is recorded, however the request ended. */
    final CompletableFuture<Void> ended = new CompletableFuture<>();

    Tracked(ShardRequest request, String kind, String policy) {
      this.request = request;
      this.kind = kind;
      this.policy = policy;
    }

    String state() {
      return result != null ? "done" : cancelled ? "cancelled" : error != null ? "failed" : "running";
    }
  }

  ShardCapability(Ledger ledger, ServerConfig config, Consumer<String> progress) {
    this.ledger = ledger;
    this.config = config;
    try {
      String url = config.shard().history();
      this.history = url.isEmpty() ? ShardHistory.inMemory(MICROS_PER_KEY / 1000.0)
          : ShardHistory.open(url, 5, MICROS_PER_KEY / 1000.0);
    } catch (SQLException e) {
      throw new IllegalStateException("the shard history database (shard.history = "
          + ShardConfig.shown(config.shard().history()) + ") could not be opened: " + e.getMessage(), e);
    }
    ErrorTracker feedback = new ErrorTracker();
    // Shards run no shadow of their own: their predictions come from the history of finished shards. One
    // feedback tracker is shared by every engine's allocator.
    this.view = LoopView.of(NAME, timeline).ready(() -> !closed).inFlight(this::running)
        .queued(() -> distinct.stream().mapToInt(e -> e.loopStats().waiting()).sum()).errors(feedback)
        .loops(() -> distinct.stream().map(ShardEngine::loopStats).toList()).build();
    ShardConfig sc = config.shard();
    if (!sc.kafka()) {
      Resources node = config.ledger().capacity();
      int threads = (int) Math.max(1, node.cpuMillis() / 1000);
      ShardFunction keySum = ShardFunctions.keySum(Duration.ofNanos(MICROS_PER_KEY * 1000));
      this.backend = InProcessBackend.of(config.ledger().node(), node, threads, shard -> run(shard, keySum));
      this.transport = null;
      ShardEngine e = engine(feedback, threads).backend(backend).build();
      distinct.add(e);
      for (Priority p : Priority.values()) {
        engines.put(p, e);
      }
      return;
    }
    this.backend = null;
    this.transport = KafkaShardTransport.builder(sc.bootstrap()).heartbeatTimeout(sc.heartbeatTimeout()).build();
    try {
      Path logs = Files.createTempDirectory("penumbra-shard-workers");
      for (Priority p : Priority.values()) {
        List<ShardConfig.Pool> pools = sc.pools().stream().filter(pool -> pool.priority() == p).toList();
        if (pools.isEmpty()) {
          continue;
        }
        int slots = pools.stream().mapToInt(ShardConfig.Pool::workers).sum();
        ShardEngine.Builder b = engine(feedback, slots);
        for (ShardConfig.Pool pool : pools) {
          b.backend(transport.backend(pool.id(), Resources.of(pool.cores() * 1000L, pool.cores() * (1L << 30)),
              pool.workers()));
          if (sc.startWorkers()) {
            for (int i = 0; i < pool.workers(); i++) {
              String w = pool.id() + "-w" + i;
              workers.add(ShardWorkerProcess.start(sc.bootstrap(), pool.id(), workerOptions(w), logs.resolve(w
                  + ".log")));
              progress.accept("shard worker " + w + " started (log " + logs.resolve(w + ".log") + ")");
            }
          }
        }
        ShardEngine e = b.build();
        distinct.add(e);
        engines.put(p, e);
      }
    } catch (java.io.IOException | RuntimeException e) {
      close();
      throw new IllegalStateException("the shard pools on Kafka at " + sc.bootstrap() + " could not be started: "
          + e.getMessage(), e);
    }
  }

  private ShardEngine.Builder engine(ErrorTracker feedback, int slots) {
    return ShardEngine.builder(ledger, history).targetShard(Duration.ofMillis(250))
        .minTimeout(Duration.ofSeconds(30)).maxInFlight(slots * 2).defaultDemand(Resources.of(1000, 16L << 20))
        .feedback(feedback);
  }

  /** A Kafka worker runs both kinds of request: key sums, and TPC-H Q1's sums on the query capability's database. */
  private Map<String, String> workerOptions(String worker) {
    ServerConfig.Query q = config.query();
    Path file = QueryGateway.databaseFile(q.cacheDirPath().orElse(QueryGateway.defaultCacheDir()), q.scale(), 42);
    Map<String, String> o = new LinkedHashMap<>();
    o.put("worker", worker);
    o.put("function", ShardFunctions.KEY_SUM + ",sql");
    o.put("key-micros", Long.toString(MICROS_PER_KEY));
    o.put("sql-name", TPCH_FUNCTION);
    o.put("database", file.toString());
    o.put("query", TPCH_Q1_SUMS);
    o.put("key-column", "l_orderkey");
    return o;
  }

  /** The engine of a priority; a priority no pool serves is refused. */
  private ShardEngine engineFor(Priority p) {
    ShardEngine e = engines.get(p);
    if (e == null) {
      throw new ApiException(400, "priority", p.label(), "field 'priority': no shard pool serves " + p.label()
          + " (shard.pools: " + config.shard().pools().stream().map(x -> x.id() + ":" + x.priority().label())
          .toList() + ")");
    }
    return e;
  }

  private long sum(ToLongFunction<EngineStats> f) {
    long n = 0;
    for (ShardEngine e : distinct) {
      n += f.applyAsLong(e.stats());
    }
    return n;
  }

  private Object run(Shard shard, ShardFunction keySum) throws Exception {
    if (shard.function().equals(ShardFunctions.KEY_SUM)) {
      return keySum.apply(shard);
    }
    SqlShardFunction f = tpch;
    if (f == null) {
      throw new IllegalStateException("the TPC-H database is not open");
    }
    return f.apply(shard);
  }

  /** A unit of a synthetic request: keys {@code [from, to)}, after the units it depends on. */
  record UnitBody(String name, Long from, Long to, List<String> dependsOn) {}

  /** The body of {@code POST /v1/requests}. */
  record RequestBody(String id, String kind, String policy, Integer shards, String priority, List<UnitBody> units,
      Map<String, List<List<Long>>> ranges) {}

  @Override
  public LoopView view() {
    return view;
  }

  private synchronized int running() {
    return (int) requests.values().stream().filter(t -> t.state().equals("running")).count();
  }

  @Override
  public void tick() {
    distinct.forEach(ShardEngine::tick);
  }

  @Override
  public void metrics(MeterRegistry registry) {
    counter(registry, "penumbra.shard.requests", "Requests accepted", EngineStats::requests);
    counter(registry, "penumbra.shard.completed", "Requests finished with every shard's result", EngineStats::completed);
    counter(registry, "penumbra.shard.failed", "Requests given up", EngineStats::failed);
    counter(registry, "penumbra.shard.shards", "Shards generated", EngineStats::shards);
    counter(registry, "penumbra.shard.retries", "Shard attempts retried (failure, timeout, lost backend)",
        EngineStats::retries);
    counter(registry, "penumbra.shard.duplicates", "Shard results dropped because the shard had one",
        EngineStats::duplicates);
    counter(registry, "penumbra.shard.attempts.cancelled", "Shard attempts given up while running (a hedge lost, past "
        + "the last deadline, the request cancelled or failed): reservation released, stopped on their backend",
        EngineStats::cancelled);
    Gauge.builder("penumbra.shard.running", this, c -> c.distinct.stream().mapToInt(ShardEngine::running).sum())
        .description("Shard attempts running now").register(registry);
    Gauge.builder("penumbra.loop.acting.baseline", this, c -> c.distinct.stream()
            .anyMatch(e -> e.loopStats().guard().acting() == ControlLoop.Rule.BASELINE) ? 1 : 0)
        .description("1 while a shard loop acts on its baseline rule (uniform static size), 0 while on Penumbra's")
        .tag("capability", NAME).register(registry);
    if (transport != null) {
      FunctionCounter.builder("penumbra.shard.cancelled", transport, KafkaShardTransport::cancelled)
          .description("Shard attempts Kafka workers stopped on a cancel").register(registry);
    }
  }

  private void counter(MeterRegistry registry, String name, String description, ToLongFunction<EngineStats> f) {
    FunctionCounter.builder(name, this, c -> c.sum(f)).description(description).register(registry);
  }

  @Override
  public void routes(Api api) {
    api.command(HandlerType.POST, "/v1/requests", ctx -> {
      RequestBody b = Json.read(ctx, RequestBody.class, config.server().maxBodyBytes());
      ctx.status(202).json(submit(b));
    });
    api.get("/v1/requests", ctx -> {
      List<Tracked> all;
      synchronized (this) {
        all = new ArrayList<>(requests.values());
      }
      ctx.json(all.reversed().stream().map(this::summary).toList());
    });
    api.get("/v1/requests/{id}", ctx -> {
      Tracked t;
      synchronized (this) {
        t = requests.get(ctx.pathParam("id"));
      }
      if (t == null) {
        throw new ApiException(404, "id", ctx.pathParam("id"), "no request '" + ctx.pathParam("id") + "'");
      }
      ctx.json(detail(t));
    });
    api.command(HandlerType.DELETE, "/v1/requests/{id}", ctx -> ctx.json(cancel(ctx.pathParam("id"))));
    api.get("/v1/shard/pools", ctx -> ctx.json(pools()));
  }

  /**
   * A backend pool as the dashboard shows it.
   *
   * @param id the pool (its ledger node)
   * @param priority the priority whose shards it runs
   * @param workers workers (in-process: threads of the priority's pool; Kafka: worker processes configured)
   * @param workersAlive workers alive now (Kafka: beating; in-process: all while the backend lives)
   * @param utilization share of its workers busy now, in [0, 1]
   * @param alive whether it runs shards now
   */
  record PoolView(String id, String priority, int workers, int workersAlive, double utilization, boolean alive) {}

  /**
   * The shards of one priority.
   *
   * @param priority the priority
   * @param pools the pools that run them
   * @param runningShards shards of its requests running now
   * @param queuedShards shards of its requests not running yet (waiting for their dependencies or a reservation,
   *     or backing off before a retry)
   */
  record PriorityView(String priority, List<PoolView> pools, int runningShards, int queuedShards) {}

  /**
   * A finished shard, predicted against actual.
   *
   * @param id the shard
   * @param predictedP50Millis predicted duration, median
   * @param ranMillis how long its accepted attempt ran
   * @param predictedCpuMillis predicted CPU (millicores)
   * @param reservedCpuMillis what its reservation held
   * @param usedCpuMillis what it was measured to use
   */
  record RecentShard(String id, double predictedP50Millis, double ranMillis, long predictedCpuMillis,
      long reservedCpuMillis, long usedCpuMillis) {}

  /**
   * A recently finished request with its shards.
   *
   * @param id the request
   * @param priority its priority
   * @param policy how it was cut
   * @param latencyMillis from submission to the last shard's result
   * @param shards its shards, predicted against actual
   */
  record RecentRequest(String id, String priority, String policy, double latencyMillis, List<RecentShard> shards) {}

  /**
   * What {@code GET /v1/shard/pools} answers: the pools per priority and the recent requests' shards.
   *
   * @param transport {@code in-process} or {@code kafka}
   * @param priorities every priority, with the pools serving it (none: refused)
   * @param recent up to {@value #RECENT_SHOWN} requests finished last, newest first
   */
  record PoolsView(String transport, List<PriorityView> priorities, List<RecentRequest> recent) {}

  static final int RECENT_SHOWN = 8;

  /** The pools per priority with their workers and load, and the shards of the requests finished last. */
  PoolsView pools() {
    List<Tracked> all;
    synchronized (this) {
      all = new ArrayList<>(requests.values());
    }
    Map<Priority, int[]> counts = new EnumMap<>(Priority.class);
    for (Priority p : Priority.values()) {
      counts.put(p, new int[2]);
    }
    List<RecentRequest> recent = new ArrayList<>();
    for (int i = all.size() - 1; i >= 0; i--) {
      Tracked t = all.get(i);
      RequestResult r = t.result;
      if (r != null) {
        if (recent.size() < RECENT_SHOWN) {
          List<RecentShard> shards = r.shards().stream().map(s -> new RecentShard(s.shard().id(),
              s.predictedP50Millis(), s.ranMillis(), s.predicted().cpuMillis(), s.reserved().cpuMillis(),
              s.used().cpuMillis())).toList();
          recent.add(new RecentRequest(t.request.id(), t.request.priority().label(), t.policy,
              r.latency().toNanos() / 1e6, shards));
        }
      } else if (t.state().equals("running")) {
        int[] c = counts.get(t.request.priority());
        engines.get(t.request.priority()).status(t.request.id()).ifPresent(list -> list.forEach(s -> {
          if (s.state().equals("running")) {
            c[0]++;
          } else if (!s.state().equals("done") && !s.state().equals("failed")) {
            c[1]++;
          }
        }));
      }
    }
    List<PriorityView> priorities = new ArrayList<>();
    for (Priority p : Priority.values()) {
      List<PoolView> pools = new ArrayList<>();
      if (backend != null) {
        int threads = (int) Math.max(1, config.ledger().capacity().cpuMillis() / 1000);
        pools.add(new PoolView(backend.id(), p.label(), threads, backend.alive() ? threads : 0,
            backend.utilization().getOrDefault(p, 0.0), backend.alive()));
      } else {
        List<KafkaShardTransport.WorkerView> seen = transport.workers();
        ShardEngine e = engines.get(p);
        for (ShardConfig.Pool pool : config.shard().pools()) {
          if (pool.priority() != p || e == null) {
            continue;
          }
          int alive = (int) seen.stream().filter(w -> w.pool().equals(pool.id()) && w.alive()).count();
          dev.penumbra.shard.Backend b = e.backends().stream().filter(x -> x.id().equals(pool.id())).findFirst()
              .orElseThrow();
          pools.add(new PoolView(pool.id(), p.label(), pool.workers(), alive, b.utilization().getOrDefault(p, 0.0),
              b.alive()));
        }
      }
      int[] c = counts.get(p);
      priorities.add(new PriorityView(p.label(), pools, c[0], c[1]));
    }
    return new PoolsView(backend != null ? "in-process" : "kafka", priorities, recent);
  }

  /** Cancels a running request: its attempts are stopped on their backends and everything it holds released. */
  RequestSummary cancel(String id) {
    Tracked t;
    synchronized (this) {
      t = requests.get(id);
    }
    if (t == null) {
      throw new ApiException(404, "id", id, "no request '" + id + "'");
    }
    // Marked first: the failure the cancel completes the request with is then shown as "cancelled".
    t.cancelled = true;
    if (!engines.get(t.request.priority()).cancel(id)) {
      t.cancelled = false;
      throw new ApiException(409, "id", id, "request '" + id + "' is " + t.state() + ", not running");
    }
    return summary(t);
  }

  /** Validates, cuts and starts a request; nothing is reserved unless all of it is valid. */
  RequestSummary submit(RequestBody b) throws SQLException {
    if (closed) {
      throw new ApiException(503, null, null, "the shard capability is closed");
    }
    String id = b.id() == null ? "r" + serial.incrementAndGet() : b.id();
    if (!ID.matcher(id).matches()) {
      throw new ApiException(400, "id", id, "field 'id' must be 1-64 of [A-Za-z0-9._-], was '" + id + "'");
    }
    String kind = b.kind() == null ? "synthetic" : b.kind();
    if (!kind.equals("synthetic") && !kind.equals("tpch")) {
      throw new ApiException(400, "kind", kind, "field 'kind' must be synthetic or tpch, was '" + kind + "'");
    }
    String policyText = b.policy() == null ? ShardPolicy.PREDICTED.label() : b.policy();
    ShardPolicy policy;
    try {
      policy = ShardPolicy.parse(policyText);
    } catch (IllegalArgumentException e) {
      throw new ApiException(400, "policy", policyText, "field 'policy': " + e.getMessage());
    }
    int shards = b.shards() == null ? (policy == ShardPolicy.FUNCTIONAL ? 1 : 4) : b.shards();
    if (shards < 1 || shards > MAX_SHARDS) {
      throw new ApiException(400, "shards", String.valueOf(shards),
          "field 'shards' must be in [1, " + MAX_SHARDS + "], was " + shards);
    }
    Priority priority;
    try {
      priority = b.priority() == null ? Priority.STANDARD : Edge.priority(b.priority());
    } catch (IllegalArgumentException e) {
      throw new ApiException(400, "priority", b.priority(), "field 'priority' must be critical, standard or batch");
    }
    List<Unit> units = kind.equals("tpch") ? List.of(tpchUnit()) : units(b.units());
    Map<String, List<KeyRange>> ranges = ranges(b.ranges());
    ShardRequest request;
    try {
      request = new ShardRequest(id, kind, priority, units);
    } catch (IllegalArgumentException e) {
      throw new ApiException(400, "units", String.valueOf(b.units()), e.getMessage());
    }
    Tracked t = new Tracked(request, kind, ranges != null ? "ranges" : policy.label());
    CompletableFuture<RequestResult> f;
    synchronized (this) {
      if (requests.containsKey(id)) {
        throw new ApiException(409, "id", id, "request '" + id + "' exists already");
      }
      ShardEngine engine = engineFor(priority);
      try {
        f = ranges != null ? engine.submit(request, ranges) : engine.submit(request, policy, shards);
      } catch (IllegalArgumentException e) {
        // The engine validates the cut before reserving anything.
        String field = ranges != null ? "ranges" : "shards";
        throw new ApiException(400, field, ranges != null ? String.valueOf(b.ranges()) : String.valueOf(shards),
            "field '" + field + "': " + e.getMessage());
      }
      requests.put(id, t);
      while (requests.size() > RECENT) {
        Map.Entry<String, Tracked> oldest = requests.entrySet().iterator().next();
        if (oldest.getValue().state().equals("running")) {
          break;
        }
        requests.remove(oldest.getKey());
      }
    }
    f.whenComplete((r, ex) -> {
      try {
        finished(t, r, ex);
      } finally {
        t.ended.complete(null);
        view.changed();
      }
    });
    return summary(t);
  }

  private List<Unit> units(List<UnitBody> in) {
    if (in == null || in.isEmpty()) {
      throw new ApiException(400, "units", in == null ? "null" : "[]",
          "field 'units' must hold at least one unit: the request is empty");
    }
    if (in.size() > MAX_UNITS) {
      throw new ApiException(400, "units", in.size() + " units", "field 'units' must hold at most " + MAX_UNITS);
    }
    List<Unit> out = new ArrayList<>();
    long keys = 0;
    for (int i = 0; i < in.size(); i++) {
      UnitBody u = in.get(i);
      String f = "units[" + i + "]";
      if (u == null) {
        throw new ApiException(400, f, "null", "field '" + f + "' must be an object");
      }
      String name = u.name() == null ? "u" + i : u.name();
      if (!ID.matcher(name).matches()) {
        throw new ApiException(400, f + ".name", name, "field '" + f + ".name' must be 1-64 of [A-Za-z0-9._-]");
      }
      long from = u.from() == null ? 0 : u.from();
      if (u.to() == null || u.to() <= from) {
        throw new ApiException(400, f + ".to", String.valueOf(u.to()),
            "field '" + f + ".to' must be greater than from (" + from + "), was " + u.to());
      }
      // Saturating: from = Long.MIN_VALUE, to = Long.MAX_VALUE overflowed into a negative span (a 500).
      long span = u.to() - from < 0 ? Long.MAX_VALUE : u.to() - from;
      keys = keys > Long.MAX_VALUE - span ? Long.MAX_VALUE : keys + span;
      if (span > MAX_KEYS || keys > MAX_KEYS) {
        throw new ApiException(400, f + ".to", String.valueOf(u.to()),
            "a request may hold at most " + MAX_KEYS + " keys in all; units up to " + f + " hold " + keys);
      }
      Unit unit = Unit.of(name, ShardFunctions.KEY_SUM, KeyRange.of(from, u.to()));
      for (int k = 0; u.dependsOn() != null && k < u.dependsOn().size(); k++) {
        if (u.dependsOn().get(k) == null) { // not contains(null): immutable lists throw on it
          throw new ApiException(400, f + ".dependsOn[" + k + "]", "null",
              "field '" + f + ".dependsOn[" + k + "]' must be the name of another unit, was null");
        }
      }
      if (u.dependsOn() != null && !u.dependsOn().isEmpty()) {
        unit = unit.after(u.dependsOn().toArray(String[]::new));
      }
      out.add(unit);
    }
    // Dependencies name units of this request, named here with their path (the request's own check names no field).
    java.util.Set<String> names = new java.util.HashSet<>();
    out.forEach(unit -> names.add(unit.name()));
    for (int i = 0; i < in.size(); i++) {
      List<String> deps = in.get(i).dependsOn();
      for (int k = 0; deps != null && k < deps.size(); k++) {
        if (!names.contains(deps.get(k))) {
          String f = "units[" + i + "].dependsOn[" + k + "]";
          throw new ApiException(400, f, deps.get(k), "field '" + f + "' names no unit of this request (units: "
              + names + ")");
        }
      }
    }
    return out;
  }

  private Map<String, List<KeyRange>> ranges(Map<String, List<List<Long>>> in) {
    if (in == null) {
      return null;
    }
    Map<String, List<KeyRange>> out = new LinkedHashMap<>();
    for (Map.Entry<String, List<List<Long>>> e : in.entrySet()) {
      String f = "ranges." + e.getKey();
      if (e.getValue() == null || e.getValue().isEmpty()) {
        throw new ApiException(400, f, "[]", "field '" + f + "' holds zero shards");
      }
      List<KeyRange> rs = new ArrayList<>();
      for (List<Long> r : e.getValue()) {
        if (r == null || r.size() != 2 || r.get(0) == null || r.get(1) == null || r.get(1) <= r.get(0)) {
          throw new ApiException(400, f, String.valueOf(r),
              "field '" + f + "' must hold [from, to) pairs with to > from, was " + r);
        }
        rs.add(KeyRange.of(r.get(0), r.get(1)));
      }
      if (rs.size() > MAX_SHARDS) {
        throw new ApiException(400, f, rs.size() + " ranges", "field '" + f + "' may hold at most " + MAX_SHARDS);
      }
      out.put(e.getKey(), rs);
    }
    return out;
  }

  /** TPC-H's lineitem by order key, on the query capability's database (opened read-only on first use). */
  private Unit tpchUnit() throws SQLException {
    openTpch();
    return Unit.of(TPCH_UNIT, TPCH_FUNCTION, KeyRange.of(0, tpchKeys));
  }

  private synchronized void openTpch() throws SQLException {
    if (tpch != null) {
      return;
    }
    ServerConfig.Query q = config.query();
    Path file = QueryGateway.databaseFile(q.cacheDirPath().orElse(QueryGateway.defaultCacheDir()), q.scale(), 42);
    if (!q.enabled() || !Files.isRegularFile(file)) {
      throw new ApiException(503, "kind", "tpch",
          "the TPC-H database is not ready (the query capability prepares it: " + file + ")");
    }
    long max;
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = c.createStatement()) {
      s.execute("ATTACH '" + file.toString().replace("'", "''") + "' AS db (READ_ONLY)");
      try (ResultSet rs = s.executeQuery("SELECT max(l_orderkey) FROM db.lineitem")) {
        rs.next();
        max = rs.getLong(1);
      }
    }
    tpch = new SqlShardFunction(file.toString(), TPCH_Q1_SUMS, "l_orderkey", 1);
    tpchKeys = max + 1;
  }

  /** The function name of TPC-H shards. */
  static final String TPCH_FUNCTION = "tpch-q1-sums";

  /** TPC-H Q1's aggregates as mergeable sums and counts over a shard's order keys. */
  static final String TPCH_Q1_SUMS = "SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty,"
      + " sum(l_extendedprice) AS sum_base_price, sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,"
      + " sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge, count(*) AS count_order"
      + " FROM lineitem WHERE {keys} GROUP BY l_returnflag, l_linestatus";

  private void finished(Tracked t, RequestResult r, Throwable ex) {
    if (ex != null) {
      Throwable cause = ex.getCause() != null ? ex.getCause() : ex;
      t.error = cause.getMessage();
      return;
    }
    try {
      if (t.kind.equals("tpch")) {
        List<List<List<Object>>> parts = new ArrayList<>();
        for (ShardReport s : r.shards()) {
          @SuppressWarnings("unchecked")
          List<List<Object>> rows = (List<List<Object>>) s.value();
          parts.add(rows);
        }
        t.answer = SqlShardFunction.merge(parts, 2);
      } else {
        t.answer = r.shards().stream().mapToLong(s -> ((Number) s.value()).longValue()).sum();
      }
    } catch (RuntimeException e) {
      t.error = "merging the partial results failed: " + e.getMessage();
      return;
    }
    for (ShardReport s : r.shards()) {
      timeline.add(new Timeline.Sample(System.currentTimeMillis(), s.shard().id(), s.predicted().cpuMillis(),
          s.reserved().cpuMillis(), s.used().cpuMillis(), 1000));
    }
    t.result = r;
  }

  /**
   * A request as {@code POST}/{@code DELETE /v1/requests} answer and {@code GET /v1/requests} lists it: its
   * result's figures once it finished, its error if it failed.
   */
  record RequestSummary(String id, String kind, String policy, String priority, long keys, String state,
      long submittedMillis, @JsonInclude(JsonInclude.Include.NON_NULL) Integer shards,
      @JsonInclude(JsonInclude.Include.NON_NULL) Double latencyMillis,
      @JsonInclude(JsonInclude.Include.NON_NULL) Double stragglerRatio,
      @JsonInclude(JsonInclude.Include.NON_NULL) String error) {}

  /**
   * {@code GET /v1/requests/{id}}: the summary, its shards, and once it finished the merged answer (JSON null
   * when there is none).
   */
  record RequestDetail(String id, String kind, String policy, String priority, long keys, String state,
      long submittedMillis, @JsonInclude(JsonInclude.Include.NON_NULL) Integer shards,
      @JsonInclude(JsonInclude.Include.NON_NULL) Double latencyMillis,
      @JsonInclude(JsonInclude.Include.NON_NULL) Double stragglerRatio,
      @JsonInclude(JsonInclude.Include.NON_NULL) String error, List<ShardJson> shardList,
      @JsonInclude(JsonInclude.Include.NON_NULL) JsonNode answer) {}

  /**
   * One shard of a request: the demand predicted and the amount reserved once known, the backend once placed;
   * a finished shard adds its run time and CPU used, a running one its reservation.
   */
  record ShardJson(String id, String unit, String subset, long keys, String state, int attempts,
      double predictedP50Millis, double predictedP99Millis,
      @JsonInclude(JsonInclude.Include.NON_NULL) Long predictedCpuMillis,
      @JsonInclude(JsonInclude.Include.NON_NULL) Long predictedMemoryBytes,
      @JsonInclude(JsonInclude.Include.NON_NULL) String backend,
      @JsonInclude(JsonInclude.Include.NON_NULL) Long reservedCpuMillis,
      @JsonInclude(JsonInclude.Include.NON_NULL) Long reservedMemoryBytes,
      @JsonInclude(JsonInclude.Include.NON_NULL) Double ranMillis,
      @JsonInclude(JsonInclude.Include.NON_NULL) Long usedCpuMillis,
      @JsonInclude(JsonInclude.Include.NON_NULL) Long reservationId) {}

  private RequestSummary summary(Tracked t) {
    RequestResult r = t.result;
    return new RequestSummary(t.request.id(), t.kind, t.policy, t.request.priority().label(), t.request.keys(),
        t.state(), t.submittedMillis, r == null ? null : r.shards().size(),
        r == null ? null : r.latency().toNanos() / 1e6, r == null ? null : r.stragglerRatio(), t.error);
  }

  private RequestDetail detail(Tracked t) {
    RequestSummary n = summary(t);
    List<ShardJson> shards = new ArrayList<>();
    RequestResult r = t.result;
    JsonNode answer = null;
    if (r != null) {
      for (ShardReport s : r.shards()) {
        shards.add(shard(s.shard(), "done", s.attempts(), s.predictedP50Millis(), s.predictedP99Millis(),
            s.predicted(), s.backend(), s.reserved(), s.ranMillis(), s.used().cpuMillis(), null));
      }
      answer = Json.MAPPER.valueToTree(t.answer);
      if (answer == null) {
        answer = NullNode.getInstance();
      }
    } else {
      engines.get(t.request.priority()).status(t.request.id()).ifPresent(list -> list.forEach(s ->
          shards.add(shard(s.shard(), s.state(), s.attempts(), s.predictedP50Millis(), s.predictedP99Millis(),
              s.demand(), s.backend(), s.reserved(), null, null, s.reservationId() >= 0 ? s.reservationId() : null))));
    }
    return new RequestDetail(n.id(), n.kind(), n.policy(), n.priority(), n.keys(), n.state(), n.submittedMillis(),
        n.shards(), n.latencyMillis(), n.stragglerRatio(), n.error(), shards, answer);
  }

  private static ShardJson shard(Shard s, String state, int attempts, double p50, double p99, Resources predicted,
      String backend, Resources reserved, Double ranMillis, Long usedCpuMillis, Long reservationId) {
    return new ShardJson(s.id(), s.unit(), s.subset().toString(), s.keys(), state, attempts, p50, p99,
        predicted == null ? null : predicted.cpuMillis(), predicted == null ? null : predicted.memoryBytes(), backend,
        reserved == null ? null : reserved.cpuMillis(), reserved == null ? null : reserved.memoryBytes(), ranMillis,
        usedCpuMillis, reservationId);
  }

  /** Submits one synthetic request of two dependent stages and waits for it. */
  @Override
  public void demoStep(Random random) throws Exception {
    long keys = 200 + random.nextInt(800);
    List<UnitBody> units = List.of(new UnitBody("scan", 0L, keys, null),
        new UnitBody("merge", keys, keys + keys / 4, List.of("scan")));
    RequestSummary s;
    try {
      s = submit(new RequestBody(null, "synthetic", "predicted", 4, "batch", units, null));
    } catch (ApiException e) {
      if (e.status() == 503) {
        return;
      }
      throw e;
    }
    Tracked t;
    synchronized (this) {
      t = requests.get(s.id());
    }
    if (t != null) {
      try {
        t.ended.get(30, TimeUnit.SECONDS);
      } catch (TimeoutException | ExecutionException e) {
        // The demo moves on; the request goes on (or has failed) on its own.
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    distinct.forEach(ShardEngine::close);
    workers.forEach(ShardWorkerProcess::close);
    if (transport != null) {
      transport.close();
    }
    if (backend != null) {
      backend.close();
    }
    history.close();
    SqlShardFunction f = tpch;
    if (f != null) {
      try {
        f.close();
      } catch (SQLException e) {
        // Closing a read-only instance: nothing to lose.
      }
    }
  }
}
