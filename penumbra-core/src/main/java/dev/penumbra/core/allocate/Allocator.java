package dev.penumbra.core.allocate;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Demand;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.core.feedback.ErrorStats;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.InsufficientCapacityException;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.LedgerEvent;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.ledger.Reservation.State;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The preemptive resource allocator: sizes a request from its demand and SLA, places it on a node of the
 * ledger, and queues what does not fit until capacity frees up.
 *
 * <ul>
 *   <li>Sizing: {@code demand.at(sla.priority().quantile())} — critical p99, standard p90, batch p50. With
 *       {@link Builder#feedback feedback}, the headroom above the point is widened for a model whose
 *       reservations have been overrun more often than the priority tolerates (see {@link #sizeFor}).
 *   <li>Placement: pluggable, best fit by default.
 *   <li>Admission: requests wait in one queue ordered by priority (critical first), then deadline (earliest first,
 *       none last), then arrival; or, with {@link Builder#virtualDeadlines}, by virtual deadline (arrival plus a
 *       slack per request), which bounds what a lower priority loses to later higher ones. Each pass walks the queue
 *       in that order and places what it can; the first request that cannot be placed (even by preemption, when on)
 *       blocks every request behind it, so a big waiting request is never starved by smaller ones of the same or
 *       lower priority. A new request joins the queue and a pass runs at once, so it never jumps ahead of a waiting
 *       one that comes before it in that order. The order holds across every allocator on the same ledger (one per
 *       capability in a server): a waiting request of another allocator blocks ours as our own would (see Admission).
 *   <li>Passes run on every request, on every ledger event that may free capacity (release, expiry,
 *       preemption, resize, node added), on {@link #tick()} and on cancellation. Deadlines are checked in every
 *       pass, for every waiting request: a request whose deadline is at or before the clock fails with
 *       {@link DeadlineExceededException}. Call {@link #tick()} periodically when deadlines matter.
 *   <li>Preemption (when enabled): a request that fits nowhere takes capacity from reservations of strictly
 *       lower priority, on the node needing the fewest victims (ties: fewer ACTIVE victims, then the earlier
 *       node); the ledger picks the victims on that node.
 * </ul>
 *
 * <p>Thread-safe. Tickets complete outside the allocator's lock. (Over 500 lines: sizing, the queue and placement
 * share one lock and one pass; split apart they would each need the others' state.)
 */
public final class Allocator implements AutoCloseable {

  /** Admission order: priority, then deadline (none last), then arrival; across allocators too (Admission). */
  static final Comparator<Ticket> ORDER = Comparator
      .<Ticket>comparingInt(t -> t.sla().priority().ordinal())
      .thenComparing(t -> t.sla().deadline(), Comparator.nullsLast(Comparator.naturalOrder()))
      .thenComparingLong(Ticket::sequence);

  /**
   * Admission order with {@link Builder#virtualDeadlines}: earliest virtual deadline (arrival + slack) first, then
   * deadline (none last), then arrival. Within one allocator only; across allocators {@link #ORDER} holds.
   */
  static final Comparator<Ticket> EARLIEST_VIRTUAL_DEADLINE = Comparator
      .<Ticket, Instant>comparing(Ticket::virtualDeadline)
      .thenComparing(t -> t.sla().deadline(), Comparator.nullsLast(Comparator.naturalOrder()))
      .thenComparingLong(Ticket::sequence);

  private final Ledger ledger;
  private final Clock clock;
  private final Placement placement;
  private final boolean preemption;
  private final Duration lease;
  private final State initial;
  private final Ledger.Subscription subscription;
  private final ErrorTracker feedback;
  private final Admission admission;
  private final Function<Ticket, Duration> slack;

  private final ReentrantLock lock = new ReentrantLock();
  private final AtomicBoolean dirty = new AtomicBoolean();
  private final TreeSet<Ticket> queue;
  private long nextId = 1;
  private boolean closed;

  private Allocator(Builder b) {
    this.ledger = b.ledger;
    this.clock = b.clock != null ? b.clock : b.ledger.clock();
    this.placement = b.placement;
    this.preemption = b.preemption;
    this.lease = b.lease;
    this.initial = b.initial;
    this.feedback = b.feedback;
    this.admission = Admission.of(ledger);
    this.slack = b.slack;
    this.queue = new TreeSet<>(slack == null ? ORDER : EARLIEST_VIRTUAL_DEADLINE);
    this.subscription = ledger.subscribe(this::onLedgerEvent);
  }

  public static Builder builder(Ledger ledger) {
    return new Builder(ledger);
  }

  /** Options; defaults: best fit, preemption on, lease 5 minutes, reservations start WARM, the ledger's clock. */
  public static final class Builder {
    private final Ledger ledger;
    private Clock clock;
    private Placement placement = Placement.bestFit();
    private boolean preemption = true;
    private Duration lease = Duration.ofMinutes(5);
    private State initial = State.WARM;
    private ErrorTracker feedback;
    private Function<Ticket, Duration> slack;

    private Builder(Ledger ledger) {
      Checks.notNull("ledger", ledger);
      this.ledger = ledger;
    }

    public Builder placement(Placement placement) {
      Checks.notNull("placement", placement);
      this.placement = placement;
      return this;
    }

    /** Whether a request that fits nowhere may preempt strictly lower priorities. */
    public Builder preemption(boolean on) {
      this.preemption = on;
      return this;
    }

    /** The lease of the reservations it makes (> 0). */
    public Builder lease(Duration lease) {
      Checks.positive("lease", lease);
      this.lease = lease;
      return this;
    }

    /** The state its reservations start in: WARM (ahead of use) or ACTIVE. */
    public Builder initialState(State initial) {
      if (initial != State.WARM && initial != State.ACTIVE) {
        throw new IllegalArgumentException("initial state must be WARM or ACTIVE, was " + initial);
      }
      this.initial = initial;
      return this;
    }

    /** The clock deadlines are checked on; the ledger's by default. */
    public Builder clock(Clock clock) {
      Checks.notNull("clock", clock);
      this.clock = clock;
      return this;
    }

    /**
     * Where the outcomes of reservations are tracked and read back to calibrate sizing ({@link #recordOutcome},
     * {@link #feedbackName}; the adjuster records there too when given the same tracker). None by default.
     */
    public Builder feedback(ErrorTracker tracker) {
      Checks.notNull("feedback tracker", tracker);
      this.feedback = tracker;
      return this;
    }

    /**
     * Admits earliest virtual deadline first instead of strictly by priority: a request's virtual deadline is its
     * arrival plus {@code slack} of it (asked once, when it arrives, under the allocator's lock: quick, and no
     * waiting), so a request overtakes an earlier one only while its own virtual deadline comes first. With a
     * slack of zero for the highest priority and at most {@code S} for a request, the request waits at most what
     * it would in arrival order plus the work of the requests that arrive within {@code S} after it and have an
     * earlier virtual deadline; with every slack zero it is arrival order (FIFO). Ties: deadline, then arrival.
     * Across allocators on the same ledger the order stays priority first (see Admission). Off by default.
     */
    public Builder virtualDeadlines(Function<Ticket, Duration> slack) {
      Checks.notNull("slack", slack);
      this.slack = slack;
      return this;
    }

    public Allocator build() {
      return new Allocator(this);
    }
  }

  /** The reservation size for a demand under an SLA: the demand at the priority's quantile. */
  public static Resources size(Demand demand, Sla sla) {
    Checks.notNull("demand", demand);
    Checks.notNull("sla", sla);
    return demand.at(sla.priority().quantile());
  }

  /** Scored outcomes a model needs before its record changes sizing. */
  static final int MIN_SCORED = 20;
  /** The most the headroom is widened by feedback. */
  static final double MAX_WIDEN = 4.0;
  /** Headroom assumed, as a share of the point, for a demand that carries none when it must be widened. */
  static final double BASE_HEADROOM = 0.05;

  /**
   * The name under which the outcomes of one model's reservations at one priority are tracked, per dimension:
   * {@code model@priority/dimension}, e.g. "query/model@critical/memory". Kept per priority because each
   * priority reserves at its own quantile and so tolerates its own share of overruns.
   */
  public static String feedbackName(String model, Priority priority, Dimension dimension) {
    return ErrorTracker.name(model + "@" + priority.label(), dimension);
  }

  /**
   * Records what a reservation made for {@code model}'s demand at {@code priority} turned out to need: per
   * dimension where either is non-zero, the reserved amount against the used one, into the feedback tracker
   * (nothing when there is none). The owner of the work calls it when the work ends, as the adjuster does
   * while it runs.
   */
  public void recordOutcome(String model, Priority priority, Resources reserved, Resources used) {
    if (feedback == null) {
      return;
    }
    for (Dimension d : Dimension.values()) {
      long r = reserved.get(d);
      long u = used.get(d);
      if (r > 0 || u > 0) {
        feedback.record(feedbackName(model, priority, d), r, r, u);
      }
    }
  }

  /**
   * The size this allocator reserves for a demand: {@link #size} corrected by the record of the model's
   * reservations at this priority ({@link #recordOutcome}, {@link #feedbackName}). For each dimension, once
   * there are at least {@value #MIN_SCORED} outcomes, the share that exceeded what was reserved is compared
   * with what the priority tolerates, {@code 1 - quantile}; when it is higher, the headroom above the point is
   * multiplied by their ratio (at most {@value #MAX_WIDEN}x; a demand without headroom gets
   * {@value #BASE_HEADROOM} of its point as the base). A model whose reservations overrun gets wider ones until
   * they stop; sizes are never shrunk below the quantile, as unused headroom is the adjuster's to reclaim.
   */
  public Resources sizeFor(Demand demand, Sla sla) {
    Resources base = size(demand, sla);
    if (feedback == null) {
      return base;
    }
    double tolerated = 1 - sla.priority().quantile();
    Resources sized = base;
    for (Dimension d : Dimension.values()) {
      ErrorStats stats = feedback.stats(feedbackName(demand.model(), sla.priority(), d));
      if (stats.count() < MIN_SCORED || !(stats.exceedanceRate() > tolerated)) {
        continue;
      }
      double widen = Math.min(MAX_WIDEN, stats.exceedanceRate() / tolerated);
      long point = demand.point().get(d);
      long headroom = Math.max(base.get(d) - point, (long) Math.ceil(point * BASE_HEADROOM));
      sized = sized.with(d, Math.addExact(point, (long) Math.ceil(headroom * widen)));
    }
    return sized;
  }

  /** Requests a reservation sized from {@code demand} by {@link #sizeFor}. */
  public Ticket request(String owner, Demand demand, Sla sla) {
    return request(owner, sizeFor(demand, sla), sla);
  }

  /** Requests a reservation of exactly {@code amount}. */
  public Ticket request(String owner, Resources amount, Sla sla) {
    if (owner == null || owner.isBlank()) {
      throw new IllegalArgumentException("owner must not be null or blank, was " + owner);
    }
    if (amount == null) {
      throw new IllegalArgumentException("amount for owner '" + owner + "' must not be null");
    }
    if (sla == null) {
      throw new IllegalArgumentException("sla for owner '" + owner + "' must not be null");
    }
    Ticket t;
    lock.lock();
    try {
      if (closed) {
        throw new IllegalStateException("allocator is closed");
      }
      t = new Ticket(nextId++, owner, amount, sla, clock.instant(), this);
      if (slack != null) {
        Duration s = slack.apply(t);
        if (s == null || s.isNegative()) {
          throw new IllegalArgumentException("slack for " + t + " must be >= 0, was " + s);
        }
        t.virtualDeadline(t.arrival().plus(s));
      }
      queue.add(t);
      admission.add(t);
    } finally {
      lock.unlock();
    }
    pump();
    return t;
  }

  /** The ledger this allocator places reservations in. */
  public Ledger ledger() {
    return ledger;
  }

  /** The tracker of what reservations turned out to need (see {@link #recordOutcome}), or null when none. */
  public ErrorTracker feedback() {
    return feedback;
  }

  /** Fails waiting requests whose deadline has come and admits what now fits. */
  public void tick() {
    pump();
  }

  /** How many requests are waiting. */
  public int waiting() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  /** The waiting requests, in admission order. */
  public List<Ticket> queue() {
    lock.lock();
    try {
      return List.copyOf(queue);
    } finally {
      lock.unlock();
    }
  }

  /** Stops listening to the ledger and fails every waiting request. */
  @Override
  public void close() {
    List<Ticket> left;
    lock.lock();
    try {
      closed = true;
      left = new ArrayList<>(queue);
      queue.clear();
      left.forEach(admission::remove);
    } finally {
      lock.unlock();
    }
    subscription.close();
    admission.othersWaiting(this).forEach(Allocator::pump);
    for (Ticket t : left) {
      t.future().completeExceptionally(new IllegalStateException("allocator closed while " + t + " was waiting"));
    }
  }

  void cancelled(Ticket t) {
    lock.lock();
    try {
      queue.remove(t);
      admission.remove(t);
    } finally {
      lock.unlock();
    }
    pump();
    admission.othersWaiting(this).forEach(Allocator::pump);
  }

  private void onLedgerEvent(LedgerEvent e) {
    if (e.type().freesCapacity()) {
      pump();
    }
  }

  /**
   * Runs admission passes until nothing asks for another. Only one thread passes at a time; a request for a
   * pass made meanwhile (or from inside a pass, through a ledger event) is picked up by the passing thread.
   */
  private void pump() {
    dirty.set(true);
    if (lock.isHeldByCurrentThread()) {
      return;
    }
    while (dirty.get() && lock.tryLock()) {
      List<Runnable> after = new ArrayList<>();
      try {
        while (dirty.getAndSet(false) && !closed) {
          pass(after);
        }
      } finally {
        lock.unlock();
      }
      for (Runnable r : after) {
        r.run();
      }
    }
  }

  /**
   * One walk over the queue, under the lock; completions are collected to run after it is let go. A request of
   * another allocator on the same ledger that waits ahead of one of ours blocks ours as our own would; that
   * allocator is asked for a pass, and when ours moves, the others waiting are.
   */
  private void pass(List<Runnable> after) {
    if (queue.isEmpty()) {
      return;
    }
    int before = queue.size();
    Allocator blocker = null;
    Ticket other = admission.firstOfOthers(this);
    // With virtual deadlines our queue is not in the ledger-wide order: comparing another allocator's first request
    // with each of ours could block both (each sees a request of the other ahead of one of its own) and the two
    // would ask each other for passes without end. Such an allocator yields to another only when that one's first
    // request comes before every one of ours, so exactly one of them, the holder of the first request, goes on.
    Ticket ownFirst = slack == null ? null : queue.stream().filter(x -> !x.isDone()).min(ORDER).orElse(null);
    Instant now = clock.instant();
    List<NodeView> nodes = ledger.nodes();
    boolean blocked = false;
    for (Iterator<Ticket> it = queue.iterator(); it.hasNext(); ) {
      Ticket t = it.next();
      if (t.isDone()) {
        it.remove();
        admission.remove(t);
        continue;
      }
      Instant deadline = t.sla().deadline();
      if (deadline != null && !now.isBefore(deadline)) {
        it.remove();
        admission.remove(t);
        DeadlineExceededException ex = new DeadlineExceededException(t + " missed its deadline " + deadline
            + " while waiting for capacity (now " + now + ", waited " + Duration.between(t.arrival(), now) + ")");
        after.add(() -> t.future().completeExceptionally(ex));
        continue;
      }
      if (blocked) {
        continue;
      }
      if (!fitsSomeCapacity(t.amount(), nodes)) {
        it.remove();
        admission.remove(t);
        InsufficientCapacityException ex = new InsufficientCapacityException(
            t + " can never be placed: no node has capacity for amount " + t.amount());
        after.add(() -> t.future().completeExceptionally(ex));
        continue;
      }
      if (other != null && ORDER.compare(other, ownFirst != null ? ownFirst : t) < 0) {
        blocked = true;
        blocker = other.allocator();
        continue;
      }
      Reservation r = place(t, nodes);
      if (r == null) {
        blocked = true;
        continue;
      }
      it.remove();
      admission.remove(t);
      nodes = ledger.nodes();
      after.add(() -> {
        if (!t.future().complete(r)) {
          releaseQuietly(r);
        }
      });
    }
    if (blocker != null) {
      after.add(blocker::pump);
    }
    if (queue.size() < before) {
      after.add(() -> admission.othersWaiting(this).forEach(Allocator::pump));
    }
  }

  private Reservation place(Ticket t, List<NodeView> nodes) {
    Optional<NodeView> chosen = placement.choose(t.amount(), nodes);
    if (chosen.isPresent()) {
      try {
        return ledger.reserve(t.owner(), chosen.get().id(), t.amount(), t.sla().priority(), lease, initial);
      } catch (InsufficientCapacityException raced) {
        // Someone else took it between the look and the reservation: wait for the next pass.
        return null;
      } catch (IllegalArgumentException removed) {
        return null;
      }
    }
    if (!preemption) {
      return null;
    }
    String bestNode = null;
    int bestCount = Integer.MAX_VALUE;
    int bestActive = Integer.MAX_VALUE;
    for (NodeView n : nodes) {
      if (!t.amount().fits(n.capacity())) {
        continue;
      }
      Optional<List<Reservation>> plan;
      try {
        plan = ledger.preemptionPlan(n.id(), t.amount(), t.sla().priority());
      } catch (IllegalArgumentException removed) {
        continue;
      }
      if (plan.isEmpty()) {
        continue;
      }
      int count = plan.get().size();
      int active = 0;
      for (Reservation v : plan.get()) {
        if (v.state() == State.ACTIVE) {
          active++;
        }
      }
      if (count < bestCount || (count == bestCount && active < bestActive)) {
        bestNode = n.id();
        bestCount = count;
        bestActive = active;
      }
    }
    if (bestNode == null) {
      return null;
    }
    try {
      return ledger.reservePreempting(t.owner(), bestNode, t.amount(), t.sla().priority(), lease, initial)
          .reservation();
    } catch (InsufficientCapacityException | IllegalArgumentException raced) {
      return null;
    }
  }

  private static boolean fitsSomeCapacity(Resources amount, List<NodeView> nodes) {
    for (NodeView n : nodes) {
      if (amount.fits(n.capacity())) {
        return true;
      }
    }
    return false;
  }

  private void releaseQuietly(Reservation r) {
    try {
      ledger.release(r.id());
    } catch (IllegalStateException | IllegalArgumentException alreadyEnded) {
      // It expired or was preempted meanwhile: nothing to give back.
    }
  }
}
