package dev.penumbra.stream;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Allocator;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.loop.ControlLoop;
import dev.penumbra.core.loop.CostModel;
import dev.penumbra.core.loop.Grant;
import dev.penumbra.core.loop.LoopStats;
import dev.penumbra.core.loop.Model;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A stream's control loop, one {@link #tick()} per planner interval. Each tick:
 *
 * <ol>
 *   <li><b>observe</b>: what the shadow saw of each partition in the interval (arrival rate = sampled records /
 *       sampling rate / interval; cost = the primary's busy time per processed record when the target reports
 *       both, else the shadow's measured CPU per record) becomes a {@link PartitionSignal};
 *   <li><b>predict</b>: the {@link StreamPlanner} forecasts it and plans; the plan's {@link PartitionPlan#demand}
 *       (CPU for the forecast rate's upper bound over the lead plus the backlog's drain) is the prediction;
 *   <li><b>reserve</b>: each partition holds one {@link Grant} of the stream's {@link ControlLoop}, placed through
 *       the core allocator on the stream's node, sized by that demand — not by whole workers — and retargeted
 *       ({@link Grant#target}) every tick, which grows it at once when the node has room;
 *   <li><b>actuate</b>: the {@link WorkerActuator} runs {@code ceil(reserved CPU / 1 core)} workers, so a
 *       partition never runs more workers than it holds;
 *   <li><b>adjust</b>: {@link ControlLoop#adjust()} renews every lease (keep-alive) and runs the core adjuster:
 *       it grows a reservation the measured need overruns, and shrinks one only after its headroom stayed unused
 *       for the grace period — the scale-down hysteresis;
 *   <li><b>guard</b>: the reactive rule ({@link ReactiveBaseline}, DS2 style, on the last measured rate) is scored
 *       beside the forecast on the same measured need; while it is the cheaper it sizes the grants
 *       ({@link #stats()}). Each partition's {@link QueueGuard} also scores both with the worker start-up and the
 *       queue it leaves, and while the reactive rule is the cheaper there the partition gives back nothing that rule
 *       would keep.
 * </ol>
 *
 * <p>Measured need of a partition in an interval: the larger of its workers' busy CPU (when the target reports
 * it) and its arrivals x measured cost per record. The shadow is held within a budget of the primary's CPU
 * ({@link Builder#shadowBudget}): the share of sampled records it processes is cut while it costs more and raised
 * again while it costs less; the arrival rate counts every sampled record either way.
 *
 * <p>About 600 lines: half of it is the builder's options, each checked where it is set; the tick's steps share the
 * per-partition state (last counters, grants, plans) that splitting would pass between classes.
 *
 * <p>Not thread-safe: one thread ticks it.
 */
public final class StreamController implements AutoCloseable {

  /**
   * Default grace in planner intervals. Tuned on NAB Twitter_volume_AMZN and _IBM (`bench stream --loads 1`), with
   * the shadow's cost: 0 -> 770 worker-s and p99 484 ms, 2 -> 820 and 326 ms, 10 -> 901 and 273 ms, reactive 846 and
   * 503 ms. With the primary's cost (loads 1 and 1.5, and Bitbrains 2013-7): 4 intervals (longer than the 3 s worker
   * start) cost 3-5% more worker-seconds than 2 and lowered no p99, so 2 stays.
   */
  static final int GRACE_INTERVALS = 2;

  /** Default share of a worker a reservation may exceed the running workers by before another starts. */
  static final double SCALE_UP_TOLERANCE = 0;

  /** The reactive baseline's default scale-down delay, in planner intervals. */
  static final int REACTIVE_SCALE_DOWN_INTERVALS = 30;

  /** Processed records an interval needs before the primary's busy time per record is taken as the cost. */
  static final long MIN_PRIMARY_RECORDS = 20;

  private final String name;
  private final StreamPlanner planner;
  private final ScalingTarget target;
  private final Shadow shadow;
  private final double samplingRate;
  private final Clock clock;
  private final Sla sla;
  private final ControlLoop<PartitionSignal> loop;
  private final WorkerActuator actuator;
  private final Allocator allocator;
  private final double shadowBudget;
  private final boolean backlogInNeed;
  private final long burstWindowMillis;
  private final Map<Integer, java.util.ArrayDeque<long[]>> recentNeed = new HashMap<>();
  private final double holdQuantile;
  private final boolean queueGuard;
  private final Map<Integer, QueueGuard> queueGuards = new HashMap<>();
  private final int graceIntervals;
  private long reactiveHeld;
  private final Map<Integer, ShadowStats> last = new HashMap<>();
  private final Map<Integer, Long> lastBusy = new HashMap<>();
  private final Map<Integer, Long> lastProcessed = new HashMap<>();
  private final Map<Integer, Grant<PartitionSignal>> grants = new HashMap<>();
  private Map<Integer, PartitionPlan> lastPlan = Map.of();
  private long lastMillis;
  private long shortfalls;
  // The shadow's cost and the primary's, decayed sums of CPU nanos (half-life ~10 ticks).
  private double shadowCpu;
  private double primaryCpu;
  private double shadowShare = Double.NaN;

  /**
   * The loop of a stream named "stream" on {@code ledger}'s node {@code node} (defaults for the rest; see
   * {@link #builder}); without a ledger it plans and scales on a ledger of its own sized for the planner's
   * maximum.
   */
  public StreamController(StreamPlanner planner, ScalingTarget target, Shadow shadow, Sampling sampling,
      Clock clock, Ledger ledger, String node) {
    this(builder(planner, target, shadow, sampling).clock(clock).ledger(ledger, node));
  }

  public static Builder builder(StreamPlanner planner, ScalingTarget target, Shadow shadow, Sampling sampling) {
    return new Builder(planner, target, shadow, sampling);
  }

  /**
   * Options; defaults: name "stream", the system clock, a ledger of its own, grace 2 intervals, keep-alive lease 3
   * intervals, margin 0.1, shadow budget 2%, the reactive baseline at 70% utilisation with a catch-up of the lead.
   */
  public static final class Builder {
    private final StreamPlanner planner;
    private final ScalingTarget target;
    private final Shadow shadow;
    private final Sampling sampling;
    private String name = "stream";
    private Clock clock = Clock.systemUTC();
    private Ledger ledger;
    private String node;
    private Duration grace;
    private double margin = 0.1;
    private double shadowBudget = 0.02;
    private double reactiveUtilisation = 0.7;
    private Duration workerStartup;
    private boolean backlogInNeed;
    private Duration burstWindow = Duration.ZERO;
    private double scaleUpTolerance = SCALE_UP_TOLERANCE;
    private Duration reactiveScaleDownDelay;
    private boolean queueGuard = true;
    private double holdQuantile = Double.NaN;

    private Builder(StreamPlanner planner, ScalingTarget target, Shadow shadow, Sampling sampling) {
      if (planner == null || target == null || shadow == null || sampling == null) {
        throw new IllegalArgumentException("planner, target, shadow and sampling are all required");
      }
      this.planner = planner;
      this.target = target;
      this.shadow = shadow;
      this.sampling = sampling;
    }

    /** The stream's name: its loop's name and the owner prefix of its reservations ({@code <name>/p<n>}). */
    public Builder name(String name) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("stream name must not be blank, was " + name);
      }
      this.name = name;
      return this;
    }

    public Builder clock(Clock clock) {
      if (clock == null) {
        throw new IllegalArgumentException("clock is missing");
      }
      this.clock = clock;
      return this;
    }

    /** Reserve on {@code node} of {@code ledger} (null: a ledger of the controller's own). */
    public Builder ledger(Ledger ledger, String node) {
      if (ledger != null && ledger.nodes().stream().noneMatch(n -> n.id().equals(node))) {
        throw new IllegalArgumentException("unknown ledger node '" + node + "'");
      }
      this.ledger = ledger;
      this.node = node;
      return this;
    }

    /**
     * How long a partition's headroom must stay unused before it is scaled down (>= 0). With {@link #margin}, set
     * and checked here as the core Adjuster's builder does, then handed to the loop's adjuster and the queue guard.
     */
    public Builder grace(Duration grace) {
      Checks.notNegative("grace", grace);
      this.grace = grace;
      return this;
    }

    /** Headroom kept above measured need when the adjuster resizes, as a share of it (>= 0). */
    public Builder margin(double margin) {
      Checks.atLeast("margin", margin, 0.0);
      this.margin = margin;
      return this;
    }

    /** The shadow's CPU at most this share of the primary's, in (0, 1]. */
    public Builder shadowBudget(double share) {
      Checks.share("shadowBudget", share);
      this.shadowBudget = share;
      return this;
    }

    /** The reactive baseline's target utilisation, in (0, 1] (Flink's autoscaler defaults to 0.7). */
    public Builder reactiveUtilisation(double u) {
      Checks.share("reactiveUtilisation", u);
      this.reactiveUtilisation = u;
      return this;
    }

    /**
     * How long the reactive baseline's lower need must last before it scales down (>= 0; default 30 intervals, the
     * delay of the benchmark's reactive scaler; Flink's autoscaler and KEDA wait longer by default).
     */
    public Builder reactiveScaleDownDelay(Duration d) {
      Checks.notNegative("reactiveScaleDownDelay", d);
      this.reactiveScaleDownDelay = d;
      return this;
    }

    /** How long a new worker takes to serve (the actuator's declared lag); unset: measured on the target. */
    public Builder workerStartup(Duration d) {
      Checks.notNegative("workerStartup", d);
      this.workerStartup = d;
      return this;
    }

    /**
     * Whether a partition's measured need counts the CPU that drains its backlog within the lead (default false):
     * the guard then prices the queue a shortfall leaves behind, not only the CPU missing in the interval, and the
     * adjuster grows on queueing.
     */
    public Builder backlogInNeed(boolean on) {
      this.backlogInNeed = on;
      return this;
    }

    /**
     * The burst-aware floor: a partition's demand is at least the highest need measured over this window, at the
     * planner's target utilisation (zero: no floor). Spikes shorter than an interval cannot be forecast; the floor
     * keeps what the last one needed while more may come.
     */
    public Builder burstWindow(Duration window) {
      Checks.notNegative("burstWindow", window);
      this.burstWindow = window;
      return this;
    }

    /**
     * Share of a worker a partition's reservation may exceed its running workers by before another worker starts,
     * while no more records wait than there are workers (in [0, 1); 0, the default: any excess starts one). A worker
     * costs a whole core from its start to its scale-down; a marginal excess of forecast need with nothing queued
     * rarely delays a record.
     */
    public Builder scaleUpTolerance(double share) {
      if (!(share >= 0 && share < 1)) {
        throw new IllegalArgumentException("scaleUpTolerance must be in [0, 1), was " + share);
      }
      this.scaleUpTolerance = share;
      return this;
    }

    /**
     * Whether each partition scores the forecast and the reactive rule with the queue a late worker leaves
     * ({@link QueueGuard}) and gives back nothing the reactive rule would keep while that rule has been the cheaper
     * there (default true). The loop's guard prices CPU missing within an interval as if workers served at once; on a
     * partition whose bursts the forecast does not see coming, the reactive rule's held workers are cheaper.
     */
    public Builder queueGuard(boolean on) {
      this.queueGuard = on;
      return this;
    }

    /**
     * The quantile a partition's capacity is held at: a reservation is not shrunk below the forecast's upper bound
     * at this level (while it is above the priority's quantile, it only holds, never grows). NaN (the default):
     * none beyond the grace.
     */
    public Builder holdQuantile(double level) {
      if (!Double.isNaN(level) && !(level > 0 && level < 1)) {
        throw new IllegalArgumentException("holdQuantile must be in (0, 1), was " + level);
      }
      this.holdQuantile = level;
      return this;
    }

    public StreamController build() {
      return new StreamController(this);
    }
  }

  private StreamController(Builder b) {
    this.name = b.name;
    this.planner = b.planner;
    this.target = b.target;
    this.shadow = b.shadow;
    this.samplingRate = b.sampling.rate();
    this.clock = b.clock;
    PlannerConfig pc = planner.config();
    this.sla = Sla.of(pc.priority());

    this.shadowBudget = b.shadowBudget;
    this.backlogInNeed = b.backlogInNeed;
    this.burstWindowMillis = b.burstWindow.toMillis();
    this.queueGuard = b.queueGuard;
    Duration grace = b.grace != null ? b.grace : pc.interval().multipliedBy(GRACE_INTERVALS);
    this.graceIntervals = (int) (grace.toNanos() / pc.interval().toNanos());
    this.holdQuantile = b.holdQuantile;
    Ledger ledger = b.ledger;
    String node = b.node;
    if (ledger == null) {
      ledger = Ledger.inMemory(clock);
      node = "local";
      long workers = (long) pc.maxWorkers() * target.partitions();
      ledger.addNode(node, Resources.of(workers * 1000, workers * pc.workerMemoryBytes()));
    }
    String pinned = node;
    Duration lease = pc.interval().multipliedBy(3);
    this.allocator = Allocator.builder(ledger).clock(clock).lease(lease).preemption(false)
        .initialState(Reservation.State.ACTIVE).feedback(new ErrorTracker())
        .placement((amount, nodes) -> nodes.stream()
            .filter(n -> n.id().equals(pinned) && amount.fits(n.free())).findFirst())
        .build();
    this.actuator = new WorkerActuator(target, pc, b.workerStartup, b.scaleUpTolerance);
    Model<PartitionSignal> model = new Model<>() {
      @Override
      public String name() {
        return "stream-forecast";
      }

      @Override
      public dev.penumbra.core.Demand predict(PartitionSignal signal) {
        return lastPlan.containsKey(signal.partition()) ? lastPlan.get(signal.partition()).demand()
            : planner.plan(signal.partition(), signal.backlog()).demand();
      }
    };
    this.loop = ControlLoop.builder(name, allocator, model).clock(clock).actuator(actuator)
        .grace(grace).margin(b.margin).keepAlive(lease)
        .baseline(new ReactiveBaseline(b.reactiveUtilisation, pc.lead().toNanos() / 1e9, pc,
            actuator::acquisitionLag, b.reactiveScaleDownDelay != null ? b.reactiveScaleDownDelay
                : pc.interval().multipliedBy(REACTIVE_SCALE_DOWN_INTERVALS)))
        .build();
    double initialShare = Math.min(1, shadowBudget / samplingRate);
    shadow.admit(Math.max(1e-3, initialShare));
    for (int p = 0; p < target.partitions(); p++) {
      planner.addPartition(p);
      last.put(p, shadow.stats(p));
      lastBusy.put(p, target.busyNanos(p));
      lastProcessed.put(p, target.processed(p));
    }
    this.lastMillis = clock.millis();
  }

  /** Observes the interval since the previous tick, plans, retargets every partition and adjusts. */
  public Map<Integer, PartitionPlan> tick() throws InterruptedException {
    long now = clock.millis();
    double seconds = Math.max(1e-3, (now - lastMillis) / 1e3);
    lastMillis = now;
    Map<Integer, Long> backlogs = new TreeMap<>();
    Map<Integer, Double> rates = new HashMap<>();
    Map<Integer, Double> busy = new HashMap<>();
    double shadowNanos = 0;
    double primaryNanos = 0;
    for (int p = 0; p < target.partitions(); p++) {
      ShadowStats cur = shadow.stats(p);
      ShadowStats d = cur.minus(last.get(p));
      last.put(p, cur);
      // Offered counts every sampled record, dropped and skipped ones too: the rate does not depend on the shadow.
      double rate = d.offered() / samplingRate / seconds;
      long b = target.busyNanos(p);
      long done = target.processed(p);
      double used = Double.NaN;
      double cost = d.cpuSecondsPerRecord();
      if (b >= 0) {
        long delta = Math.max(0, b - lastBusy.get(p));
        lastBusy.put(p, b);
        used = delta / seconds / 1e6;
        primaryNanos += delta;
        long records = done - lastProcessed.get(p);
        if (done >= 0 && records >= MIN_PRIMARY_RECORDS) {
          // The primary's own busy time per record is what its workers' capacity is: the shadow runs on another
          // thread (or machine), whose cost differs from the primary's by load, cache and JIT state.
          cost = delta / 1e9 / records;
        }
      }
      lastProcessed.put(p, done);
      planner.observe(p, now, rate, cost);
      rates.put(p, rate);
      backlogs.put(p, target.backlog(p));
      busy.put(p, used);
      shadowNanos += d.cpuNanos();
    }
    Map<Integer, PartitionPlan> plans = planner.plan(backlogs);
    lastPlan = plans;
    double arrivalNanos = 0;
    for (PartitionPlan plan : plans.values()) {
      int p = plan.partition();
      PartitionSignal signal = new PartitionSignal(p, now, rates.get(p), plan.costSecondsPerRecord(),
          backlogs.get(p), target.workers(p));
      arrivalNanos += signal.arrivalsMillicores() * 1e6 * seconds;
      double need = signal.arrivalsMillicores();
      Double measured = busy.get(p);
      if (measured != null && !measured.isNaN()) {
        need = Math.max(need, measured);
      }
      if (backlogInNeed) {
        need += backlogs.get(p) * plan.costSecondsPerRecord() * 1000 / (planner.config().lead().toNanos() / 1e9);
      }
      Grant<PartitionSignal> g = grants.get(p);
      Demand demand = withQuantileHold(p, backlogs.get(p), withBurstFloor(p, now, need, plan.demand()), g);
      demand = withReactiveFloor(p, need, seconds, signal, demand);
      if (g == null || g.isEnded()) {
        g = loop.reserve(name + "/p" + p, signal, demand, sla);
        grants.put(p, g);
      } else if (g.isPlaced()) {
        // Memory: what the workers this need occupies are given (a worker's memory is configured, not measured).
        g.observe(amountFor((long) Math.ceil(need), planner.config()));
        g.target(demand, signal);
      }
    }
    allocator.tick();
    loop.adjust();
    for (PartitionPlan plan : plans.values()) {
      Grant<PartitionSignal> g = grants.get(plan.partition());
      if (!g.isPlaced() || g.isEnded() || (g.floor() != null && !g.floor().fits(g.reservation().amount()))) {
        shortfalls++;
      }
    }
    budgetShadow(shadowNanos, primaryNanos > 0 ? primaryNanos : arrivalNanos);
    return plans;
  }

  /**
   * Keeps the shadow within its budget: decayed sums of the shadow's and the primary's CPU give the share; while
   * it is above budget the admitted share is cut in proportion, while below it grows back by at most 10% a tick.
   */
  private void budgetShadow(double shadowNanos, double primaryNanos) {
    shadowCpu = shadowCpu * 0.93 + shadowNanos;
    primaryCpu = primaryCpu * 0.93 + primaryNanos;
    if (primaryCpu <= 0) {
      return;
    }
    shadowShare = shadowCpu / primaryCpu;
    double admitted = shadow.admitted();
    double next = shadowShare > shadowBudget
        ? admitted * shadowBudget / shadowShare
        : Math.min(admitted * 1.1, shadowShare > 0 ? admitted * shadowBudget / shadowShare : 1);
    shadow.admit(Math.max(1e-3, Math.min(1, next)));
  }

  /**
   * Scores the partition's forecast and reactive rule on the interval that closed ({@link QueueGuard}) and, while
   * the reactive rule has been the cheaper there, raises {@code demand}'s upper bound to the smaller of what the
   * partition holds and what that rule holds: it gives back nothing that rule would keep, and starts nothing the
   * forecast does not ask for (raising it to the rule's size started workers for the same p99).
   */
  private Demand withReactiveFloor(int p, double need, double seconds, PartitionSignal signal, Demand demand) {
    Resources reactive = loop.baselineSize(signal, sla);
    if (reactive == null) {
      return demand;
    }
    double level = sla.priority().quantile();
    Resources upper = demand.at(level);
    QueueGuard qg = queueGuards.computeIfAbsent(p, k -> new QueueGuard(lagIntervals(), graceIntervals,
        CostModel.DEFAULT, shortfallFactor(sla.priority())));
    qg.score(need, seconds, upper.cpuMillis(), reactive.cpuMillis());
    Grant<PartitionSignal> g = grants.get(p);
    long keep = g == null || !g.isPlaced() || g.isEnded() ? 0
        : Math.min(reactive.cpuMillis(), g.reservation().amount().cpuMillis());
    if (!queueGuard || !qg.reactiveCheaper() || keep <= upper.cpuMillis()) {
      return demand;
    }
    reactiveHeld++;
    return Demand.of(demand.point(), level, amountFor(keep, planner.config()).max(upper), demand.model(),
        demand.lowConfidence());
  }

  private int lagIntervals() {
    return (int) Math.ceil(actuator.acquisitionLag().toNanos() / (double) planner.config().interval().toNanos() - 1e-9);
  }

  private static double shortfallFactor(dev.penumbra.core.Priority priority) {
    CostModel c = CostModel.DEFAULT;
    return switch (priority) {
      case CRITICAL -> c.shortfallFactor() * c.criticalWeight();
      case STANDARD -> c.shortfallFactor();
      case BATCH -> c.shortfallFactor() / c.criticalWeight();
    };
  }

  /**
   * Partition-intervals in which the reactive rule's size kept a partition's capacity up because the queue guard
   * found that rule the cheaper there.
   */
  public long reactiveHeldIntervals() {
    return reactiveHeld;
  }

  /** Whether the partition's queue guard keeps what the reactive rule would keep now. */
  public boolean reactiveHolds(int partition) {
    QueueGuard qg = queueGuards.get(partition);
    return queueGuard && qg != null && qg.reactiveCheaper();
  }

  /**
   * {@code demand} with its upper bound raised to what the partition holds now, as far as the forecast's upper bound
   * at the hold quantile reaches: capacity is given back only where even that bound no longer needs it.
   */
  private Demand withQuantileHold(int p, long backlog, Demand demand, Grant<PartitionSignal> g) {
    if (Double.isNaN(holdQuantile) || g == null || !g.isPlaced() || g.isEnded()) {
      return demand;
    }
    double level = sla.priority().quantile();
    Resources upper = demand.at(level);
    long held = g.reservation().amount().cpuMillis();
    long floor = Math.min(held, planner.upperMillis(p, backlog, holdQuantile));
    if (floor <= upper.cpuMillis()) {
      return demand;
    }
    return Demand.of(demand.point(), level, amountFor(floor, planner.config()).max(upper), demand.model(),
        demand.lowConfidence());
  }

  /** {@code demand} with its upper bound raised to the highest need of the burst window, if that is more. */
  private Demand withBurstFloor(int p, long now, double need, Demand demand) {
    if (burstWindowMillis <= 0) {
      return demand;
    }
    java.util.ArrayDeque<long[]> q = recentNeed.computeIfAbsent(p, k -> new java.util.ArrayDeque<>());
    q.addLast(new long[] {now, (long) Math.ceil(need)});
    while (q.peekFirst()[0] < now - burstWindowMillis) {
      q.pollFirst();
    }
    long peak = 0;
    for (long[] e : q) {
      peak = Math.max(peak, e[1]);
    }
    long floor = (long) Math.ceil(peak / planner.config().targetUtilisation());
    double level = sla.priority().quantile();
    Resources upper = demand.at(level);
    if (floor <= upper.cpuMillis()) {
      return demand;
    }
    return Demand.of(demand.point(), level, amountFor(floor, planner.config()).max(upper), demand.model(),
        demand.lowConfidence());
  }

  /** CPU {@code cpuMillis} and the memory of the workers it runs (1 core each, within the planner's bounds). */
  static Resources amountFor(long cpuMillis, PlannerConfig config) {
    long w = Math.max(config.minWorkers(), Math.min(config.maxWorkers(), (cpuMillis + 999) / 1000));
    return Resources.of(cpuMillis, w * config.workerMemoryBytes());
  }

  /** The plans of the last tick. */
  public Map<Integer, PartitionPlan> lastPlan() {
    return lastPlan;
  }

  public StreamPlanner planner() {
    return planner;
  }

  /** Worker-count changes applied so far. */
  public long scalings() {
    return actuator.scalings();
  }

  /** Partition-ticks where a partition's reservation could not be placed or grown to its demand. */
  public long shortfalls() {
    return shortfalls;
  }

  /** The partition's live reservation id, if any. */
  public Optional<Long> reservation(int partition) {
    Grant<PartitionSignal> g = grants.get(partition);
    if (g == null || !g.isPlaced() || g.isEnded()) {
      return Optional.empty();
    }
    return Optional.of(g.reservation().id());
  }

  /** The partition's reservation as the loop last saw it, if it holds one. */
  public Optional<Reservation> reserved(int partition) {
    return reservation(partition).map(id -> grants.get(partition).reservation());
  }

  /**
   * What the loop's reactive baseline rule would hold for the partition now (DS2 style at the reactive
   * utilisation, scaling down only after its delay), or empty before the partition's first tick.
   */
  public Optional<Resources> baselineSize(int partition) {
    Grant<PartitionSignal> g = grants.get(partition);
    return g == null ? Optional.empty() : Optional.ofNullable(g.baseCandidate());
  }

  /** The loop's totals: reserved vs used resource-time and the baseline guard (acting rule, both costs). */
  public LoopStats stats() {
    return loop.stats();
  }

  /** The shadow's measured CPU as a share of the primary's (decayed), NaN before any was measured. */
  public double shadowShare() {
    return shadowShare;
  }

  /** The shadow's budget, a share of the primary's CPU. */
  public double shadowBudget() {
    return shadowBudget;
  }

  /** How long a new worker takes to serve, as the actuator declares it. */
  public Duration acquisitionLag() {
    return actuator.acquisitionLag();
  }

  /** Releases every partition's reservation. */
  @Override
  public void close() {
    loop.close();
    allocator.close();
  }
}
