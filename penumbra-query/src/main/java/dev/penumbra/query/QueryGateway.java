package dev.penumbra.query;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Allocator;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.InsufficientCapacityException;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.loop.Baseline;
import dev.penumbra.core.loop.ControlLoop;
import dev.penumbra.core.loop.Grant;
import dev.penumbra.core.loop.LoopStats;
import dev.penumbra.core.loop.Model;
import dev.penumbra.core.predict.Predictor;
import dev.penumbra.query.QueryReport.Adjustment;
import dev.penumbra.query.engine.Outcome;
import dev.penumbra.query.engine.PrimaryEngine;
import dev.penumbra.query.engine.QueryResult;
import dev.penumbra.query.predict.Estimate;
import dev.penumbra.query.predict.Fingerprint;
import dev.penumbra.query.predict.QueryPrediction;
import dev.penumbra.query.predict.QueryPredictor;
import dev.penumbra.query.shadow.QueryRejectedException;
import dev.penumbra.query.shadow.ShadowEngine;
import dev.penumbra.query.shadow.ShadowResult;
import dev.penumbra.query.shadow.ShadowSite;
import dev.penumbra.query.tpch.TpchDatabase;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The query gateway: Penumbra's control loop for queries. Every query is shadowed when that pays, predicted,
 * reserved by priority, run on the primary with exactly its reservation, measured, released and learned from.
 *
 * <pre>{@code
 * try (QueryGateway gw = QueryGateway.builder().scale(0.1).build()) {   // ~/.cache/penumbra/tpch-sf0.1-seed42.duckdb
 *   QueryResponse r = gw.submit(new QueryRequest("SELECT count(*) FROM orders", "ana", Sla.of(Priority.STANDARD)));
 *   r.rows(); r.report().prediction(); r.report().reservation(); r.report().actual();
 * }
 * }</pre>
 *
 * <p>Flow of {@link #submit}, as one core {@link ControlLoop}: <b>observe</b> — the {@link ShadowGate} decides whether
 * the query's sample run is worth its cost (a new shape is always planned, which rejects bad SQL with
 * {@link QueryRejectedException} before anything is reserved; a known shape may reuse its last plan);
 * <b>predict</b> — the query predictor turns the shadow into a {@link Demand} for the queries running now, its CPU
 * as the threads the predicted CPU earns; <b>reserve</b> — the loop's allocator sizes it at the priority's quantile
 * (widened while the model overran), the loop's shape floors memory at {@link Builder#minMemory} and caps it at the
 * largest node, and queues it by virtual deadline ({@link QueryAdmission}); the baseline guard holds the FIFO rule
 * (equal fixed slots) beside it and sizes with whichever has cost less on the measured use; <b>execute</b> — the
 * grant is activated and the primary runs the query in its {@link EngineEnvelope} (threads and memory limit); when
 * it fails for memory the grant is extended to twice its memory (in place when the node has room, otherwise through
 * the queue again) and the query retried once; <b>learn</b> — {@link Grant#complete} releases the reservation and
 * feeds the allocator, the predictor learns the run's profile, and {@link ControlLoop#adjust()} runs over the
 * loop's grants.
 *
 * <p>Preemption is off: the ledger's preemption may take ACTIVE reservations, and a running query cannot give
 * its memory back; waiting queries are ordered by virtual deadline instead, so a critical query passes every waiting
 * one that has not yet waited half of what FIFO would have made it wait. Thread-safe: submit from any number of
 * threads.
 *
 * <p>Over 500 lines because of its {@link Builder}: one validated method per option. The pipeline is the first
 * part; the database it runs on is {@link QueryDatabase}, the learn step {@link QueryFeedback}, the shadow's
 * value-of-information rule {@link ShadowGate}, the actuator {@link EngineEnvelope}.
 */
public final class QueryGateway implements AutoCloseable {

  private final QueryDatabase database;
  private final QueryPredictor predictor;
  private final boolean ownPredictor;
  private final Ledger ledger;
  private final Allocator allocator;
  private final QueryAdmission admission;
  private final ControlLoop<ShadowResult> loop;
  private final EngineEnvelope envelope = new EngineEnvelope();
  private final ShadowGate gate;
  /** Where sample runs are made: the database's own shadow engine unless the builder put another site around it. */
  private final ShadowSite site;
  private final QueryFeedback feedback;
  private final ErrorTracker errors;
  private final Duration timeout;
  private final Resources largest;
  /** The FIFO baseline's slot: what a query gets when Penumbra knows nothing of it. */
  private final Resources slot;
  private final int cores;
  private final long cpuPerThreadNanos;
  private final AtomicInteger running = new AtomicInteger();
  private final PathStage path;
  private final SamplesAfter samplesAfter;
  private final AtomicLong sequence = new AtomicLong();
  private final java.util.concurrent.atomic.LongAdder cpuQueries = new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder cpuPath = new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder cpuReserve = new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder cpuExecute = new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder cpuLearn = new java.util.concurrent.atomic.LongAdder();
  private static final java.lang.management.ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  /**
   * Design variants, for comparison in {@code bench query} (docs/benchmarks.md): {@code
   * -Dpenumbra.query.checkHandoff=false} makes the DuckDB primary parse a text the path's check approved again;
   * {@code -Dpenumbra.query.idleAsBaseline=false} samples a critical query's young shape even when nothing is
   * contended; {@code -Dpenumbra.query.slotWhenPlentiful=false} reserves a query's predicted memory even when memory
   * is not scarce; {@code -Dpenumbra.query.secondThreadBelow=1e9} gives a second thread on any free core whatever
   * the recent load.
   */
  static final boolean CHECK_HANDOFF = Boolean.parseBoolean(System.getProperty("penumbra.query.checkHandoff", "true"));
  static final boolean IDLE_AS_BASELINE = Boolean.parseBoolean(
      System.getProperty("penumbra.query.idleAsBaseline", "true"));
  static final boolean SLOT_WHEN_PLENTIFUL = Boolean.parseBoolean(
      System.getProperty("penumbra.query.slotWhenPlentiful", "true"));
  /** While memory is plentiful: FIFO's slot ({@code slot}) or the query's own p99 ({@code p99}). */
  static final boolean PLENTIFUL_AT_SLOT = "slot".equals(System.getProperty("penumbra.query.plentifulAt", "slot"));
  /** Above this busy share of the cores (recent arrivals' CPU), a query gets one thread even on a free core. */
  static final double SECOND_THREAD_BELOW = Double.parseDouble(
      System.getProperty("penumbra.query.secondThreadBelow", "0.5"));
  private final Utilization utilization;

  private QueryGateway(Builder b, QueryDatabase database) {
    this.database = database;
    this.errors = b.predictor != null ? b.predictor.errorTracker() : new ErrorTracker();
    this.ownPredictor = b.predictor == null;
    // A primary profiled on its own sample: memory from its operators alone (the model's features describe DuckDB's).
    QueryPredictor.Builder pb = QueryPredictor.builder().cores(b.cores()).errorTracker(errors)
        .blendMemory(b.operatorProfiler == null);
    if (b.model != null) {
      pb.model(b.model);
    }
    this.predictor = b.predictor != null ? b.predictor : pb.build();
    Resources big = Resources.ZERO;
    if (b.ledger != null) {
      // A shared ledger (a server's): its nodes are the capacity, as the owner sized them; the gateway adds none.
      this.ledger = b.ledger;
      for (var n : ledger.nodes()) {
        big = big.max(n.capacity());
      }
    } else {
      this.ledger = Ledger.inMemory(b.clock);
      for (Map.Entry<String, Resources> n : b.nodes().entrySet()) {
        // CPU is compressible: the ledger may promise each core to cpuOvercommit threads (memory is never
        // overcommitted).
        Resources c = n.getValue();
        ledger.addNode(n.getKey(), c.with(Resources.Dimension.CPU, (long) Math.floor(c.cpuMillis() * b.cpuOvercommit)));
        big = big.max(c);
      }
    }
    this.largest = big;
    this.cores = (int) Math.max(1, big.cpuMillis() / 1000);
    this.utilization = new Utilization(cores);
    this.path = new PathStage(b.pathConcurrency > 0 ? b.pathConcurrency : cores);
    this.timeout = b.timeout;
    this.cpuPerThreadNanos = b.cpuPerThread.toNanos();
    this.feedback = new QueryFeedback(predictor);
    ShadowSite s = b.site.apply(database.shadow);
    if (s == null) {
      throw new IllegalArgumentException("shadowSite returned no site");
    }
    this.site = s;
    this.gate = new ShadowGate(predictor, b.shadowBudget, b.shadowCredit, b.shadowTimeout, b.shadowAlways,
        b.skipSettledShadows);
    this.samplesAfter = new SamplesAfter(this::sampleAfter, p -> gate.droppedAfter(p.fingerprint(), p.heldNanos()));
    // The lease outlives the longest run (two attempts) so a running query's reservation never expires.
    // The allocator learns from what its reservations turned out to need (Grant.complete after each query),
    // per model and priority; the predictor's own scores (against its p90) stay apart.
    // Waiting queries are admitted by virtual deadline (QueryAdmission): a lower priority is passed only until it has
    // waited a share of what FIFO would make it wait, not by every later higher one.
    this.admission = QueryAdmission.fromProperties(cores);
    Allocator.Builder ab = Allocator.builder(ledger).preemption(false).feedback(new ErrorTracker())
        .lease(b.timeout.multipliedBy(2).plusMinutes(1)).clock(b.clock);
    if (admission.slack() != null) {
      ab.virtualDeadlines(admission.slack());
    }
    this.allocator = ab.build();
    long minMemory = b.minMemory;
    Resources cap = largest;
    int slots = b.baselineSlots > 0 ? b.baselineSlots : b.engineInstances;
    // FIFO with equal fixed slots: what a user runs instead (each of `slots` workers gets an equal share).
    this.slot = Resources.of(Math.max(1000, cap.cpuMillis() / slots / 1000 * 1000), cap.memoryBytes() / slots);
    // A running query cannot give memory back: headroom is reclaimed only after the longest run (grace = lease).
    this.loop = ControlLoop.builder("query", allocator, model(predictor))
        .actuator(envelope)
        .grace(b.timeout.multipliedBy(2).plusMinutes(1))
        .margin(0)
        .clock(b.clock)
        .baseline(Baseline.fixed("fifo", slot))
        .shape(r -> fit(r, minMemory, cap.with(Resources.Dimension.CPU, 1000L * coresLeft())))
        .build();
  }

  /** The query predictor as the loop's model; it learns a run's full profile through {@link QueryFeedback}. */
  private static Model<ShadowResult> model(QueryPredictor predictor) {
    return new Model<>() {
      @Override
      public String name() {
        return "query";
      }

      @Override
      public Demand predict(ShadowResult signal) {
        return predictor.predict(signal).demand();
      }
    };
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Runs one query through shadow, prediction, reservation, execution and feedback.
   *
   * @throws QueryRejectedException when the shadow rejects the SQL (syntax, unknown table or column, type error,
   *     not a read query); nothing was reserved
   * @throws IllegalArgumentException when the request is null
   * @throws dev.penumbra.core.allocate.DeadlineExceededException when the deadline passed while it waited
   */
  public QueryResponse submit(QueryRequest request) {
    Checks.notNull("request", request);
    samplesAfter.enter();
    try {
      return run(request);
    } finally {
      samplesAfter.leave();
    }
  }

  private QueryResponse run(QueryRequest request) {
    String sql = request.sql();
    // Once per query: the gate, the predictor and the learn step all key on it.
    String fp = Fingerprint.of(sql);
    utilization.arrived(System.nanoTime());
    try {
      path.enter(request.sla().priority());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting to plan the query of " + request.user(), e);
    }
    Planned planned;
    long c0 = threadCpu();
    try {
      planned = plan(request, fp);
    } finally {
      path.leave();
    }
    if (CHECK_HANDOFF && database.engine instanceof dev.penumbra.query.engine.DuckDbEngine duck) {
      // The path's sandbox check (on every path) approved this text: the engine need not parse it again.
      duck.checked(sql);
    }
    long c1 = threadCpu();
    cpuPath.add(c1 - c0);
    ShadowResult sr = planned.signal();
    ShadowGate.Decision d = planned.decision();
    QueryPrediction prediction = planned.prediction();
    int threads = planned.threads();
    String owner = request.user() + "/q" + sequence.incrementAndGet();
    // Counted in the work ahead of later queries (their slack) from its request until its end.
    admission.arrive(owner, prediction.wallNanos().point());
    try {
      List<Adjustment> adjustments = new ArrayList<>();
      long[] waited = {0};
      Grant<ShadowResult> g;
      try {
        // While memory is plentiful the reservation is at least FIFO's slot; the prediction reported stays the model's.
        Demand sized = !planned.plentiful() ? prediction.demand()
            : PLENTIFUL_AT_SLOT ? atLeastSlot(prediction).demand() : atLeastP99(prediction).demand();
        g = placed(loop.reserve(owner, sr, granted(sized, threads), request.sla()), waited);
      } catch (RuntimeException e) {
        if (d.after()) {
          // No run, no sample after it: what was held for the sample goes back to the budget.
          gate.droppedAfter(fp, d.heldNanos());
        }
        throw e;
      }
      Resources requested = g.requested();
      QueryResult result;
      int attempts = 1;
      long c2 = threadCpu();
      cpuReserve.add(c2 - c1);
      running.incrementAndGet();
      try {
        result = database.engine.execute(sql, envelope.of(g.reservation()), timeout);
        Resources before = g.reservation().amount();
        if (result.outcome() == Outcome.FAILED_MEMORY && before.memoryBytes() < largest.memoryBytes()) {
          Resources bigger = before.with(Resources.Dimension.MEMORY,
              Math.min(largest.memoryBytes(), Math.multiplyExact(before.memoryBytes(), 2)));
          g = extend(g, bigger, owner, request.sla(), waited);
          adjustments.add(new Adjustment(Adjustment.Kind.EXTENDED, before, g.reservation().amount(),
              "FAILED_MEMORY: memory doubled, retrying once"));
          result = database.engine.execute(sql, envelope.of(g.reservation()), timeout);
          attempts = 2;
        }
      } catch (RuntimeException e) {
        g.release();
        if (d.after()) {
          gate.droppedAfter(fp, d.heldNanos());
        }
        throw e;
      } finally {
        running.decrementAndGet();
      }
      long c3 = threadCpu();
      cpuExecute.add(c3 - c2);
      Resources amount = g.reservation().amount();
      Resources need = QueryFeedback.need(result, amount);
      if (need != null) {
        g.complete(need);
      } else {
        g.release();
      }
      adjustments.add(new Adjustment(Adjustment.Kind.RELEASED, amount, Resources.ZERO, "query ended"));
      // The prediction made on the path is the one scored, unless the run had other threads than it was made for.
      feedback.learn(fp, sr, result, amount,
          dev.penumbra.query.engine.PrimaryEngine.threadsFor(amount) == threads ? planned.raw() : null);
      gate.primary(result.profile().wallNanos());
      utilization.ran(result.profile().cpuNanos());
      if (d.after()) {
        if (need != null && feedback.learning()) {
          samplesAfter.offer(new SamplesAfter.Pending(fp, sql, d.cap(), d.heldNanos(), result, amount));
        } else {
          gate.droppedAfter(fp, d.heldNanos());
        }
      }
      loop.adjust();
      cpuLearn.add(threadCpu() - c3);
      cpuQueries.increment();
      Optional<String> skipped = Optional.ofNullable(d.reason());
      QueryReport.Shadow shadowReport = new QueryReport.Shadow(sr.fraction(), sr.effectiveFraction(), sr.cutOff(),
          sr.sample(), sr.shadowWallNanos(), sr.shadowCpuNanos(), skipped);
      var r = g.reservation();
      QueryReport report = new QueryReport(request.user(), request.sla(), database.engine.name(), shadowReport,
          prediction, new QueryReport.Allocation(r.id(), r.node(), requested, amount, waited[0]),
          result.outcome(), result.error(), result.profile(), attempts, adjustments);
      return new QueryResponse(result.columns(), result.rows(), result.rowCount(), report);
    } finally {
      admission.leave(owner);
    }
  }

  /**
   * What the path before the reservation decided: the shadow's signal, the gate's decision, the prediction the
   * reservation is sized by, and the predictor's own for those threads before load (what the learn step scores).
   */
  private record Planned(ShadowResult signal, ShadowGate.Decision decision, QueryPrediction prediction, int threads,
      QueryPrediction raw, boolean plentiful) {}

  /** The path before the reservation: the sandbox check and the shadow (as the gate decides), then the prediction. */
  private Planned plan(QueryRequest request, String fp) {
    String sql = request.sql();
    ShadowEngine shadow = database.shadow;
    Optional<ShadowResult> earlier = predictor.lastShadowOf(fp);
    ShadowResult reused = earlier.map(e -> shadow.reuse(sql, e)).orElse(null);
    // One prediction per signal: what the gate asks on the reused plan is the single-thread prediction below.
    QueryPrediction[] onReused = {null};
    ShadowGate.Decision d = reused == null ? gate.unseen()
        : gate.seen(fp, reused, room(request.sla().priority() == dev.penumbra.core.Priority.CRITICAL),
            () -> onReused[0] = predictor.predict(fp, reused, 1));
    ShadowResult sr = switch (d.kind()) {
      case SAMPLE -> site.shadow(sql, d.cap());
      case PLAN -> shadow.plan(sql);
      case REUSE -> reused;
    };
    gate.spent(fp, sr, d);
    int now = running.get();
    QueryPrediction raw;
    QueryPrediction prediction;
    int threads;
    if (d.kind() == ShadowGate.Kind.PLAN) {
      // A new shape with neither a sample nor a history: any prediction would be blind, so it gets what the
      // baseline would give it, and its run starts the shape's history.
      threads = (int) Math.max(1, Math.min(coresLeft(), slot.cpuMillis() / 1000));
      raw = predictor.predict(fp, sr, threads);
      prediction = baseline(predictor.underLoad(raw, new QueryPredictor.Load(cores, now, threads)));
    } else {
      // CPU first (it hardly depends on the threads), then wall time for the threads that CPU earns and the node
      // has free: a second thread only pays on a core nobody else is waiting for. Under contention (queries wait,
      // or placed queries hold every core) each query gets one, as FIFO's slots do: a parallel plan costs more CPU
      // in all (its threads exchange and merge), which a saturated node takes from the queries behind it.
      QueryPrediction single = sr == reused && onReused[0] != null ? onReused[0] : predictor.predict(fp, sr, 1);
      boolean queued = allocator.waiting() > 0 || path.waiting() > 0
          || utilization.share() >= SECOND_THREAD_BELOW;
      int freeCores = coresLeft() - envelope.threads();
      threads = queued ? 1 : Math.max(1, Math.min(freeCores, threadsFor(single.cpuNanos().point())));
      raw = threads == 1 ? single : predictor.predict(fp, sr, threads);
      prediction = predictor.underLoad(raw, new QueryPredictor.Load(cores, now, threads));
      if (d.asBaseline()) {
        prediction = atLeastSlot(prediction);
      }
    }
    return new Planned(sr, d, prediction, threads, raw, SLOT_WHEN_PLENTIFUL && memoryPlentiful());
  }

  /**
   * Makes a sample after its query (on the background thread of {@link SamplesAfter}), cut off when a query arrives,
   * and learns from it. It runs on the local shadow engine: only that one can be stopped mid-run.
   */
  private void sampleAfter(SamplesAfter.Pending p) {
    ShadowResult s;
    try {
      s = database.shadow.shadow(p.sql(), p.cap(), samplesAfter::busy);
    } catch (RuntimeException e) {
      gate.droppedAfter(p.fingerprint(), p.heldNanos());
      return;
    }
    gate.sampledAfter(p.fingerprint(), s, p.heldNanos());
    feedback.learnSample(p.fingerprint(), s, p.result(), p.reserved());
  }

  /**
   * Waits until the samples held for after their queries have run (they run only while no query is in the gateway),
   * at most {@code timeout}; true when none is left. For benchmarks: a run that compares the gateway with other
   * engines on the same machine lets its samples finish before the others start, so none overlaps their queries.
   */
  public boolean awaitSamplesAfter(Duration timeout) throws InterruptedException {
    Checks.notNull("timeout", timeout);
    return samplesAfter.awaitDone(timeout);
  }

  /** Samples made after their query so far, and those dropped for want of an idle moment. */
  long[] samplesAfterCounts() {
    return gate.afterCounts();
  }

  /**
   * Threads a query is granted: one per {@code cpuPerThread} of predicted CPU time (rounded up), at least 1 and
   * at most the node's cores. A query with less CPU than that gains little from a second thread (DuckDB splits
   * scans into row groups of 122,880 rows; a short query has few to share), and under load a thread it does
   * not use well is a core another query could have.
   */
  int threadsFor(long cpuNanos) {
    long t = (cpuNanos + cpuPerThreadNanos - 1) / cpuPerThreadNanos;
    return (int) Math.max(1, Math.min(cores, t));
  }

  /** The prediction with its memory at least the baseline's slot at every level: what FIFO would have given it. */
  private QueryPrediction atLeastSlot(QueryPrediction p) {
    long m = slot.memoryBytes();
    Estimate e = p.memoryBytes();
    if (e.point() >= m) {
      return p;
    }
    // The record lifts every quantile to at least the point.
    return new QueryPrediction(p.fingerprint(), new Estimate(m, e.quantiles()), p.cpuNanos(), p.wallNanos(),
        p.bytesRead(), p.tier(), p.lowConfidence());
  }

  /**
   * Whether memory is not the scarce resource now: the best node's free memory holds a baseline slot for this query
   * and for every other query that could run beside it (those waiting, at most one per other core: each query
   * holds at least one core). Then a reservation below the slot saves nothing anyone could use, and a query held to
   * its predicted median spills (batch and standard reserve below their peak by design), which costs CPU the
   * queries behind it wait for: measured, a sixth of the sweep's throughput at load 1.
   */
  private boolean memoryPlentiful() {
    long free = bestFreeMemory();
    long beside = Math.min(allocator.waiting() + path.waiting(), cores - 1L);
    return free / Math.max(1, slot.memoryBytes()) > beside;
  }

  /** The prediction with its memory at least its own p99 at every level: what a critical query would reserve. */
  private static QueryPrediction atLeastP99(QueryPrediction p) {
    Estimate e = p.memoryBytes();
    long m = Math.max(e.point(), e.at(0.99));
    return new QueryPrediction(p.fingerprint(), new Estimate(m, e.quantiles()), p.cpuNanos(), p.wallNanos(),
        p.bytesRead(), p.tier(), p.lowConfidence());
  }

  /** The plan-only prediction with the baseline's slot as its memory at every level. */
  private QueryPrediction baseline(QueryPrediction planned) {
    return new QueryPrediction(planned.fingerprint(), Estimate.exactly(slot.memoryBytes()), planned.cpuNanos(),
        planned.wallNanos(), planned.bytesRead(), QueryPrediction.Tier.BASELINE, true);
  }

  /** The demand with its CPU as exactly the threads granted, at every level. */
  private static Demand granted(Demand d, int threads) {
    long cpu = threads * 1000L;
    TreeMap<Double, Resources> q = new TreeMap<>();
    d.quantiles().forEach((level, r) -> q.put(level, r.with(Resources.Dimension.CPU, cpu)));
    return new Demand(d.point().with(Resources.Dimension.CPU, cpu), q, d.model(), d.lowConfidence());
  }

  /**
   * The loop's shape: memory floored at the minimum and every dimension capped at the largest node, so a request
   * can always place; CPU in whole threads (the allocator's widening never adds a fraction of a thread).
   */
  static Resources fit(Resources sized, long minMemory, Resources largest) {
    long mem = Math.min(largest.memoryBytes(), Math.max(minMemory, sized.memoryBytes()));
    long cpu = Math.min(largest.cpuMillis(), Math.max(1000, sized.cpuMillis() / 1000 * 1000));
    return Resources.of(cpu, mem);
  }

  /**
   * The cores of the largest node that queries can hold once their own runs end: other work on the same ledger
   * (a stream's workers, a standby, a task) holds the rest, and a query asking for cores it would have to wait
   * for them to give back would wait for ever (at least 1).
   */
  private int coresLeft() {
    long used = 0;
    for (NodeView n : ledger.nodes()) {
      used += n.used().cpuMillis();
    }
    long own = 0;
    for (Grant<ShadowResult> g : loop.grants()) {
      if (g.isPlaced() && !g.isEnded()) {
        own += g.reservation().amount().cpuMillis();
      }
    }
    long others = Math.max(0, used - own);
    return (int) Math.max(1, Math.min(cores, (largest.cpuMillis() - others) / 1000));
  }

  /** The free memory of the node with the most. */
  private long bestFreeMemory() {
    long free = 0;
    for (NodeView n : ledger.nodes()) {
      free = Math.max(free, n.free().memoryBytes());
    }
    return free;
  }

  /**
   * The room the shadow gate weighs: the best node's free memory, how many requests wait, and, for a critical query,
   * whether nothing is contended.
   */
  private ShadowGate.Room room(boolean critical) {
    long free = bestFreeMemory();
    int waiting = allocator.waiting();
    return new ShadowGate.Room(free, waiting, IDLE_AS_BASELINE && (ShadowGate.SAMPLE_AFTER || critical)
        && waiting == 0 && path.waiting() == 0 && envelope.threads() < cores);
  }

  /** Waits until the grant is placed, then activates it (WARM -> ACTIVE). */
  private static Grant<ShadowResult> placed(Grant<ShadowResult> g, long[] waited) {
    long t0 = System.nanoTime();
    try {
      g.placed().get();
      return g.activate();
    } catch (InterruptedException e) {
      g.release();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a reservation for " + g.owner(), e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    } catch (CancellationException e) {
      throw new IllegalStateException("the reservation request of " + g.owner() + " was cancelled", e);
    } finally {
      waited[0] += System.nanoTime() - t0;
    }
  }

  /** Grows in place when the node has room; otherwise gives the grant back and queues for the larger one. */
  private Grant<ShadowResult> extend(Grant<ShadowResult> g, Resources bigger, String owner, Sla sla,
      long[] waited) {
    try {
      g.resize(bigger);
      return g;
    } catch (InsufficientCapacityException e) {
      g.release();
      return placed(loop.reserveExactly(owner, g.signal(), bigger, sla), waited);
    }
  }

  /**
   * Turns learning from actuals on (the default) or off; off freezes the predictor, e.g. to evaluate it on
   * queries it must not train on.
   */
  public void learning(boolean on) {
    feedback.learning(on);
  }

  /** The ledger the gateway reserves on (subscribe to watch every change). */
  public Ledger ledger() {
    return ledger;
  }

  /** The predictor (its error statistics per tier and metric). */
  public QueryPredictor predictor() {
    return predictor;
  }

  /** The error record the predictor scores into and the allocator's sizing reads. */
  public ErrorTracker errors() {
    return errors;
  }

  /** The primary engine queries run on. */
  public PrimaryEngine engine() {
    return database.engine;
  }

  /** The TPC-H database the shadow samples (and the embedded primary runs on). */
  public TpchDatabase database() {
    return database.tpch;
  }

  /**
   * Admits waiting queries strictly by priority, then arrival, while on (the order before virtual deadlines,
   * docs/query.md), instead of by virtual deadline. For benchmarks that compare both orders on one trained gateway;
   * no effect when the gateway was started with {@code -Dpenumbra.query.admission=priority}.
   */
  public void strictPriority(boolean on) {
    admission.strictPriority(on);
  }

  /**
   * Fails waiting queries whose deadline has come and admits what now fits: call it periodically (a server's
   * ledger timer does) so a deadline is kept on time, not when the next query arrives.
   */
  public void tick() {
    allocator.tick();
  }

  /** Queries of {@code priority} waiting for a reservation now. */
  public int waiting(dev.penumbra.core.Priority priority) {
    return (int) allocator.queue().stream().filter(t -> t.sla().priority() == priority).count();
  }

  /** Queries waiting for a reservation now. */
  public int waiting() {
    return allocator.waiting();
  }

  /**
   * The query loop's totals: reserved vs used resource-time, and its baseline guard (which rule sizes queries
   * now, Penumbra's or FIFO's equal slots, and the running cost of both on the same measured use).
   */
  public LoopStats loopStats() {
    return loop.stats();
  }

  private static long threadCpu() {
    return THREADS.getCurrentThreadCpuTime();
  }

  /** CPU time of the submitting threads per stage of the gateway, summed over every query so far. */
  public GatewayCpu cpu() {
    return new GatewayCpu(cpuQueries.sum(), cpuPath.sum(), cpuReserve.sum(), cpuExecute.sum(), cpuLearn.sum());
  }

  /** What the shadows cost so far against their budget. */
  public ShadowStats shadowStats() {
    return gate.stats().withCheckNanos(database.shadow.checkNanos());
  }

  /**
   * Samples every query whose shape is not settled, whatever the budget (the builder's {@link Builder#shadowAlways}
   * while on): for evaluating the predictor on sampled runs. Off by default.
   */
  public void shadowAlways(boolean on) {
    gate.always(on);
  }

  /** Threads the engine envelopes of placed queries hold now. */
  public int threadsHeld() {
    return envelope.threads();
  }

  @Override
  public void close() {
    samplesAfter.close();
    loop.close();
    allocator.close();
    database.close();
    if (ownPredictor) {
      predictor.close();
    }
  }

  /** The default cache directory: $XDG_CACHE_HOME/penumbra, else ~/.cache/penumbra. */
  public static Path defaultCacheDir() {
    return QueryDatabase.defaultCacheDir();
  }

  /** The embedded database file for a scale and seed under a cache directory. */
  public static Path databaseFile(Path cacheDir, double scale, long seed) {
    return QueryDatabase.file(cacheDir, scale, seed);
  }

  /** Options of a {@link QueryGateway}; every one has a default. */
  public static final class Builder {
    private double scale = 0.1;
    private long seed = 42;
    private Path cacheDir;
    private TpchDatabase database;
    private PrimaryEngine primary;
    private QueryPredictor predictor;
    private Predictor model;
    private double shadowBudget = 0.05;
    private Duration shadowCredit = ShadowGate.DEFAULT_CREDIT;
    private boolean shadowAlways;
    private int baselineSlots;
    private final Map<String, Resources> nodes = new LinkedHashMap<>();
    private int engineInstances = 8;
    private int maxRows = 100;
    private Duration timeout = Duration.ofMinutes(5);
    private long minMemory = 16L << 20;
    private double[] shadowFractions;
    private Duration shadowTimeout = Duration.ofSeconds(2);
    private double cpuOvercommit = 2.0;
    private Duration cpuPerThread = Duration.ofMillis(250);
    private int pathConcurrency;
    private boolean skipSettledShadows = true;
    private Clock clock = Clock.systemUTC();
    private Consumer<String> progress = m -> {};
    private Ledger ledger;
    private dev.penumbra.query.shadow.OperatorProfiler operatorProfiler;
    private UnaryOperator<ShadowSite> site = UnaryOperator.identity();

    private Builder() {}

    /**
     * Where sample runs are made: {@code around} is given the gateway's own shadow engine (the local site) and
     * returns the site to use, e.g. shadow workers in other processes that hand a shadow back to the local site
     * when none can run it. Default: the local site. Plans reused and sandbox checks stay local.
     */
    public Builder shadowSite(UnaryOperator<ShadowSite> around) {
      if (around == null) {
        throw new IllegalArgumentException("shadowSite must not be null");
      }
      this.site = around;
      return this;
    }

    /**
     * Reserves on this ledger (shared with other work) instead of a private one; its nodes are the capacity
     * and {@link #node} is ignored. The ledger must have at least one node with >= 1 core and memory > 0.
     */
    public Builder ledger(Ledger ledger) {
      if (ledger == null || ledger.nodes().stream()
          .noneMatch(n -> n.capacity().cpuMillis() >= 1000 && n.capacity().memoryBytes() > 0)) {
        throw new IllegalArgumentException("ledger must have a node with >= 1 core and memory > 0, was "
            + (ledger == null ? "null" : ledger.nodes()));
      }
      this.ledger = ledger;
      return this;
    }

    /** TPC-H scale factor of the embedded database (> 0, default 0.1). */
    public Builder scale(double scale) {
      Checks.positive("scale", scale);
      this.scale = scale;
      return this;
    }

    /** Seed of the generated data (default 42). */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Where the embedded database file lives (default {@link #defaultCacheDir()}). */
    public Builder cacheDir(Path dir) {
      Checks.notNull("cacheDir", dir);
      this.cacheDir = dir;
      return this;
    }

    /** An existing TPC-H database instead of the cached one (scale, seed and cache dir are then ignored). */
    public Builder database(TpchDatabase database) {
      Checks.notNull("database", database);
      this.database = database;
      return this;
    }

    /**
     * Another primary engine holding the same data (e.g. a {@code PostgresEngine} loaded with the same scale and
     * seed); the caller keeps ownership and closes it. Default: a DuckDB pool over the database file.
     */
    public Builder primary(PrimaryEngine engine) {
      Checks.notNull("primary", engine);
      this.primary = engine;
      return this;
    }

    /**
     * The per-operator profile of a sampled query from the primary's own sample (e.g. a {@code PostgresSample} beside
     * a {@code PostgresEngine} primary) instead of the DuckDB sample's; the caller keeps ownership and closes it.
     */
    public Builder operatorProfiler(dev.penumbra.query.shadow.OperatorProfiler profiler) {
      if (profiler == null) {
        throw new IllegalArgumentException("operatorProfiler must not be null");
      }
      this.operatorProfiler = profiler;
      return this;
    }

    /** A predictor to use (and keep: the caller closes it); its error tracker is the one sizing reads. */
    public Builder predictor(QueryPredictor predictor) {
      Checks.notNull("predictor", predictor);
      this.predictor = predictor;
      return this;
    }

    /**
     * The query predictor's model tier (e.g. a gradient-boosted {@code TreePredictor} built at the edge); the
     * gateway's predictor owns it and closes it. Ignored when {@link #predictor} is given. Default: none (the
     * history and scale-up tiers answer).
     */
    public Builder model(Predictor model) {
      Checks.notNull("model", model);
      this.model = model;
      return this;
    }

    /**
     * The shadow budget: shadow time as a share of primary time, in (0, 1] (default 0.05). A sample run is made
     * only while the shadows stay within it (see {@code ShadowGate}).
     */
    public Builder shadowBudget(double share) {
      Checks.share("shadowBudget", share);
      this.shadowBudget = share;
      return this;
    }

    /**
     * Shadow time allowed before any primary time is earned, spent on a cold start's first samples (>= 0; default
     * none: the budget starts empty, so the shadows never take more than their share).
     */
    public Builder shadowCredit(Duration credit) {
      Checks.notNegative("shadowCredit", credit);
      this.shadowCredit = credit;
      return this;
    }

    /**
     * Samples every query (bar settled shapes when {@link #skipSettledShadows}) instead of only where it pays
     * (default false): for measuring what the gate saves, and for training on every run.
     */
    public Builder shadowAlways(boolean always) {
      this.shadowAlways = always;
      return this;
    }

    /**
     * The baseline the loop's guard holds beside Penumbra: FIFO with this many equal fixed slots of the largest
     * node (>= 1; default: {@link #engineInstances}).
     */
    public Builder baselineSlots(int slots) {
      Checks.atLeast("baselineSlots", slots, 1);
      this.baselineSlots = slots;
      return this;
    }

    /**
     * Adds a ledger node with its capacity (CPU millicores and memory bytes are reserved). Default: one node
     * "local" with this machine's cores and a quarter of its physical memory.
     */
    public Builder node(String id, Resources capacity) {
      if (id == null || id.isBlank()) {
        throw new IllegalArgumentException("node id must not be blank, was " + id);
      }
      if (capacity == null || capacity.cpuMillis() < 1000 || capacity.memoryBytes() <= 0) {
        throw new IllegalArgumentException("capacity of node '" + id
            + "' must have >= 1 core and memory > 0, was " + capacity);
      }
      if (nodes.containsKey(id)) {
        throw new IllegalArgumentException("node '" + id + "' is already configured");
      }
      nodes.put(id, capacity);
      return this;
    }

    /** Engine instances of the embedded DuckDB pool (>= 1, default 8). */
    public Builder engineInstances(int n) {
      Checks.atLeast("engineInstances", n, 1);
      this.engineInstances = n;
      return this;
    }

    /** Result rows kept per query (>= 0, default 100; all are counted). */
    public Builder maxRows(int n) {
      Checks.atLeast("maxRows", n, 0);
      this.maxRows = n;
      return this;
    }

    /** Primary execution timeout per attempt (> 0, default 5 minutes). */
    public Builder timeout(Duration timeout) {
      Checks.positive("timeout", timeout);
      this.timeout = timeout;
      return this;
    }

    /** Smallest memory reserved for a query (> 0, default 16 MiB): DuckDB needs some buffer memory for any scan. */
    public Builder minMemory(long bytes) {
      Checks.positive("minMemory", bytes);
      this.minMemory = bytes;
      return this;
    }

    /** The shadow's sampling fractions (default 0.01 at SF >= 1, else 0.1, so the sample keeps enough rows). */
    public Builder shadowFractions(double... fractions) {
      this.shadowFractions = fractions.clone();
      return this;
    }

    /** The longest a sample run may take before it is cut off, whatever its cost cap (default 2 s). */
    public Builder shadowTimeout(Duration timeout) {
      Checks.positive("shadowTimeout", timeout);
      this.shadowTimeout = timeout;
      return this;
    }

    /**
     * How many threads the ledger may promise per physical core (>= 1, default 2). CPU is compressible: an
     * overcommitted query runs slower, it does not fail; memory is never overcommitted.
     */
    public Builder cpuOvercommit(double factor) {
      Checks.atLeast("cpuOvercommit", factor, 1.0);
      this.cpuOvercommit = factor;
      return this;
    }

    /**
     * How many queries run the path before their reservation (sandbox check, shadow, prediction) at once; the rest
     * wait their turn by priority, then arrival (>= 1; default: the largest node's cores). See {@code PathStage}.
     */
    public Builder pathConcurrency(int n) {
      Checks.atLeast("pathConcurrency", n, 1);
      this.pathConcurrency = n;
      return this;
    }

    /** Predicted CPU time that earns a query one more thread (> 0, default 250 ms). */
    public Builder cpuPerThread(Duration cpu) {
      Checks.positive("cpuPerThread", cpu);
      this.cpuPerThread = cpu;
      return this;
    }

    /**
     * Whether a query whose fingerprint is settled (its history predicts well, see {@code
     * QueryPredictor.settled}) is only planned, its sample run skipped (default true).
     */
    public Builder skipSettledShadows(boolean skip) {
      this.skipSettledShadows = skip;
      return this;
    }

    /** The ledger's and allocator's clock (default the system clock). */
    public Builder clock(Clock clock) {
      Checks.notNull("clock", clock);
      this.clock = clock;
      return this;
    }

    /** Receives progress messages (data generation); default none. */
    public Builder progress(Consumer<String> progress) {
      Checks.notNull("progress", progress);
      this.progress = progress;
      return this;
    }

    int cores() {
      if (ledger != null) {
        return (int) Math.max(1, ledger.nodes().stream().mapToLong(n -> n.capacity().cpuMillis()).max().orElse(1000)
            / 1000);
      }
      return (int) Math.max(1, nodes().values().stream().mapToLong(Resources::cpuMillis).max().orElse(1000) / 1000);
    }

    Map<String, Resources> nodes() {
      if (!nodes.isEmpty()) {
        return nodes;
      }
      long physical = 4L << 30;
      if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
        physical = os.getTotalMemorySize();
      }
      return Map.of("local", Resources.of(Runtime.getRuntime().availableProcessors() * 1000L, physical / 4));
    }

    /** Opens the database (generating it on first use), the shadow's replicas and the primary engine. */
    public QueryGateway build() throws SQLException {
      QueryDatabase db = QueryDatabase.open(new QueryDatabase.Options(scale, seed, cacheDir, database, primary,
          engineInstances, maxRows, shadowFractions, shadowTimeout, progress, operatorProfiler));
      try {
        return new QueryGateway(this, db);
      } catch (RuntimeException e) {
        db.close();
        throw e;
      }
    }
  }
}
