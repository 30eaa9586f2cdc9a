package dev.penumbra.core.loop;

import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.AdjustmentReport;
import dev.penumbra.core.allocate.Adjuster;
import dev.penumbra.core.allocate.Allocator;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.allocate.Ticket;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.InsufficientCapacityException;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.LedgerEvent;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.ledger.Reservation.State;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Penumbra's one loop — observe, predict, reserve, execute, adjust, learn — as every capability instantiates it:
 *
 * <ol>
 *   <li><b>observe</b>: the capability's shadow produces a signal {@code S};
 *   <li><b>predict</b>: the {@link Model} turns it into a {@link Demand} (point and quantiles);
 *   <li><b>reserve</b>: the {@link Allocator} sizes it at the priority's quantile (widened by the model's record
 *       of overruns), places it by priority and queues what does not fit; the {@link Actuator} acquires the real
 *       resource;
 *   <li><b>execute</b>: the capability runs the work on the {@link Grant} and reports what it uses;
 *   <li><b>adjust</b>: {@link #adjust()} runs the core {@link Adjuster} over this loop's grants — it grows a
 *       reservation that is overrun, holds at least the latest forecast ({@link Grant#target}), reclaims headroom
 *       unused for the grace period — renews leases when the loop keeps them alive, and tells the actuator;
 *   <li><b>learn</b>: {@link Grant#complete} feeds the outcome into the allocator's feedback tracker (which
 *       widens a model's headroom while it overruns more than its priority tolerates) and into the model.
 * </ol>
 *
 * <p>Baseline guard scoring: over each span between two measurements, each rule pays {@link CostModel#cost} for
 * what it would have held against the measurement that closes the span; a step up in use measured at the instant
 * it happens (a zero-length span, as event-driven capabilities report it) costs each rule the part of the step it
 * did not hold ahead, for the {@link Actuator#acquisitionLag() actuator's acquisition lag} (none when it is zero).
 *
 * <p>Why this class is long (about 650 lines): its builder validates a dozen options, and the rest — grant
 * placement, ledger events, resource-time accounting, the guard's scoring — shares one lock discipline that
 * splitting would spread over files that must agree on it. The guard's record is {@link BaselineGuard}.
 *
 * <p>The ledger is the bookkeeping under the loop; no capability reserves, resizes or releases in it itself.
 * Several loops may share one allocator (and so one ledger): each adjusts only its own grants. Thread-safe.
 *
 * @param <S> the signal the capability's shadow produces
 */
public final class ControlLoop<S> implements AutoCloseable {

  private final String name;
  private final Allocator allocator;
  private final Ledger ledger;
  private final Model<S> model;
  private final Actuator actuator;
  private final Adjuster adjuster;
  private final Duration keepAlive;
  private final Clock clock;
  private final Baseline<S> baseline;
  private final CostModel costs;
  private final java.util.function.UnaryOperator<Resources> shape;
  // Guarded by this.
  private final BaselineGuard guard;
  private final Map<Long, Grant<S>> live = new ConcurrentHashMap<>();
  private final Set<Grant<S>> waiting = ConcurrentHashMap.newKeySet();
  private final Ledger.Subscription subscription;
  private final AtomicLong placed = new AtomicLong();
  private final AtomicLong completed = new AtomicLong();
  private final AtomicLong ended = new AtomicLong();
  private final AtomicLong preempted = new AtomicLong();
  private ResourceTime reservedTime = ResourceTime.ZERO;
  private ResourceTime usedTime = ResourceTime.ZERO;

  private ControlLoop(Builder<S> b) {
    this.name = b.name;
    this.allocator = b.allocator;
    this.ledger = b.allocator.ledger();
    this.model = b.model;
    this.actuator = b.actuator;
    this.keepAlive = b.keepAlive;
    this.clock = b.clock != null ? b.clock : ledger.clock();
    this.baseline = b.baseline;
    this.costs = b.costs;
    this.guard = new BaselineGuard(b.hysteresis, b.minScored, b.costHalfLife);
    this.shape = b.shape;
    ErrorTracker feedback = b.allocator.feedback();
    Adjuster.Builder ab = Adjuster.builder(ledger, this::measure)
        .grace(b.grace)
        .margin(b.margin)
        .floor(this::floorOf)
        .clock(clock)
        .modelName(r -> modelOf(r));
    if (feedback != null) {
      ab.errorTracker(feedback);
    }
    this.adjuster = ab.build();
    this.subscription = ledger.subscribe(this::onEvent);
  }

  /**
   * A loop named {@code name} (e.g. "query", "stream/orders") that predicts with {@code model} and reserves
   * through {@code allocator}.
   */
  public static <S> Builder<S> builder(String name, Allocator allocator, Model<S> model) {
    return new Builder<>(name, allocator, model);
  }

  /** Options; defaults: no actuator, grace 5 minutes, margin 0.1, no lease renewal, the ledger's clock. */
  public static final class Builder<S> {
    private final String name;
    private final Allocator allocator;
    private final Model<S> model;
    private Actuator actuator = Actuator.NONE;
    private Duration grace = Duration.ofMinutes(5);
    private double margin = 0.1;
    private Duration keepAlive;
    private Clock clock;
    private Baseline<S> baseline;
    private CostModel costs = CostModel.DEFAULT;
    private double hysteresis = 0.1;
    private int minScored = 20;
    private int costHalfLife = 50;
    private java.util.function.UnaryOperator<Resources> shape = java.util.function.UnaryOperator.identity();

    private Builder(String name, Allocator allocator, Model<S> model) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("loop name must not be blank, was " + name);
      }
      if (allocator == null) {
        throw new IllegalArgumentException("allocator of loop '" + name + "' must not be null");
      }
      if (model == null) {
        throw new IllegalArgumentException("model of loop '" + name + "' must not be null");
      }
      this.name = name;
      this.allocator = allocator;
      this.model = model;
    }

    /** What acquires, resizes and releases the real resource. */
    public Builder<S> actuator(Actuator actuator) {
      if (actuator == null) {
        throw new IllegalArgumentException("actuator of loop '" + name + "' must not be null");
      }
      this.actuator = actuator;
      return this;
    }

    /** How long headroom must stay unused before the adjuster reclaims it (>= 0). */
    public Builder<S> grace(Duration grace) {
      if (grace == null || grace.isNegative()) {
        throw new IllegalArgumentException("grace of loop '" + name + "' must be >= 0, was " + grace);
      }
      this.grace = grace;
      return this;
    }

    /** Headroom the adjuster keeps above measured use, as a share of it (>= 0). */
    public Builder<S> margin(double margin) {
      if (!(margin >= 0) || Double.isInfinite(margin)) {
        throw new IllegalArgumentException("margin of loop '" + name + "' must be finite and >= 0, was " + margin);
      }
      this.margin = margin;
      return this;
    }

    /**
     * Renew every live grant's lease to {@code lease} on each {@link #adjust()}: for long-lived work (a stream
     * partition) whose reservation must outlive any single lease but end by itself if the loop stops.
     */
    public Builder<S> keepAlive(Duration lease) {
      if (lease == null || lease.isNegative() || lease.isZero()) {
        throw new IllegalArgumentException("keep-alive lease of loop '" + name + "' must be > 0, was " + lease);
      }
      this.keepAlive = lease;
      return this;
    }

    public Builder<S> clock(Clock clock) {
      if (clock == null) {
        throw new IllegalArgumentException("clock of loop '" + name + "' must not be null");
      }
      this.clock = clock;
      return this;
    }

    /**
     * The rule users would run instead (grant on request, a reactive scaler, static): scored beside Penumbra's
     * model on the same measured use, and acted on while it is the cheaper (see the class comment).
     */
    public Builder<S> baseline(Baseline<S> baseline) {
      if (baseline == null) {
        throw new IllegalArgumentException("baseline of loop '" + name + "' must not be null");
      }
      this.baseline = baseline;
      return this;
    }

    /**
     * The capability's bounds on a size, applied to what the allocator sized from a demand and to the baseline's
     * size before either is requested or held: a floor, the largest node, whole units (threads, workers).
     * Default: none.
     */
    public Builder<S> shape(java.util.function.UnaryOperator<Resources> shape) {
      if (shape == null) {
        throw new IllegalArgumentException("shape of loop '" + name + "' must not be null");
      }
      this.shape = shape;
      return this;
    }

    /** The prices both rules are scored with. */
    public Builder<S> costs(CostModel costs) {
      if (costs == null) {
        throw new IllegalArgumentException("cost model of loop '" + name + "' must not be null");
      }
      this.costs = costs;
      return this;
    }

    /**
     * The guard's hysteresis (a rule takes over only when it is cheaper by this share, in [0, 1)), how many
     * scored outcomes it needs before it may switch (>= 1), and the half-life of its cost record in scored
     * outcomes (>= 1).
     */
    public Builder<S> guard(double hysteresis, int minScored, int costHalfLife) {
      if (!(hysteresis >= 0 && hysteresis < 1)) {
        throw new IllegalArgumentException("hysteresis of loop '" + name + "' must be in [0, 1), was " + hysteresis);
      }
      if (minScored < 1) {
        throw new IllegalArgumentException("minScored of loop '" + name + "' must be >= 1, was " + minScored);
      }
      if (costHalfLife < 1) {
        throw new IllegalArgumentException("costHalfLife of loop '" + name + "' must be >= 1, was " + costHalfLife);
      }
      this.hysteresis = hysteresis;
      this.minScored = minScored;
      this.costHalfLife = costHalfLife;
      return this;
    }

    public ControlLoop<S> build() {
      return new ControlLoop<>(this);
    }
  }

  public String name() {
    return name;
  }

  public Model<S> model() {
    return model;
  }

  public Actuator actuator() {
    return actuator;
  }

  public Allocator allocator() {
    return allocator;
  }

  /** The predict step alone: what the model says {@code signal}'s work needs. */
  public Demand predict(S signal) {
    return model.predict(signal);
  }

  /** The size the allocator would reserve for {@code demand} under {@code sla} now (feedback included). */
  public Resources size(Demand demand, Sla sla) {
    return shaped(allocator.sizeFor(demand, sla));
  }

  /** What the loop's baseline rule would hold for {@code signal}'s work now (shaped), or null without one. */
  public Resources baselineSize(S signal, Sla sla) {
    return baseline == null ? null : shaped(baseline.size(signal, sla, null));
  }

  private Resources shaped(Resources r) {
    return r == null ? null : shape.apply(r);
  }

  /** Predicts {@code signal}'s demand and requests a reservation for it, sized at the priority's quantile. */
  public Grant<S> reserve(String owner, S signal, Sla sla) {
    return reserve(owner, signal, model.predict(signal), sla);
  }

  /**
   * Requests a reservation for a demand the capability already predicted (e.g. with a cheaper signal than the
   * full shadow); {@code signal} is what the model learns from at completion and may be null.
   */
  public Grant<S> reserve(String owner, S signal, Demand demand, Sla sla) {
    Resources own = size(demand, sla);
    Resources base = baselineSize(signal, sla);
    Resources amount = acting() == Rule.BASELINE && base != null ? base : own;
    return submit(owner, signal, demand, allocator.request(owner, amount, sla), sla, own, base);
  }

  /**
   * Requests exactly {@code amount} (the grant-on-request rule a baseline uses, or a size the capability fixed
   * itself); the grant's demand is that amount, exact.
   */
  public Grant<S> reserveExactly(String owner, S signal, Resources amount, Sla sla) {
    Demand exact = Demand.exact(amount, model.name());
    return submit(owner, signal, exact, allocator.request(owner, amount, sla), sla, amount, null);
  }

  private Grant<S> submit(String owner, S signal, Demand demand, Ticket ticket, Sla sla, Resources own,
      Resources base) {
    Grant<S> g = new Grant<>(this, owner, signal, demand, sla, ticket);
    g.candidates(own, base);
    waiting.add(g);
    ticket.future().whenComplete((r, failure) -> {
      waiting.remove(g);
      if (failure != null) {
        ended.incrementAndGet();
        g.placedFuture().completeExceptionally(failure);
        return;
      }
      g.placedAs(r);
      live.put(r.id(), g);
      synchronized (g) {
        g.accountedAt = clock.instant();
      }
      try {
        actuator.acquire(r);
      } catch (RuntimeException e) {
        live.remove(r.id());
        releaseQuietly(r.id());
        ended.incrementAndGet();
        g.placedFuture().completeExceptionally(e);
        return;
      }
      placed.incrementAndGet();
      // The reservation may have ended between placement and here (preempted at once): report it now.
      Optional<Reservation> now = ledger.get(r.id());
      if (now.isPresent() && !now.get().isLive()) {
        finish(g, now.get());
      }
      g.placedFuture().complete(g);
    });
    return g;
  }

  /**
   * One adjustment pass over this loop's live grants: renews leases (with {@link Builder#keepAlive}), then runs
   * the adjuster and tells the actuator what it grew or shrank. Call it periodically.
   */
  public AdjustmentReport adjust() {
    if (keepAlive != null) {
      for (Grant<S> g : live.values()) {
        try {
          g.update(ledger.renew(g.reservation().id(), keepAlive));
        } catch (IllegalStateException | IllegalArgumentException gone) {
          // Ended meanwhile; the ledger event finishes it.
        }
      }
    }
    AdjustmentReport report = adjuster.adjust();
    for (AdjustmentReport.Reclaimed c : report.reclaimed()) {
      resized(c.reservation(), c.after());
    }
    for (AdjustmentReport.Extended e : report.extended()) {
      resized(e.reservation(), e.after());
    }
    return report;
  }

  /** The grants that hold a reservation now. */
  public List<Grant<S>> grants() {
    return List.copyOf(live.values());
  }

  /** How many grants wait to be placed. */
  public int waiting() {
    return waiting.size();
  }

  public synchronized LoopStats stats() {
    return new LoopStats(name, live.size(), waiting.size(), placed.get(), completed.get(), ended.get(),
        preempted.get(), reservedTime, usedTime,
        guard.stats(baseline == null ? null : baseline.name()));
  }

  /** Which rule sizes new work now: Penumbra's model, or the baseline while it has been the cheaper. */
  public synchronized Rule acting() {
    return guard.acting();
  }

  /** The two rules the baseline guard chooses between. */
  public enum Rule {
    PENUMBRA, BASELINE;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Cancels what waits and releases what is held. */
  @Override
  public void close() {
    subscription.close();
    for (Grant<S> g : List.copyOf(waiting)) {
      g.ticket().cancel();
    }
    for (Grant<S> g : List.copyOf(live.values())) {
      release(g);
    }
  }

  // ----- called by Grant

  void activate(Grant<S> g) {
    g.update(ledger.activate(g.reservation().id()));
  }

  void retarget(Grant<S> g, Demand demand) {
    Resources own = size(demand, g.sla());
    Resources base = baseline == null ? null : shaped(baseline.size(g.signal(), g.sla(), g.observed()));
    g.candidates(own, base);
    holdFloor(g, acting() == Rule.BASELINE && base != null ? base : own);
  }

  /** After a measurement: a reactive baseline resizes on it, so while it acts its floor follows it. */
  void observed(Grant<S> g, Resources used) {
    if (baseline == null) {
      return;
    }
    Resources base = shaped(baseline.size(g.signal(), g.sla(), used));
    g.candidates(g.ownCandidate(), base);
    if (acting() == Rule.BASELINE) {
      holdFloor(g, base);
    }
  }

  private void holdFloor(Grant<S> g, Resources want) {
    g.floor(want);
    if (!g.isPlaced() || g.isEnded()) {
      return;
    }
    Reservation r = g.reservation();
    Resources grown = r.amount().max(want);
    if (!grown.equals(r.amount())) {
      try {
        resize(g, grown);
      } catch (InsufficientCapacityException full) {
        // Held at what it has; the adjuster grows it when room frees up.
      } catch (IllegalStateException gone) {
        // Ended meanwhile.
      }
    }
  }

  Reservation resize(Grant<S> g, Resources amount) {
    if (amount == null) {
      throw new IllegalArgumentException("amount must not be null for " + g);
    }
    Reservation r = ledger.resize(g.reservation().id(), amount);
    g.update(r);
    actuator.resize(r, r.amount());
    return r;
  }

  Reservation renew(Grant<S> g, Duration lease) {
    Reservation r = ledger.renew(g.reservation().id(), lease);
    g.update(r);
    return r;
  }

  void complete(Grant<S> g, Resources actual) {
    if (!g.isPlaced()) {
      throw new IllegalStateException(g + " cannot complete before it is placed");
    }
    Reservation r = g.reservation();
    if (g.observed() == null) {
      synchronized (g) {
        // Nothing measured while it ran: the actual stands for its use over its whole life.
        g.accountedUse = actual;
      }
    }
    account(g, actual);
    // Learn before releasing, so a waiting request placed by the release is sized with this outcome.
    allocator.recordOutcome(g.demand().model(), g.sla().priority(), g.requested(), actual);
    if (g.signal() != null) {
      model.learn(g.signal(), actual);
    }
    completed.incrementAndGet();
    releaseQuietly(r.id());
  }

  void release(Grant<S> g) {
    if (!g.isPlaced()) {
      g.ticket().cancel();
      return;
    }
    if (g.observed() != null) {
      account(g, g.observed());
    }
    ended.incrementAndGet();
    releaseQuietly(g.reservation().id());
  }

  /** Integrates reserved and used resource-time since the grant's last measurement. */
  void account(Grant<S> g, Resources used) {
    Instant now = clock.instant();
    ResourceTime res;
    ResourceTime use;
    double ownCost = 0;
    double baseCost = 0;
    boolean score;
    synchronized (g) {
      Instant since = g.accountedAt != null ? g.accountedAt : now;
      double seconds = Math.max(0, Duration.between(since, now).toNanos() / 1e9);
      Reservation r = g.isPlaced() ? g.reservation() : null;
      res = r == null || !r.isLive() ? ResourceTime.ZERO : ResourceTime.of(r.amount(), seconds);
      use = ResourceTime.of(g.accountedUse, seconds);
      score = baseline != null && seconds > 0 && g.ownCandidate() != null && g.baseCandidate() != null;
      if (score) {
        // Scored on the measurement that closes the span (it covers the span): a reactive baseline sized from the
        // previous measurement is thus judged on what came next, not on the value it was computed from.
        ownCost = costs.cost(g.ownCandidate(), used, seconds, g.sla().priority());
        baseCost = costs.cost(g.baseCandidate(), used, seconds, g.sla().priority());
      }
      // A step up measured at the instant it happens (no span to score it over) is short, for a rule that did not
      // hold it ahead, until the actuator delivers it.
      double lag = actuator.acquisitionLag().toNanos() / 1e9;
      if (baseline != null && seconds == 0 && lag > 0 && g.ownCandidate() != null && g.baseCandidate() != null) {
        Resources step = used.minusClamped(g.accountedUse);
        if (!step.isZero()) {
          ownCost = lagCost(step, used, g.ownCandidate(), lag, g);
          baseCost = lagCost(step, used, g.baseCandidate(), lag, g);
          score = true;
        }
      }
      g.accountedAt = now;
      g.accountedUse = used;
    }
    synchronized (this) {
      reservedTime = reservedTime.plus(res);
      usedTime = usedTime.plus(use);
      if (score) {
        guard.score(ownCost, baseCost);
      }
    }
  }

  /**
   * The shortfall a rule holding {@code held} pays when use steps up by {@code step} to {@code used}: the part of
   * the step it did not hold ahead, for the actuator's acquisition lag. This is what makes a rule that only
   * reacts (grant on request) pay for the wait its grants take, and a forecast that held the step ahead not.
   */
  private double lagCost(Resources step, Resources used, Resources held, double lagSeconds, Grant<S> g) {
    Resources missing = step.min(used.minusClamped(held));
    return missing.isZero() ? 0 : costs.cost(Resources.ZERO, missing, lagSeconds, g.sla().priority());
  }

  // ----- ledger side

  private void releaseQuietly(long id) {
    try {
      ledger.release(id);
    } catch (IllegalStateException | IllegalArgumentException alreadyEnded) {
      // Expired or preempted first: the ledger event has finished the grant.
    }
  }

  private void resized(long id, Resources after) {
    Grant<S> g = live.get(id);
    if (g != null) {
      ledger.get(id).ifPresent(g::update);
      actuator.resize(g.reservation(), after);
    }
  }

  private void onEvent(LedgerEvent e) {
    Reservation after = e.after();
    if (after == null) {
      return;
    }
    Grant<S> g = live.get(after.id());
    if (g == null) {
      return;
    }
    if (after.isLive()) {
      g.update(after);
      return;
    }
    finish(g, after);
  }

  private void finish(Grant<S> g, Reservation last) {
    if (live.remove(last.id()) == null) {
      return;
    }
    g.update(last);
    if (last.state() == State.PREEMPTED) {
      preempted.incrementAndGet();
    }
    if (last.state() != State.RELEASED) {
      ended.incrementAndGet();
    }
    try {
      actuator.release(last);
    } finally {
      g.endedFuture().complete(last);
    }
  }

  private Optional<Resources> measure(Reservation r) {
    Grant<S> g = live.get(r.id());
    if (g == null) {
      return Optional.empty();
    }
    Resources used = g.observed();
    if (used == null) {
      // No measurement yet: only a forecast floor (if any) drives the adjuster.
      return g.floor() == null ? Optional.empty() : Optional.of(Resources.ZERO);
    }
    return Optional.of(used);
  }

  private Optional<Resources> floorOf(Reservation r) {
    Grant<S> g = live.get(r.id());
    return g == null ? Optional.empty() : Optional.ofNullable(g.floor());
  }

  private String modelOf(Reservation r) {
    Grant<S> g = live.get(r.id());
    return g == null ? model.name() : g.demand().model();
  }

  @Override
  public String toString() {
    return "loop '" + name + "' (" + live.size() + " live, " + waiting.size() + " waiting)";
  }

  /** Waiting grants, for tests and diagnostics. */
  List<Grant<S>> waitingGrants() {
    return new ArrayList<>(waiting);
  }
}
