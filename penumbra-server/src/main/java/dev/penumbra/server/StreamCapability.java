package dev.penumbra.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.loop.ControlLoop;
import dev.penumbra.core.loop.LoopStats;
import dev.penumbra.stream.EmbeddedStream;
import dev.penumbra.stream.HorizonPlan;
import dev.penumbra.stream.PartitionPlan;
import dev.penumbra.stream.PartitionStats;
import dev.penumbra.stream.PlannerConfig;
import dev.penumbra.stream.RecordProcessor;
import dev.penumbra.stream.Sampling;
import dev.penumbra.stream.Shadow;
import dev.penumbra.stream.ShadowStats;
import dev.penumbra.stream.StreamController;
import dev.penumbra.stream.StreamPlanner;
import dev.penumbra.stream.StreamRecord;
import io.javalin.http.HandlerType;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Named streams on the embedded partitioned runtime: each with a sampled shadow, a per-partition planner and a
 * controller that reserves every partition's workers on the server's ledger once per interval. Records are
 * processed by a CPU-bound function whose cost grows with the record's size, the same for primary and shadow.
 * Timeline (CPU cores, per stream and interval): predicted = the previous tick's first-horizon point rate x
 * measured cost,
 * reserved = what the partitions hold in the ledger, actual = the workers' busy time / the interval, baseline =
 * a static pool of whole workers (one core each, as the controller reserves them) sized for the highest actual
 * use seen so far, at least one per partition.
 *
 * <p>Over 500 lines: the routes, the per-interval ticker and the plan/dashboard JSON all work on the streams'
 * handles and their one lock.
 */
final class StreamCapability implements Capability {
  static final String NAME = "stream";
  static final String DEMO_STREAM = "demo";
  private static final Logger LOG = LoggerFactory.getLogger(StreamCapability.class);
  private static final Pattern NAME_PATTERN = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  static final int MAX_PARTITIONS = 16;
  static final int MAX_BATCH = 10_000;
  private static final int MAX_VALUE_CHARS = 4096;

  private final Ledger ledger;
  private final ServerConfig config;
  private final Map<String, Handle> streams = new LinkedHashMap<>();
  private final Timeline timeline = new Timeline("cpu", "cores", 600);
  private final ErrorTracker errors = new ErrorTracker();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final ScheduledExecutorService ticker;
  private volatile boolean closed;
  private volatile Counter produced;
  private double peakActual;
  private long shadowNanos;
  private long primaryNanos;

