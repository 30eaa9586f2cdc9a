package dev.penumbra.server;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.loop.ControlLoop;
import dev.penumbra.core.loop.LoopStats;
import dev.penumbra.stream.EmbeddedStream;
import dev.penumbra.stream.PlannerConfig;
import dev.penumbra.stream.RecordProcessor;
import dev.penumbra.stream.Sampling;
import dev.penumbra.stream.Shadow;
import dev.penumbra.stream.StreamController;
import dev.penumbra.stream.StreamPlanner;
import dev.penumbra.stream.StreamRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stream capability: named streams on the embedded partitioned runtime ({@link StreamHandle}), each with a
 * sampled shadow and a controller that reserves every partition's CPU on the server's ledger once per interval;
 * the routes are {@link StreamRoutes}, the demo's producer {@link StreamDemo}. Records are processed by a
 * CPU-bound function whose cost grows with the record's size, the same for primary and shadow.
 *
 * <p>Timeline (CPU cores, per stream and interval): predicted = the previous tick's first-horizon point rate x
 * measured cost, reserved = what the partitions hold in the ledger, actual = the workers' busy time / the
 * interval, baseline = what the stream loop's reactive rule (DS2 style, the rule its guard weighs) would hold.
 */
final class StreamCapability implements Capability, Capability.Learning {
  static final String NAME = "stream";
  private static final Logger LOG = LoggerFactory.getLogger(StreamCapability.class);

  private final Ledger ledger;
  private final ServerConfig config;
  private final Map<String, StreamHandle> streams = new LinkedHashMap<>();
  private final Timeline timeline = new Timeline("cpu", "cores", 600);
  private final ErrorTracker errors = new ErrorTracker();
  private final AtomicInteger inFlight = new AtomicInteger();
  /** Where accepted streams are kept across restarts; null without server.dataDir. */
  private final StreamStore store;
  private final ScheduledExecutorService ticker;
  private volatile boolean closed;
  private volatile Counter produced;
  private long shadowNanos;
  private long primaryNanos;
  private final LoopView view = LoopView.of(NAME, timeline).ready(() -> !closed).inFlight(inFlight::get)
      .queued(this::backlog).errors(errors).shadowOverhead(this::shadowShare).loops(this::controllerStats).build();

