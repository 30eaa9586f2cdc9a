package dev.penumbra.shard;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Demand;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Allocator;
import dev.penumbra.core.allocate.Placement;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.loop.Baseline;
import dev.penumbra.core.loop.ControlLoop;
import dev.penumbra.core.loop.Grant;
import dev.penumbra.core.loop.LoopStats;
import dev.penumbra.core.loop.Model;
import dev.penumbra.core.predict.Features;
import dev.penumbra.core.predict.Predictor;
import dev.penumbra.core.predict.RunningQuantilePredictor;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * Runs requests as shards: predicts each shard, reserves it through the core {@link Allocator} before dispatch,
 * dispatches it on the backend its reservation was placed on, and sweeps.
 *
 * <p><b>Prediction.</b> Per unit, the {@link ShardHistory} gives milliseconds per key (p50/p90/p99) from similar
 * finished work; a shard's predicted duration is that times its keys. Its resources come from a core
 * {@link Predictor} per function (features: its keys, its unit's and request's keys, the history's ms per key, the
 * live load of its priority's pools, and the unit's hints), sized by the allocator at the priority's quantile.
 *
 * <p><b>Policy.</b> {@link ShardPolicy#PREDICTED} cuts by predicted (p50) cost so that a request's shards finish
 * together: the request's shard length is {@code max(total / shards, min(targetShard, median unit cost))} (as long
 * as its typical unit, never longer than {@code targetShard}, never more than {@code shards} shards), and each unit
 * gets {@code ceil(its cost / that)} key ranges (at least one, at most one per key); fixed policies
 * ({@link ShardPolicy#KEY_RANGE}, {@link ShardPolicy#HASH}, {@link ShardPolicy#FUNCTIONAL}) ignore predictions.
 *
 * <p><b>Reservation before dispatch.</b> A shard asks the core {@link ControlLoop} for its reservation when every
 * shard it depends on has its result ({@link ControlLoop#reserve} -> {@link Grant}); the loop's actuator acquires a
 * slot on the backend (ledger node) the reservation was placed on, only ever a live backend of this engine, avoiding
 * one that failed within {@link Builder#cooldown} when another fits. The grant is activated at dispatch, observed
 * while the attempt runs (when its backend measures it), and completed with what the attempt used. The loop's
 * {@link dev.penumbra.core.allocate.Adjuster} renews the leases of running shards; its baseline guard scores the
 * uniform static size ({@link Builder#baseline}) beside the predictor's on the same measured use.
 *
 * <p><b>Sweeper ({@link #tick}).</b> An attempt whose backend died is lost and its reservation reclaimed; one running
 * past its timeout ({@code max(minTimeout, p99 x timeoutFactor)}) gets a backup attempt on another backend at once
 * (slow and hung look alike from outside) and is itself given up, cancelled and its reservation reclaimed at
 * {@value #HUNG_FACTOR}x its timeout. A failed or lost attempt is retried after a backoff
 * ({@code backoff x 2^(attempt-1)}) on another backend. After {@code maxAttempts} attempts, once none is left
 * running, the request fails and everything it holds is released. Results are keyed by shard id:
 * the first result of a shard is accepted (even from an attempt already taken for hung), later ones are counted as
 * duplicates and dropped. Leases of running attempts are renewed. Every outcome is recorded in the history (in batches of
 * {@value #FLUSH_BATCH}, and on close), learned by the predictor and reported to the allocator ({@link Allocator#recordOutcome}).
 *
 * <p>Thread-safe: one lock; backends may report from any thread. This class is long because the dispatch and the
 * sweeper share all of its state; splitting them would only move that state behind accessors.
 */
public final class ShardEngine implements AutoCloseable {

  private final Ledger ledger;
  private final Clock clock;
  private final ShardHistory history;
  private final Allocator allocator;
  private final ControlLoop<ShardSignal> loop;
  private final BackendSlots slots;
  private Instant nextAdjust;
  private final Map<String, Backend> backends = new LinkedHashMap<>();
  private final Function<String, Predictor> predictorFactory;
  private final Map<String, Predictor> predictors = new HashMap<>();
  private final Resources defaultDemand;
  private final Duration targetShard;
  private final double timeoutFactor;
  private final Duration minTimeout;
  private final int maxAttempts;
  private final Duration backoff;
  private final Duration lease;
  private final Duration cooldown;
  private final int maxInFlight;

  private final Map<String, Req> requests = new LinkedHashMap<>();
  private final Map<String, Live> live = new LinkedHashMap<>();
  /** Attempts given up on (hung) whose result may still come: attempt id -> its attempt. */
  private final Map<String, Live> zombies = new HashMap<>();
  private final Map<String, Instant> lastFailure = new HashMap<>();
  /** Shards waiting for a retry (so the sweeper need not walk every shard). */
  private final java.util.Set<State> retrying = new java.util.LinkedHashSet<>();
  private final List<ShardProfile> unrecorded = new ArrayList<>();

  private long nRequests, nCompleted, nFailed, nShards, nAttempts, nRetries, nFailures, nTimeouts, nLost, nAccepted,
      nDuplicates, nCancelled;
  private double reservedCpuMs, usedCpuMs, queuedMs;

  private ShardEngine(Builder b) {
    this.ledger = b.ledger;
    this.clock = b.clock != null ? b.clock : b.ledger.clock();
    this.history = b.history;
    this.predictorFactory = b.predictorFactory;
    this.defaultDemand = b.defaultDemand;
    this.targetShard = b.targetShard;
    this.timeoutFactor = b.timeoutFactor;
    this.minTimeout = b.minTimeout;
    this.maxAttempts = b.maxAttempts;
    this.backoff = b.backoff;
    this.lease = b.lease;
    this.cooldown = b.cooldown;
    this.maxInFlight = b.maxInFlight;
    for (Backend be : b.backends) {
      if (backends.put(be.id(), be) != null) {
        throw new IllegalArgumentException("backend '" + be.id() + "' given twice");
      }
      boolean known = ledger.nodes().stream().anyMatch(n -> n.id().equals(be.id()));
      if (!known) {
        ledger.addNode(be.id(), be.capacity());
      }
    }
    if (backends.isEmpty()) {
      throw new IllegalArgumentException("at least one backend is needed");
    }
    // Preemption off: a running shard cannot give back its cores mid-flight.
    this.allocator = Allocator.builder(ledger).clock(clock).placement(this::place).preemption(false).lease(lease)
        .feedback(b.feedback).build();
    this.slots = new BackendSlots(backends);
    this.loop = ControlLoop.builder("shard", allocator, new ShardModel()).clock(clock).actuator(slots)
        .keepAlive(lease).baseline(Baseline.fixed("uniform-static", b.baseline != null ? b.baseline : defaultDemand))
        .build();
    this.nextAdjust = clock.instant();
  }

  /**
   * What the loop's model reads for a shard: its function (each has its own predictor) and its features.
   */
  record ShardSignal(String function, Features features) {}

  /** The predict and learn steps: the function's predictor, the default demand while it knows nothing. */
  private final class ShardModel implements Model<ShardSignal> {
    @Override
    public String name() {
      return "shard";
    }

    @Override
    public Demand predict(ShardSignal s) {
      Demand d = predictor(s.function()).predict(s.features());
      if (d.point().isZero() || d.lowConfidence() && d.point().cpuMillis() == 0) {
        d = Demand.exact(defaultDemand, "shard/default");
      }
      return d;
    }

    @Override
    public void learn(ShardSignal s, Resources actual) {
      predictor(s.function()).learn(s.features(), actual);
    }
  }

  public static Builder builder(Ledger ledger, ShardHistory history) {
    return new Builder(ledger, history);
  }

  /** Options; defaults in each setter's comment. */
  public static final class Builder {
    private final Ledger ledger;
    private final ShardHistory history;
    private final List<Backend> backends = new ArrayList<>();
    private Clock clock;
    private Function<String, Predictor> predictorFactory =
        f -> new RunningQuantilePredictor("shard/" + f, 1000, 5, new ErrorTracker());
    private Resources defaultDemand = Resources.of(1000, 64L << 20);
    private Duration targetShard = Duration.ofSeconds(1);
    private double timeoutFactor = 2.0;
    private Duration minTimeout = Duration.ofSeconds(1);
    private int maxAttempts = 4;
    private Duration backoff = Duration.ofMillis(100);
    private Duration lease = Duration.ofHours(1);
    private Duration cooldown = Duration.ofSeconds(30);
    private ErrorTracker feedback = new ErrorTracker();
    private int maxInFlight = Integer.MAX_VALUE;
    private Resources baseline;

    private Builder(Ledger ledger, ShardHistory history) {
      Checks.notNull("ledger", ledger);
      Checks.notNull("history", history);
      this.ledger = ledger;
      this.history = history;
    }

    /** Adds a backend; its id becomes (or must already be) a node of the ledger. */
    public Builder backend(Backend backend) {
      Checks.notNull("backend", backend);
      backends.add(backend);
      return this;
    }

    /** The clock of timeouts and backoffs; the ledger's by default. */
    public Builder clock(Clock clock) {
      Checks.notNull("clock", clock);
      this.clock = clock;
      return this;
    }

    /** One resource predictor per function; a running quantile over the last 1000 outcomes by default. */
    public Builder predictors(Function<String, Predictor> factory) {
      Checks.notNull("predictor factory", factory);
      this.predictorFactory = factory;
      return this;
    }

    /** What a shard reserves while its function has no history; 1 core and 64 MiB by default. */
    public Builder defaultDemand(Resources amount) {
      if (amount == null || amount.isZero()) {
        throw new IllegalArgumentException("default demand must be non-zero, was " + amount);
      }
      this.defaultDemand = amount;
      return this;
    }

    /** The longest a PREDICTED shard is cut to last while the shard budget allows (> 0); 1 s by default. */
    public Builder targetShard(Duration d) {
      this.targetShard = Checks.positive("target shard duration", d);
      return this;
    }

    /** Timeout = max(minTimeout, predicted p99 x factor); factor >= 1, 2 by default. */
    public Builder timeoutFactor(double factor) {
      Checks.atLeast("timeout factor", factor, 1.0);
      this.timeoutFactor = factor;
      return this;
    }

    /** The shortest timeout (> 0); 1 s by default. */
    public Builder minTimeout(Duration d) {
      this.minTimeout = Checks.positive("min timeout", d);
      return this;
    }

    /** Attempts per shard before the request fails (>= 1); 4 by default. */
    public Builder maxAttempts(int n) {
      Checks.atLeast("max attempts", n, 1);
      this.maxAttempts = n;
      return this;
    }

    /** First retry's delay, doubled per attempt (>= 0); 100 ms by default. */
    public Builder backoff(Duration d) {
      Checks.notNegative("backoff", d);
      this.backoff = d;
      return this;
    }

    /** Lease of shard reservations, renewed while they run (> 0); 1 h by default. */
    public Builder lease(Duration d) {
      this.lease = Checks.positive("lease", d);
      return this;
    }

    /** How long a backend with a failure is avoided when another fits (>= 0); 30 s by default. */
    public Builder cooldown(Duration d) {
      Checks.notNegative("cooldown", d);
      this.cooldown = d;
      return this;
    }

    /**
     * The most shards of one request reserving or running at once (>= 1); unlimited by default. A request cut into
     * many shards then cannot fill the allocator's queue ahead of every request that arrives after it.
     */
    public Builder maxInFlight(int n) {
      Checks.atLeast("max in flight", n, 1);
      this.maxInFlight = n;
      return this;
    }

    /**
     * The uniform static size (every shard the same, as a Ray task with a fixed {@code num_cpus} gets) the loop's
     * baseline guard scores beside the predictor's and acts on while it is the cheaper; the default demand by
     * default.
     */
    public Builder baseline(Resources amount) {
      if (amount == null || amount.isZero()) {
        throw new IllegalArgumentException("baseline size must be non-zero, was " + amount);
      }
      this.baseline = amount;
      return this;
    }

    /** Where reservation outcomes are tracked and read back by the allocator's sizing. */
    public Builder feedback(ErrorTracker tracker) {
      Checks.notNull("feedback tracker", tracker);
      this.feedback = tracker;
      return this;
    }

    public ShardEngine build() {
      return new ShardEngine(this);
    }
  }

  // ------------------------------------------------------------------ state

  private static final class Req {
    final ShardRequest request;
    final ShardPolicy policy;
    final Instant arrival;
    final List<State> shards = new ArrayList<>();
    final CompletableFuture<RequestResult> future = new CompletableFuture<>();
    final java.util.ArrayDeque<State> backlog = new java.util.ArrayDeque<>();
    final Map<String, State> predicted = new HashMap<>();
    int inFlight;
    int remaining;
    boolean failed;

    Req(ShardRequest request, ShardPolicy policy, Instant arrival) {
      this.request = request;
      this.policy = policy;
      this.arrival = arrival;
    }
  }

  private static final class State {
    final Req req;
    final Shard shard;
    final CostEstimate estimate;
    final long unitKeys;
    final List<State> dependents = new ArrayList<>();
    int waitingFor;
    int attempts;
    /** The grant asked for and not yet placed, else null. */
    Grant<ShardSignal> pending;
    ShardSignal signal;
    Demand demand;
    Instant retryAt;
    Instant requestedAt;
    boolean done;
    ShardReport report;

    State(Req req, Shard shard, CostEstimate estimate, long unitKeys) {
      this.req = req;
      this.shard = shard;
      this.estimate = estimate;
      this.unitKeys = unitKeys;
    }

    double p50() {
      return estimate.millis(shard.keys(), 0.5);
    }

    double p99() {
      return estimate.millis(shard.keys(), 0.99);
    }
  }

  /** An attempt that ran past its timeout gets a backup and is given up at this multiple of its timeout. */
  static final int HUNG_FACTOR = 4;
  /** Profiles written to the history in one statement; estimates lag the history by at most this many. */
  static final int FLUSH_BATCH = 256;

  private record Live(State state, Attempt attempt, Grant<ShardSignal> grant, Backend backend, Instant started,
      Instant deadline, boolean overdue) {}

  // ------------------------------------------------------------------ API

  /**
   * Cuts a request into shards and starts reserving the first stage. Everything is validated before anything is
   * reserved: a bad request, policy or shard count throws naming the field and value, and reserves nothing.
   *
   * @param shards shards per unit for KEY_RANGE and HASH; for PREDICTED the request's budget (about that many in
   *     all, at least one per unit); ignored by FUNCTIONAL
   * @return completes with the result, or exceptionally when a shard runs out of attempts or can never be placed
   */
  public CompletableFuture<RequestResult> submit(ShardRequest request, ShardPolicy policy, int shards) {
    return submit(request, policy, shards, null);
  }

  /**
   * Runs a request cut at explicit key ranges per unit ({@link ShardGenerator#fromRanges}: each unit's ranges must
   * cover its keys exactly). Validated before anything is reserved, as {@link #submit(ShardRequest, ShardPolicy,
   * int)}.
   */
  public CompletableFuture<RequestResult> submit(ShardRequest request, Map<String, List<KeyRange>> ranges) {
    if (ranges == null) {
      throw new IllegalArgumentException("ranges are missing for request '" + (request == null ? null : request.id())
          + "'");
    }
    return submit(request, ShardPolicy.KEY_RANGE, 1, ranges);
  }

  private CompletableFuture<RequestResult> submit(ShardRequest request, ShardPolicy policy, int shards,
      Map<String, List<KeyRange>> ranges) {
    if (request == null) {
      throw new IllegalArgumentException("request is missing");
    }
    if (policy == null) {
      throw new IllegalArgumentException("policy is missing for request '" + request.id() + "'");
    }
    if (shards < 1) {
      throw new IllegalArgumentException("request '" + request.id() + "': shards must be >= 1, was " + shards);
    }
    synchronized (this) {
      if (requests.containsKey(request.id())) {
        throw new IllegalArgumentException("request '" + request.id() + "' is already running");
      }
      Map<String, CostEstimate> est = new HashMap<>();
      for (Unit u : request.units()) {
        est.put(u.name(), history.estimate(request.type(), u.function(), u.keys().size()));
      }
      List<Shard> cut = ranges != null ? ShardGenerator.fromRanges(request, ranges) : switch (policy) {
        case FUNCTIONAL -> ShardGenerator.generate(request, policy, 1);
        case KEY_RANGE, HASH -> ShardGenerator.generate(request, policy, shards);
        case PREDICTED -> {
          // A budget of `shards` for the request, spent where the predicted cost is: every shard lasts about the same.
          double total = 0;
          double[] costs = new double[request.units().size()];
          for (int i = 0; i < costs.length; i++) {
            Unit u = request.units().get(i);
            costs[i] = est.get(u.name()).millis(u.keys().size(), 0.5);
            total += costs[i];
          }
          java.util.Arrays.sort(costs);
          double median = costs[(costs.length - 1) / 2];
          long budget = shards;
          double target = Math.max(Math.max(total / budget, 1e-9), Math.min(targetShard.toMillis(), median));
          yield ShardGenerator.generate(request, policy, u -> {
            long k = (long) Math.ceil(est.get(u.name()).millis(u.keys().size(), 0.5) / target);
            return (int) Math.max(1, Math.min(k, Math.min(budget, u.keys().size())));
          });
        }
      };
      Req req = new Req(request, policy, clock.instant());
      Map<String, State> byId = new HashMap<>();
      Map<String, Long> unitKeys = new HashMap<>();
      for (Unit u : request.units()) {
        unitKeys.put(u.name(), u.keys().size());
      }
      for (Shard s : cut) {
        State st = new State(req, s, est.get(s.unit()), unitKeys.get(s.unit()));
        st.waitingFor = s.dependsOn().size();
        req.shards.add(st);
        byId.put(s.id(), st);
      }
      for (State st : req.shards) {
        for (String d : st.shard.dependsOn()) {
          byId.get(d).dependents.add(st);
        }
      }
      req.remaining = req.shards.size();
      requests.put(request.id(), req);
      nRequests++;
      nShards += cut.size();
      for (State st : req.shards) {
        if (st.waitingFor == 0) {
          ready(st);
        }
      }
      return req.future;
    }
  }

  /**
   * Cancels a request that still runs: its running attempts are cancelled on their backends, everything it holds
   * (tickets, reservations) is released, and its future completes exceptionally ({@link ShardFailedException},
   * "cancelled"). Results that still come are dropped.
   *
   * @return false when no request of that id runs (unknown, or already ended)
   */
  public boolean cancel(String requestId) {
    synchronized (this) {
      Req r = requests.get(requestId);
      if (r == null) {
        return false;
      }
      fail(r, "cancelled");
    }
    allocator.tick();
    return true;
  }

  /** Sweeps: lost and hung attempts, due retries, lease renewals, then lets the allocator admit what fits. */
  public void tick() {
    synchronized (this) {
      Instant now = clock.instant();
      for (Live l : new ArrayList<>(live.values())) {
        if (!l.backend.alive()) {
          nLost++;
          endAttempt(l, now);
          // Its result may still come (a restarted worker runs the shard again): kept so it is counted, not lost.
          zombies.put(l.attempt.id(), l);
          lastFailure.put(l.backend.id(), now);
          retryOrFail(l.state, now, "backend " + l.backend.id() + " died");
        } else if (!now.isBefore(l.deadline) && !l.overdue && l.state.attempts < maxAttempts) {
          // Slow or hung: a backup runs elsewhere while this one may still finish; the first result wins.
          nTimeouts++;
          live.put(l.attempt.id(), new Live(l.state, l.attempt, l.grant, l.backend, l.started,
              l.started.plus(l.attempt.timeout().multipliedBy(HUNG_FACTOR)), true));
          lastFailure.put(l.backend.id(), now);
          nRetries++;
          l.state.retryAt = now;
          retrying.add(l.state);
        } else if (!now.isBefore(l.deadline)) {
          // Past its last deadline: taken for hung, cancelled, its reservation reclaimed.
          nTimeouts++;
          endAttempt(l, now);
          zombies.put(l.attempt.id(), l);
          cancelAttempt(l);
          lastFailure.put(l.backend.id(), now);
          retryOrFail(l.state, now, "attempt " + l.attempt.id() + " ran past its timeout " + l.attempt.timeout());
        } else {
          // What it uses now, when its backend measures it: the loop's adjuster and guard read it.
          l.backend.usage(l.attempt.id()).ifPresent(u -> {
            if (!l.grant.isEnded()) {
              l.grant.observe(u);
            }
          });
        }
      }
      if (!now.isBefore(nextAdjust)) {
        // Renews the leases of running shards (well before they run out) and adjusts what is measured.
        nextAdjust = now.plus(lease.dividedBy(4));
        loop.adjust();
      }
      for (State st : new ArrayList<>(retrying)) {
        if (st.retryAt == null || st.req.failed || st.done) {
          retrying.remove(st);
        } else if (!now.isBefore(st.retryAt)) {
          st.retryAt = null;
          retrying.remove(st);
          if (st.pending == null) {
            reserve(st);
          }
        }
      }
    }
    allocator.tick();
  }

  /** When {@link #tick} next has something to do (a timeout or a retry), if anything. */
  public synchronized Optional<Instant> nextWakeup() {
    Instant next = null;
    for (Live l : live.values()) {
      next = next == null || l.deadline.isBefore(next) ? l.deadline : next;
    }
    for (State st : retrying) {
      if (st.retryAt != null && (next == null || st.retryAt.isBefore(next))) {
        next = st.retryAt;
      }
    }
    return Optional.ofNullable(next);
  }

  public synchronized EngineStats stats() {
    return new EngineStats(nRequests, nCompleted, nFailed, nShards, nAttempts, nRetries, nFailures, nTimeouts, nLost,
        nAccepted, nDuplicates, reservedCpuMs, usedCpuMs, queuedMs, nCancelled);
  }

  /**
   * Where one shard of a request stands.
   *
   * @param shard the shard
   * @param state {@code waiting} (for the shards it depends on, or its request's in-flight window), {@code reserving}
   *     (asked the loop, not placed yet), {@code retrying} (backing off), {@code running}, {@code done}, {@code failed}
   * @param attempts attempts started
   * @param predictedP50Millis predicted duration, median
   * @param predictedP99Millis predicted duration, 99th percentile
   * @param demand the predicted resources (point), or null before it is predicted
   * @param reservationId the running attempt's reservation, or -1
   * @param backend where it runs or ran, or null
   * @param reserved what its reservation holds (running) or held (done), or null
   */
  public record ShardStatus(Shard shard, String state, int attempts, double predictedP50Millis,
      double predictedP99Millis, Resources demand, long reservationId, String backend, Resources reserved) {}

  /** The shards of a request not yet finished, in generation order; empty once it finished or is unknown. */
  public synchronized Optional<List<ShardStatus>> status(String requestId) {
    Req req = requests.get(requestId);
    if (req == null) {
      return Optional.empty();
    }
    Map<State, Live> running = new HashMap<>();
    for (Live l : live.values()) {
      running.putIfAbsent(l.state, l);
    }
    List<ShardStatus> out = new ArrayList<>();
    for (State st : req.shards) {
      Live l = running.get(st);
      String state = st.done ? "done" : req.failed ? "failed" : l != null ? "running" : st.pending != null
          ? "reserving" : st.retryAt != null ? "retrying" : "waiting";
      Resources demand = st.demand == null ? null : st.demand.point();
      if (st.done) {
        out.add(new ShardStatus(st.shard, state, st.attempts, st.p50(), st.p99(), demand, -1, st.report.backend(),
            st.report.reserved()));
      } else if (l != null) {
        Reservation r = l.grant.reservation();
        out.add(new ShardStatus(st.shard, state, st.attempts, st.p50(), st.p99(), demand, r.id(), l.backend.id(),
            r.amount()));
      } else {
        out.add(new ShardStatus(st.shard, state, st.attempts, st.p50(), st.p99(), demand, -1, null, null));
      }
    }
    return Optional.of(out);
  }

  /** What the loop's grants hold on each backend now (its actuator's slots). */
  public Map<String, Resources> heldByBackend() {
    return slots.heldByBackend();
  }

  /** How many attempts run now. */
  public synchronized int running() {
    return live.size();
  }

  /** Requests not yet finished. */
  public synchronized int active() {
    return requests.size();
  }

  public List<Backend> backends() {
    return List.copyOf(backends.values());
  }

  /** The allocator shard reservations go through (for its queue and feedback). */
  public Allocator allocator() {
    return allocator;
  }

  /** The control loop every shard reservation passes through: its grants, reserved and used time, the guard. */
  public LoopStats loopStats() {
    return loop.stats();
  }

  /** Fails every unfinished request (releasing what it holds) and stops the allocator. */
  @Override
  public void close() {
    synchronized (this) {
      for (Req r : new ArrayList<>(requests.values())) {
        fail(r, "engine closed");
      }
      flushHistory();
    }
    loop.close();
    allocator.close();
  }

  // ------------------------------------------------------------------ internals

  private Optional<NodeView> place(Resources amount, List<NodeView> nodes) {
    Instant now = clock.instant();
    List<NodeView> fresh = new ArrayList<>();
    List<NodeView> cooling = new ArrayList<>();
    for (NodeView n : nodes) {
      Backend b = backends.get(n.id());
      if (b == null || !b.alive()) {
        continue;
      }
      Instant f = lastFailure.get(n.id());
      (f != null && now.isBefore(f.plus(cooldown)) ? cooling : fresh).add(n);
    }
    Optional<NodeView> chosen = Placement.bestFit().choose(amount, fresh);
    return chosen.isPresent() ? chosen : Placement.bestFit().choose(amount, cooling);
  }

  private double load(Priority p) {
    double sum = 0;
    int n = 0;
    for (Backend b : backends.values()) {
      if (b.alive()) {
        sum += b.utilization().getOrDefault(p, 0.0);
        n++;
      }
    }
    return n == 0 ? 1 : sum / n;
  }

  private Predictor predictor(String function) {
    return predictors.computeIfAbsent(function, predictorFactory);
  }

  /** A shard whose dependencies are done: reserves it when its request has room in flight, else queues it. */
  private void ready(State st) {
    if (st.req.inFlight < maxInFlight) {
      st.req.inFlight++;
      reserve(st);
    } else {
      st.req.backlog.add(st);
    }
  }

  private void predict(State st) {
    Unit unit = st.req.request.units().stream().filter(u -> u.name().equals(st.shard.unit())).findFirst().orElseThrow();
    Features.Builder f = Features.builder()
        .put("keys", st.shard.keys())
        .put("unit_keys", st.unitKeys)
        .put("request_keys", st.req.request.keys())
        .put("ms_per_key", st.estimate.p50())
        .put("load", load(st.shard.priority()));
    for (Map.Entry<String, Double> e : unit.hints().values().entrySet()) {
      f.put("hint_" + e.getKey(), e.getValue());
    }
    st.signal = new ShardSignal(st.shard.function(), f.build());
    st.demand = loop.predict(st.signal);
  }

  private void reserve(State st) {
    if (st.demand == null) {
      // Shards of one unit run the same function on like-sized subsets: one prediction per unit and request.
      State first = st.req.predicted.get(st.shard.unit());
      if (first != null) {
        st.signal = first.signal;
        st.demand = first.demand;
      } else {
        predict(st);
        st.req.predicted.put(st.shard.unit(), st);
      }
    }
    st.attempts++;
    st.requestedAt = clock.instant();
    int number = st.attempts;
    String owner = st.shard.id() + "#" + number;
    Grant<ShardSignal> g = loop.reserve(owner, st.signal, st.demand, Sla.of(st.shard.priority()));
    // Placed at once, the completion below runs now, in this thread; only a waiting grant is remembered.
    if (!g.placed().isDone()) {
      st.pending = g;
    }
    g.placed().whenComplete((placed, ex) -> {
      try {
        granted(st, number, g, ex);
      } catch (RuntimeException e) {
        // A completion callback's exception would vanish; fail the request loudly instead.
        synchronized (this) {
          if (g.isPlaced()) {
            release(g, clock.instant(), g.reservation().created());
          }
          fail(st.req, "dispatching shard " + st.shard.id() + " failed: " + e);
        }
      }
    });
  }

  private void granted(State st, int number, Grant<ShardSignal> g, Throwable ex) {
    synchronized (this) {
      if (st.pending == g) {
        st.pending = null;
      }
      if (ex != null) {
        Throwable cause = ex instanceof CompletionException && ex.getCause() != null ? ex.getCause() : ex;
        if (cause instanceof BackendSlots.BackendDown && !st.req.failed && !st.done) {
          // The backend died between placement and now (the loop released the reservation): ask again.
          reserve(st);
        } else if (!(cause instanceof CancellationException) && !st.req.failed && !st.done) {
          fail(st.req, "shard " + st.shard.id() + " could not be reserved: " + cause.getMessage());
        }
        return;
      }
      Reservation r = g.reservation();
      Backend b = backends.get(r.node());
      if (st.req.failed || st.done) {
        release(g, clock.instant(), r.created());
        return;
      }
      Instant now = clock.instant();
      try {
        g.activate();
      } catch (IllegalStateException | IllegalArgumentException ended) {
        reserve(st);
        return;
      }
      double p99 = st.p99();
      Duration timeout = Duration.ofMillis(Math.max(minTimeout.toMillis(), (long) Math.ceil(p99 * timeoutFactor)));
      Attempt a = new Attempt(st.shard.id() + "#" + number, st.shard, number, r.id(), r.amount(), timeout);
      Live l = new Live(st, a, g, b, now, now.plus(timeout), false);
      queuedMs += Math.max(0, Duration.between(st.requestedAt, now).toNanos() / 1e6);
      live.put(a.id(), l);
      nAttempts++;
      b.submit(a, this::reported);
    }
  }

  private void reported(AttemptResult res) {
    synchronized (this) {
      Instant now = clock.instant();
      Live l = live.remove(res.attemptId());
      boolean zombie = l == null;
      if (zombie) {
        l = zombies.remove(res.attemptId());
        if (l == null) {
          return;
        }
      }
      State st = l.state;
      usedCpuMs += res.used().cpuMillis() * res.ran().toNanos() / 1e9;
      boolean accepted = res.succeeded() && !st.done && !st.req.failed;
      Resources reserved = zombie ? Resources.ZERO : l.grant.reservation().amount();
      if (accepted && !res.used().isZero()) {
        // The loop learns (allocator feedback, the function's predictor) and releases.
        complete(l.grant, res.used(), now, l.started);
      } else {
        release(l.grant, now, l.started);
      }
      if (!res.succeeded()) {
        nFailures++;
        lastFailure.put(res.backend(), now);
        retryOrFail(st, now, "attempt " + res.attemptId() + " failed: " + res.error());
        return;
      }
      if (st.done) {
        nDuplicates++;
        return;
      }
      if (st.req.failed) {
        return;
      }
      accept(st, res, reserved, now);
    }
  }

  private void accept(State st, AttemptResult res, Resources reserved, Instant now) {
    st.done = true;
    st.retryAt = null;
    nAccepted++;
    st.report = new ShardReport(st.shard, res.value(), st.attempts, res.backend(), st.p50(), st.p99(), reserved,
        res.ran().toNanos() / 1e6, st.demand.point(), res.used());
    // Anything else still trying for this shard is no longer needed.
    if (st.pending != null) {
      st.pending.release();
      st.pending = null;
    }
    for (Live other : new ArrayList<>(live.values())) {
      if (other.state == st) {
        endAttempt(other, now);
        zombies.put(other.attempt.id(), other);
        cancelAttempt(other);
      }
    }
    Unit unit = st.req.request.units().stream().filter(u -> u.name().equals(st.shard.unit())).findFirst().orElseThrow();
    if (unrecorded.size() >= FLUSH_BATCH) {
      flushHistory();
    }
    unrecorded.add(new ShardProfile(st.req.request.id(), st.req.request.type(), st.shard.function(),
        st.req.request.keys(), unit.keys().size(), st.shard.keys(), res.used(), res.ran().toNanos() / 1e6));
    st.req.inFlight--;
    for (State d : st.dependents) {
      if (--d.waitingFor == 0) {
        st.req.backlog.add(d);
      }
    }
    while (!st.req.backlog.isEmpty() && st.req.inFlight < maxInFlight) {
      ready(st.req.backlog.poll());
    }
    if (--st.req.remaining == 0) {
      requests.remove(st.req.request.id());
      nCompleted++;
      List<ShardReport> reports = new ArrayList<>();
      for (State s : st.req.shards) {
        reports.add(s.report);
      }
      st.req.future.complete(new RequestResult(st.req.request.id(), st.req.policy, List.copyOf(reports),
          Duration.between(st.req.arrival, now)));
    }
  }

  private void retryOrFail(State st, Instant now, String why) {
    if (st.done || st.req.failed || st.retryAt != null || st.pending != null) {
      return;
    }
    for (Live l : live.values()) {
      if (l.state == st) {
        return;
      }
    }
    if (st.attempts >= maxAttempts) {
      fail(st.req, "shard " + st.shard.id() + " failed " + st.attempts + " attempts, last: " + why);
      return;
    }
    nRetries++;
    long delay = backoff.toMillis() << Math.min(20, st.attempts - 1);
    st.retryAt = now.plusMillis(delay);
    retrying.add(st);
  }

  private void endAttempt(Live l, Instant now) {
    live.remove(l.attempt.id());
    release(l.grant, now, l.started);
  }

  /** Ends a grant without learning (failed, lost, cancelled, or a zombie's late result). */
  private void release(Grant<ShardSignal> g, Instant now, Instant since) {
    if (g.isEnded()) {
      // Expired or already released: nothing held any more.
      return;
    }
    account(g, now, since);
    g.release();
  }

  /** Ends a grant with what its attempt used: the loop feeds the outcome back and releases. */
  private void complete(Grant<ShardSignal> g, Resources used, Instant now, Instant since) {
    if (g.isEnded()) {
      // A late result of an attempt already given up: learned from, nothing held any more.
      loop.model().learn(g.signal(), used);
      return;
    }
    account(g, now, since);
    g.complete(used);
  }

  private void account(Grant<ShardSignal> g, Instant now, Instant since) {
    reservedCpuMs += g.reservation().amount().cpuMillis() * Math.max(0, Duration.between(since, now).toNanos()) / 1e9;
  }

  private void fail(Req r, String why) {
    if (r.failed) {
      return;
    }
    r.failed = true;
    Instant now = clock.instant();
    for (State st : r.shards) {
      st.retryAt = null;
      if (st.pending != null) {
        st.pending.release();
        st.pending = null;
      }
    }
    for (Live l : new ArrayList<>(live.values())) {
      if (l.state.req == r) {
        endAttempt(l, now);
        cancelAttempt(l);
      }
    }
    zombies.values().removeIf(l -> l.state.req == r);
    requests.remove(r.request.id());
    nFailed++;
    r.future.completeExceptionally(new ShardFailedException("request '" + r.request.id() + "' failed: " + why));
  }

  /** Stops an attempt the engine gave up on its backend; its grant was released already. */
  private void cancelAttempt(Live l) {
    nCancelled++;
    l.backend.cancel(l.attempt.id());
  }

  /** Writes the profiles not yet written to the history now. */
  public synchronized void flush() {
    flushHistory();
  }

  private void flushHistory() {
    if (!unrecorded.isEmpty()) {
      history.record(List.copyOf(unrecorded));
      unrecorded.clear();
    }
  }
}