  StreamCapability(Ledger ledger, ServerConfig config, Consumer<String> progress) {
    this.ledger = ledger;
    this.config = config;
    this.ticker = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("stream-ticker")
        .unstarted(r));
    long ms = config.stream().interval().toMillis();
    ticker.scheduleAtFixedRate(this::tickAll, ms, ms, TimeUnit.MILLISECONDS);
  }

  /** One stream: the runtime, its shadow and the controller that plans and reserves for it. */
  private static final class Handle {
    final String name;
    final double sampleRate;
    final EmbeddedStream stream;
    final Shadow shadow;
    final StreamController controller;
    final long created = System.currentTimeMillis();
    long lastMillis = System.nanoTime();
    final long[] lastBusy;
    final long[] lastShadowCpu;
    /** What the previous tick predicted for the interval now ending (NaN before the first tick). */
    double prevPredicted = Double.NaN;
    double prevUpper = Double.NaN;

    Handle(String name, double sampleRate, EmbeddedStream stream, Shadow shadow, StreamController controller) {
      this.name = name;
      this.sampleRate = sampleRate;
      this.stream = stream;
      this.shadow = shadow;
      this.controller = controller;
      this.lastBusy = new long[stream.partitions()];
      this.lastShadowCpu = new long[stream.partitions()];
    }
  }

  /** The body of {@code POST /v1/streams}. */
  record CreateBody(String name, Integer partitions, Double sampleRate) {}

  /** One record of {@code POST /v1/streams/{name}/records}; no partition: by the key's hash. */
  record RecordBody(Integer partition, String key, String value) {}

  /** The body of {@code POST /v1/streams/{name}/records}. */
  record ProduceBody(List<RecordBody> records) {}

  /**
   * The processing function: hashes the value's bytes, more rounds for longer values, so CPU per record is
   * real and varies with the record. Primary and shadow run it alike.
   */
  static final RecordProcessor PROCESSOR = record -> {
    byte[] v = record.value();
    long h = 1125899906842597L;
    int rounds = 200 + v.length * 4;
    for (int i = 0; i < rounds; i++) {
      h = 31 * h + (v.length == 0 ? i : v[i % v.length]);
      h ^= h >>> 17;
    }
    if (h == 42) {
      // Never in practice; keeps the loop from being optimised away.
      Thread.onSpinWait();
    }
  };

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean ready() {
    return !closed;
  }

  @Override
  public int inFlight() {
    return inFlight.get();
  }

  @Override
  public synchronized int queued() {
    long backlog = 0;
    for (Handle h : streams.values()) {
      for (int p = 0; p < h.stream.partitions(); p++) {
        backlog += h.stream.backlog(p);
      }
    }
    return (int) Math.min(Integer.MAX_VALUE, backlog);
  }

  @Override
  public java.util.Optional<com.fasterxml.jackson.databind.JsonNode> learned() {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.set("errors", Json.MAPPER.valueToTree(errors.export()));
    return java.util.Optional.of(n);
  }

  @Override
  public void restoreLearned(com.fasterxml.jackson.databind.JsonNode saved) {
    errors.restore(Json.convert(saved.path("errors"),
        new com.fasterxml.jackson.core.type.TypeReference<java.util.List<ErrorTracker.Scores>>() {}, "stream errors"));
  }

  @Override
  public ErrorTracker errors() {
    return errors;
  }

  @Override
  public Timeline timeline() {
    return timeline;
  }

  @Override
  public synchronized double shadowOverhead() {
    return primaryNanos == 0 ? Double.NaN : (double) shadowNanos / primaryNanos;
  }

  @Override
  public void metrics(MeterRegistry registry) {
    produced = Counter.builder("penumbra.stream.records").description("Records produced to streams")
        .register(registry);
    Gauge.builder("penumbra.stream.streams", this, c -> c.count()).description("Streams that exist")
        .register(registry);
    Gauge.builder("penumbra.stream.workers", this, c -> c.workers()).description("Workers across every partition")
        .register(registry);
    Gauge.builder("penumbra.stream.shortfalls", this, c -> c.shortfalls())
        .description("Ticks where a partition could not grow its reservation").register(registry);
    Gauge.builder("penumbra.stream.guard.baseline.acting", this, c -> c.baselineActing())
        .description("Streams whose loop lets the reactive baseline size the partitions now").register(registry);
  }

  private synchronized double count() {
    return streams.size();
  }

  private synchronized double workers() {
    double n = 0;
    for (Handle h : streams.values()) {
      for (int p = 0; p < h.stream.partitions(); p++) {
        n += h.stream.workers(p);
      }
    }
    return n;
  }

  private synchronized double baselineActing() {
    double n = 0;
    for (Handle h : streams.values()) {
      n += h.controller.stats().guard().acting() == ControlLoop.Rule.BASELINE ? 1 : 0;
    }
    return n;
  }

  private synchronized double shortfalls() {
    double n = 0;
    for (Handle h : streams.values()) {
      n += h.controller.shortfalls();
    }
    return n;
  }

  @Override
  public void routes(Api api) {
    api.command(HandlerType.POST, "/v1/streams", ctx -> {
      CreateBody b = Json.read(ctx, CreateBody.class, config.server().maxBodyBytes());
      ctx.status(201).json(describe(create(b)));
    });
    api.get("/v1/streams", ctx -> {
      ArrayNode arr = Json.MAPPER.createArrayNode();
      for (Handle h : handles()) {
        arr.add(describe(h));
      }
      ctx.json(arr);
    });
    api.command(HandlerType.POST, "/v1/streams/{name}/records", ctx -> {
      // The body is checked first: a malformed request is 400 whichever stream it names.
      ProduceBody b = Json.read(ctx, ProduceBody.class, config.server().maxBodyBytes());
      Handle h = handle(ctx.pathParam("name"));
      int n = produce(h, b);
      ObjectNode o = Json.MAPPER.createObjectNode();
      o.put("stream", h.name);
      o.put("accepted", n);
      ctx.status(202).json(o);
    });
    api.get("/v1/streams/{name}/plan", ctx -> ctx.json(plan(handle(ctx.pathParam("name")))));
    api.command(HandlerType.DELETE, "/v1/streams/{name}", ctx -> {
      int released = delete(ctx.pathParam("name"));
      ObjectNode o = Json.MAPPER.createObjectNode();
      o.put("stream", ctx.pathParam("name"));
      o.put("deleted", true);
      o.put("released", released);
      ctx.json(o);
    });
  }

  private synchronized List<Handle> handles() {
    return List.copyOf(streams.values());
  }

  private synchronized Handle handle(String name) {
    Handle h = streams.get(name);
    if (h == null) {
      throw new ApiException(404, "name", name, "no stream '" + name + "' (known: " + streams.keySet() + ")");
    }
    return h;
  }

  /** Validates the body and creates the stream, its shadow and its controller. */
  Handle create(CreateBody b) {
    if (b.name() == null || !NAME_PATTERN.matcher(b.name()).matches()) {
      throw new ApiException(400, "name", String.valueOf(b.name()),
          "field 'name' must be 1-64 of [A-Za-z0-9._-], was '" + b.name() + "'");
    }
    int partitions = b.partitions() == null ? 1 : b.partitions();
    if (partitions < 1 || partitions > MAX_PARTITIONS) {
      throw new ApiException(400, "partitions", String.valueOf(partitions),
          "field 'partitions' must be in [1, " + MAX_PARTITIONS + "], was " + partitions);
    }
    double rate = b.sampleRate() == null ? 0.1 : b.sampleRate();
    if (!(rate > 0) || rate > 1) {
      throw new ApiException(400, "sampleRate", String.valueOf(rate),
          "field 'sampleRate' must be in (0, 1], was " + rate);
    }
    synchronized (this) {
      if (closed) {
        throw new ApiException(503, null, null, "the stream capability is closed");
      }
      if (streams.containsKey(b.name())) {
        throw new ApiException(409, "name", b.name(), "stream '" + b.name() + "' already exists");
      }
      if (streams.size() >= config.stream().maxStreams()) {
        throw new ApiException(409, "name", b.name(), "at most " + config.stream().maxStreams()
            + " streams may exist (stream.maxStreams)");
      }
      Sampling sampling = Sampling.everyNth(rate);
      Shadow shadow = Shadow.start(b.name(), PROCESSOR, 10_000);
      EmbeddedStream stream = EmbeddedStream.builder(partitions, PROCESSOR).initialWorkers(1).maxWorkers(8)
          .queueCapacity(4096).shadow(sampling, shadow).build();
      // Memory per worker is small: the processing function keeps nothing; CPU is what it needs.
      PlannerConfig pc = new PlannerConfig(config.stream().interval(), List.of(config.stream().interval()
          .multipliedBy(5), config.stream().interval().multipliedBy(60)), config.stream().interval().multipliedBy(5),
          dev.penumbra.core.Priority.STANDARD, 0.8, 1, 8, 8L << 20, 1e-4, 10);
      StreamController controller = StreamController.builder(new StreamPlanner(pc), stream, shadow, sampling)
          .name("stream/" + b.name()).clock(Clock.systemUTC()).ledger(ledger, config.ledger().node()).build();
      Handle h = new Handle(b.name(), rate, stream, shadow, controller);
      for (int p = 0; p < partitions; p++) {
        h.lastBusy[p] = stream.stats(p).busyNanos();
      }
      streams.put(b.name(), h);
      return h;
    }
  }

  /** Validates every record first (nothing is submitted when one is bad), then submits the batch. */
  int produce(Handle h, ProduceBody b) throws InterruptedException {
    if (b.records() == null || b.records().isEmpty()) {
      throw new ApiException(400, "records", String.valueOf(b.records()), "field 'records' must be a non-empty list");
    }
    if (b.records().size() > MAX_BATCH) {
      throw new ApiException(400, "records", b.records().size() + " records", "field 'records' may hold at most "
          + MAX_BATCH + " records");
    }
    int parts = h.stream.partitions();
    List<StreamRecord> batch = new ArrayList<>(b.records().size());
    for (int i = 0; i < b.records().size(); i++) {
      RecordBody r = b.records().get(i);
      if (r == null) {
        throw new ApiException(400, "records[" + i + "]", "null", "records[" + i + "] must be an object");
      }
      if (r.value() == null || r.value().length() > MAX_VALUE_CHARS) {
        throw new ApiException(400, "records[" + i + "].value", String.valueOf(r.value()), "field 'records[" + i
            + "].value' must be a string of at most " + MAX_VALUE_CHARS + " characters");
      }
      int p;
      if (r.partition() != null) {
        p = r.partition();
        if (p < 0 || p >= parts) {
          throw new ApiException(400, "records[" + i + "].partition", Integer.toString(p), "field 'records[" + i
              + "].partition' must be in [0, " + (parts - 1) + "] for stream '" + h.name + "', was " + p);
        }
      } else {
        p = r.key() == null ? i % parts : Math.floorMod(r.key().hashCode(), parts);
      }
      batch.add(new StreamRecord(p, r.key(), r.value().getBytes(StandardCharsets.UTF_8)));
    }
    inFlight.incrementAndGet();
    try {
      for (StreamRecord rec : batch) {
        if (closed) {
          throw new ApiException(503, null, null, "the stream capability is closed");
        }
        h.stream.submit(rec);
      }
    } finally {
      inFlight.decrementAndGet();
    }
    Counter c = produced;
    if (c != null) {
      c.increment(batch.size());
    }
    return batch.size();
  }

  /** Observes, plans, reserves and scales every stream; records one timeline sample per stream. */
  synchronized void tickAll() {
    if (closed) {
      return;
    }
    for (Handle h : streams.values()) {
      try {
        tick(h);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        LOG.warn("stream {} tick failed: {}", h.name, e.toString());
      }
    }
  }

  private void tick(Handle h) throws InterruptedException {
    Map<Integer, PartitionPlan> plans = h.controller.tick();
    long now = System.nanoTime();
    double seconds = Math.max(1e-3, (now - h.lastMillis) / 1e9);
    h.lastMillis = now;
    double predicted = 0;
    double upper = 0;
    double reserved = 0;
    double actual = 0;
    for (PartitionPlan plan : plans.values()) {
      int p = plan.partition();
      HorizonPlan first = plan.horizons().get(0);
      predicted += first.ratePoint() * plan.costSecondsPerRecord();
      upper += first.rateUpper() * plan.costSecondsPerRecord();
      reserved += h.controller.reserved(p).map(r -> r.amount().cpuMillis() / 1000.0).orElse(0.0);
      PartitionStats st = h.stream.stats(p);
      long busy = st.busyNanos() - h.lastBusy[p];
      h.lastBusy[p] = st.busyNanos();
      actual += busy / 1e9 / seconds;
      ShadowStats sh = h.shadow.stats(p);
      long shadowCpu = sh.cpuNanos() - h.lastShadowCpu[p];
      h.lastShadowCpu[p] = sh.cpuNanos();
      shadowNanos += shadowCpu;
      primaryNanos += busy;
    }
    peakActual = Math.max(peakActual, actual);
    // A prediction is compared with the interval it was made for: the one ending at the next tick.
    if (!plans.isEmpty() && !Double.isNaN(h.prevPredicted)) {
      errors.record("stream/cpu", h.prevPredicted, h.prevUpper, actual);
      // Static provisioning runs whole workers too: one per partition at least, enough for the peak so far.
      double baseline = Math.max(plans.size(), Math.ceil(peakActual));
      timeline.add(new Timeline.Sample(System.currentTimeMillis(), h.name, h.prevPredicted, reserved, actual,
          baseline));
    }
    h.prevPredicted = predicted;
    h.prevUpper = upper;
  }

  private ObjectNode describe(Handle h) {
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("name", h.name);
    o.put("partitions", h.stream.partitions());
    o.put("sampleRate", h.sampleRate);
    o.put("created", h.created);
    ArrayNode parts = o.putArray("partitionStats");
    for (int p = 0; p < h.stream.partitions(); p++) {
      PartitionStats st = h.stream.stats(p);
      ObjectNode n = parts.addObject();
      n.put("partition", p);
      n.put("workers", st.workers());
      n.put("submitted", st.submitted());
      n.put("processed", st.processed());
      n.put("backlog", st.backlog());
      n.put("sampled", st.sampled());
    }
    return o;
  }

  private ObjectNode plan(Handle h) {
    Map<Integer, PartitionPlan> plans;
    synchronized (this) {
      plans = h.controller.lastPlan();
    }
    ObjectNode o = Json.MAPPER.createObjectNode();
    o.put("stream", h.name);
    o.put("interval", config.stream().interval().toString());
    o.put("scalings", h.controller.scalings());
    o.put("shortfalls", h.controller.shortfalls());
    LoopStats ls = h.controller.stats();
    ObjectNode guard = o.putObject("guard");
    guard.put("acting", ls.guard().acting().label());
    guard.put("baseline", ls.guard().baseline());
    Json.num(guard, "penumbraCost", ls.guard().penumbraCost());
    Json.num(guard, "baselineCost", ls.guard().baselineCost());
    guard.put("switches", ls.guard().switches());
    Json.num(o, "reservedPerUsed", ls.cpuReservedPerUsed());
    Json.num(o, "shadowShare", h.controller.shadowShare());
    Json.num(o, "shadowBudget", h.controller.shadowBudget());
    ArrayNode arr = o.putArray("partitions");
    for (int p = 0; p < h.stream.partitions(); p++) {
      ObjectNode n = arr.addObject();
      n.put("partition", p);
      n.put("workers", h.stream.workers(p));
      n.put("backlog", h.stream.backlog(p));
      PartitionPlan plan = plans.get(p);
      if (plan != null) {
        n.put("plannedWorkers", plan.workers());
        n.put("model", plan.model());
        n.put("lowConfidence", plan.lowConfidence());
        Json.num(n, "costSecondsPerRecord", plan.costSecondsPerRecord());
        ArrayNode hs = n.putArray("horizons");
        for (HorizonPlan hp : plan.horizons()) {
          ObjectNode x = hs.addObject();
          x.put("horizon", hp.horizon().toString());
          Json.num(x, "ratePoint", hp.ratePoint());
          Json.num(x, "rateUpper", hp.rateUpper());
          x.put("workers", hp.workers());
          x.set("resources", Json.resources(hp.resources()));
        }
      } else {
        n.putNull("plannedWorkers");
      }
      h.controller.reserved(p).ifPresent(r -> n.set("reservation", Json.reservation(r)));
    }
    return o;
  }

  /**
   * Produces one batch to the demo stream (created on first use): the rate follows a compressed day (one
   * period every two minutes, a night trough and a day peak) with occasional bursts, so the planner sees a
   * seasonal series with spikes. The batch is what that rate gives over the demo's pause.
   */
  @Override
  public void demoStep(Random random) throws Exception {
    Handle h;
    synchronized (this) {
      h = streams.get(DEMO_STREAM);
    }
    if (h == null) {
      try {
        // Each partition holds at least one core (a worker); a small node keeps cores for queries and tasks.
        int partitions = config.ledger().capacity().cpuMillis() >= 6000 ? 2 : 1;
        h = create(new CreateBody(DEMO_STREAM, partitions, 0.1));
      } catch (ApiException e) {
        if (e.status() != 409) {
          throw e;
        }
        h = handle(DEMO_STREAM);
      }
    }
    double rate = demoRate(System.currentTimeMillis(), random);
    double seconds = Math.max(0.05, config.demo().pause().toMillis() / 1000.0);
    int n = (int) Math.max(1, Math.round(rate * seconds / config.demo().clients()));
    List<RecordBody> batch = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String key = "user-" + random.nextInt(500);
      batch.add(new RecordBody(null, key, "x".repeat(16 + random.nextInt(240))));
    }
    try {
      produce(h, new ProduceBody(batch));
    } catch (ApiException e) {
      if (e.status() != 503) {
        throw e;
      }
    }
  }

  /** Records per second at {@code millis}: 40 at night to 400 at midday of a 2-minute day, bursts x3. */
  static double demoRate(long millis, Random random) {
    double phase = (millis % 120_000) / 120_000.0;
    double day = 220 - 180 * Math.cos(2 * Math.PI * phase);
    return random.nextDouble() < 0.05 ? day * 3 : day;
  }

  @Override
  public void close() {
    List<Handle> all;
    synchronized (this) {
      closed = true;
      all = List.copyOf(streams.values());
      streams.clear();
    }
    ticker.shutdownNow();
    for (Handle h : all) {
      h.stream.close();
      h.shadow.close();
      h.controller.close();
    }
  }

  @Override
  public synchronized List<LoopStats> loops() {
    List<LoopStats> out = new ArrayList<>();
    for (Handle h : streams.values()) {
      out.add(h.controller.stats());
    }
    return out;
  }

  /**
   * Stops a stream and gives back what it holds (its loop releases every partition's grant); returns how many
   * reservations were live. Under the capability's lock, so no tick renews a reservation of a stream being deleted.
   */
  synchronized int delete(String name) {
    Handle h = handle(name);
    streams.remove(name);
    int live = 0;
    for (int p = 0; p < h.stream.partitions(); p++) {
      if (h.controller.reserved(p).map(Reservation::isLive).orElse(false)) {
        live++;
      }
    }
    h.stream.close();
    h.shadow.close();
    h.controller.close();
    return live;
  }
}