  StreamCapability(Ledger ledger, ServerConfig config, Consumer<String> progress) {
    this.ledger = ledger;
    this.config = config;
    // The streams an earlier run accepted come back first (a bad file stops the start, naming the field).
    this.store = StreamStore.of(config);
    List<StreamStore.Definition> saved = store == null ? List.of() : store.load(config.stream().maxStreams());
    for (StreamStore.Definition d : saved) {
      streams.put(d.name(), handleFor(d));
    }
    if (!saved.isEmpty()) {
      progress.accept("restored " + saved.size() + " streams " + streams.keySet());
    }
    this.ticker = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().name("stream-ticker")
        .unstarted(r));
    long ms = config.stream().interval().toMillis();
    ticker.scheduleAtFixedRate(this::tickAll, ms, ms, TimeUnit.MILLISECONDS);
  }

  /**
   * The processing function: hashes the value's bytes, more rounds for longer values, so CPU per record is
   * real and varies with the record (about 30-150 us, a parse and an enrichment's worth). Primary and shadow run
   * it alike. A stream's CPU is reserved in whole millicores: a record of a few microseconds would leave the demo
   * stream below one millicore, where the unit, not the forecast, would set reserved / used.
   */
  static final RecordProcessor PROCESSOR = record -> {
    byte[] v = record.value();
    long h = 1125899906842597L;
    int rounds = 4000 + v.length * 80;
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
  public LoopView view() {
    return view;
  }

  private synchronized int backlog() {
    long backlog = 0;
    for (StreamHandle h : streams.values()) {
      backlog += h.backlog();
    }
    return (int) Math.min(Integer.MAX_VALUE, backlog);
  }

  /**
   * The error statistics, and per stream and partition its planner's last observations ({@link StreamHistory}), so
   * a restarted stream forecasts from its past at once.
   */
  @Override
  public synchronized Optional<JsonNode> learned() {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.set("errors", Json.MAPPER.valueToTree(errors.export()));
    ObjectNode history = n.putObject("history");
    for (StreamHandle h : streams.values()) {
      history.set(h.name, StreamHistory.write(h.controller.planner()));
    }
    return Optional.of(n);
  }

  @Override
  public void restoreLearned(JsonNode saved) {
    errors.restore(Json.convert(saved.path("errors"),
        new TypeReference<List<ErrorTracker.Scores>>() {}, "stream errors"));
    synchronized (this) {
      // Streams deleted since are skipped; the whole file is checked before any planner changes.
      Map<String, Map<Integer, List<StreamPlanner.Observation>>> read = new LinkedHashMap<>();
      saved.path("history").fields().forEachRemaining(e -> {
        StreamHandle h = streams.get(e.getKey());
        if (h != null) {
          read.put(e.getKey(), StreamHistory.read(e.getValue(), h.partitions(), "history." + e.getKey()));
        }
      });
      read.forEach((name, parts) -> parts.forEach((p, obs) -> streams.get(name).controller.planner()
          .restoreHistory(p, obs)));
    }
  }

  private synchronized double shadowShare() {
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
    for (StreamHandle h : streams.values()) {
      n += h.workers();
    }
    return n;
  }

  private synchronized double baselineActing() {
    double n = 0;
    for (StreamHandle h : streams.values()) {
      n += h.controller.stats().guard().acting() == ControlLoop.Rule.BASELINE ? 1 : 0;
    }
    return n;
  }

  private synchronized double shortfalls() {
    double n = 0;
    for (StreamHandle h : streams.values()) {
      n += h.controller.shortfalls();
    }
    return n;
  }

  @Override
  public void routes(Api api) {
    StreamRoutes.register(api, this, config);
  }

  synchronized List<StreamHandle> handles() {
    return List.copyOf(streams.values());
  }

  /** The stream named {@code name}, or null. */
  synchronized StreamHandle find(String name) {
    return streams.get(name);
  }

  /** The stream named {@code name}; a 404 naming it when there is none. */
  synchronized StreamHandle handle(String name) {
    StreamHandle h = streams.get(name);
    if (h == null) {
      throw new ApiException(404, "name", name, "no stream '" + name + "' (known: " + streams.keySet() + ")");
    }
    return h;
  }

  /** Creates the stream, its shadow and its controller. */
  StreamHandle create(StreamRoutes.NewStream s) {
    synchronized (this) {
      if (closed) {
        throw new ApiException(503, null, null, "the stream capability is closed");
      }
      if (streams.containsKey(s.name())) {
        throw new ApiException(409, "name", s.name(), "stream '" + s.name() + "' already exists");
      }
      if (streams.size() >= config.stream().maxStreams()) {
        throw new ApiException(409, "name", s.name(), "at most " + config.stream().maxStreams()
            + " streams may exist (stream.maxStreams)");
      }
      StreamHandle h = handleFor(new StreamStore.Definition(s.name(), s.partitions(), s.sampleRate(),
          System.currentTimeMillis()));
      streams.put(s.name(), h);
      if (store != null) {
        try {
          store.save(definitions());
        } catch (RuntimeException e) {
          // Not on disk: not accepted.
          streams.remove(s.name());
          h.close();
          throw e;
        }
      }
      return h;
    }
  }

  /** The stream, its shadow and its controller (the stream's control loop) for a checked definition. */
  private StreamHandle handleFor(StreamStore.Definition s) {
    Sampling sampling = Sampling.everyNth(s.sampleRate());
    Shadow shadow = Shadow.start(s.name(), PROCESSOR, 10_000);
    EmbeddedStream stream = EmbeddedStream.builder(s.partitions(), PROCESSOR).initialWorkers(1).maxWorkers(8)
        .queueCapacity(4096).shadow(sampling, shadow).build();
    // Memory per worker is small: the processing function keeps nothing; CPU is what it needs.
    PlannerConfig pc = new PlannerConfig(config.stream().interval(), List.of(config.stream().interval()
        .multipliedBy(5), config.stream().interval().multipliedBy(60)), config.stream().interval().multipliedBy(5),
        dev.penumbra.core.Priority.STANDARD, 0.8, 1, 8, 8L << 20, 1e-4, 10);
    StreamController controller = StreamController.builder(new StreamPlanner(pc), stream, shadow, sampling)
        .name("stream/" + s.name()).clock(Clock.systemUTC()).ledger(ledger, config.ledger().node()).build();
    return new StreamHandle(s.name(), s.sampleRate(), s.created(), stream, shadow, controller);
  }

  /** Every stream's definition, in creation order (under the lock). */
  private List<StreamStore.Definition> definitions() {
    List<StreamStore.Definition> out = new ArrayList<>();
    for (StreamHandle h : streams.values()) {
      out.add(new StreamStore.Definition(h.name, h.partitions(), h.sampleRate, h.created));
    }
    return out;
  }

  /** Submits a checked batch (see {@link StreamRoutes#records}); returns how many records were accepted. */
  int produce(StreamHandle h, List<StreamRecord> batch) throws InterruptedException {
    inFlight.incrementAndGet();
    try {
      for (StreamRecord rec : batch) {
        if (closed) {
          throw new ApiException(503, null, null, "the stream capability is closed");
        }
        h.submit(rec);
      }
    } finally {
      inFlight.decrementAndGet();
      view.changed();
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
    for (StreamHandle h : streams.values()) {
      try {
        StreamHandle.Tick t = h.tick();
        shadowNanos += t.shadowNanos();
        primaryNanos += t.primaryNanos();
        // A prediction is compared with the interval it was made for: the one ending at this tick.
        if (!Double.isNaN(t.predicted())) {
          errors.record("stream/cpu", t.predicted(), t.predictedUpper(), t.actual());
          timeline.add(new Timeline.Sample(System.currentTimeMillis(), h.name, t.predicted(), t.reserved(),
              t.actual(), t.baseline()));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        LOG.warn("stream {} tick failed: {}", h.name, e.toString());
      }
    }
  }

  StreamHandle.PlanJson plan(StreamHandle h) {
    Map<Integer, dev.penumbra.stream.PartitionPlan> plans;
    synchronized (this) {
      plans = h.controller.lastPlan();
    }
    return h.plan(plans, config.stream().interval());
  }

  @Override
  public void demoStep(Random random) throws Exception {
    StreamDemo.step(this, config, random);
  }

  @Override
  public void close() {
    List<StreamHandle> all;
    synchronized (this) {
      closed = true;
      all = List.copyOf(streams.values());
      streams.clear();
    }
    ticker.shutdownNow();
    for (StreamHandle h : all) {
      h.close();
    }
  }

  private synchronized List<LoopStats> controllerStats() {
    List<LoopStats> out = new ArrayList<>();
    for (StreamHandle h : streams.values()) {
      out.add(h.controller.stats());
    }
    return out;
  }

  /**
   * Stops a stream and gives back what it holds (its loop releases every partition's grant); returns how many
   * reservations were live. Under the capability's lock, so no tick renews a reservation of a stream being deleted.
   */
  synchronized int delete(String name) {
    StreamHandle h = handle(name);
    streams.remove(name);
    if (store != null) {
      try {
        store.save(definitions());
      } catch (RuntimeException e) {
        streams.put(name, h); // still on disk: not deleted
        throw e;
      }
    }
    int live = h.liveReservations();
    h.close();
    return live;
  }
}
