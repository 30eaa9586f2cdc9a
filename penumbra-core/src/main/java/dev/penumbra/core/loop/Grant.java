package dev.penumbra.core.loop;

import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.allocate.Ticket;
import dev.penumbra.core.ledger.Reservation;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * One piece of work's passage through a {@link ControlLoop}: what was predicted for it, the reservation the
 * allocator placed for it, what it was measured to use, and how it ended. The capability runs the work on the
 * grant and reports back through it; it never touches the ledger itself.
 *
 * <p>Lifecycle: {@link #placed()} completes when the allocator has placed the reservation and the actuator has
 * acquired it (or fails, e.g. with a deadline exceeded); then {@link #activate()} when the work starts on a WARM
 * reservation, {@link #observe} while it runs (the adjuster reads it), {@link #target} when a newer forecast
 * arrives, {@link #resize} for a change the capability decides itself, and finally {@link #complete} with what
 * the work used (the loop learns from it) or {@link #release} when there is nothing to learn (failed,
 * cancelled). {@link #ended()} completes with the last reservation however it ended — released, expired or
 * preempted by higher-priority work.
 *
 * <p>Thread-safe.
 *
 * @param <S> the signal the loop's model reads
 */
public final class Grant<S> {

  private final ControlLoop<S> loop;
  private final String owner;
  private final S signal;
  private final Sla sla;
  private final Ticket ticket;
  private final CompletableFuture<Grant<S>> placed = new CompletableFuture<>();
  private final CompletableFuture<Reservation> ended = new CompletableFuture<>();
  private volatile Demand demand;
  private volatile Reservation reservation;
  private volatile Resources observed;
  private volatile Resources floor;
  private volatile Resources peakObserved = Resources.ZERO;
  // Accounting of reserved and used resource-time, guarded by the grant's monitor.
  java.time.Instant accountedAt;
  Resources accountedUse = Resources.ZERO;
  // What each rule of the baseline guard would hold for this work now (base: null without a baseline).
  private volatile Resources ownCandidate;
  private volatile Resources baseCandidate;

  Grant(ControlLoop<S> loop, String owner, S signal, Demand demand, Sla sla, Ticket ticket) {
    this.loop = loop;
    this.owner = owner;
    this.signal = signal;
    this.demand = demand;
    this.sla = sla;
    this.ticket = ticket;
  }

  public String owner() {
    return owner;
  }

  /** What the loop's shadow observed for this work (null for a grant made without a signal). */
  public S signal() {
    return signal;
  }

  /** The latest prediction for this work. */
  public Demand demand() {
    return demand;
  }

  public Sla sla() {
    return sla;
  }

  /** The amount the allocator was asked to reserve (the demand sized at the priority's quantile). */
  public Resources requested() {
    return ticket.amount();
  }

  /** Completes with this grant once its reservation is placed and acquired. */
  public CompletableFuture<Grant<S>> placed() {
    return placed;
  }

  /** Completes with the final reservation once it ended (released, expired or preempted). */
  public CompletableFuture<Reservation> ended() {
    return ended;
  }

  public boolean isPlaced() {
    return reservation != null;
  }

  /** True once the reservation ended, or the request failed or was cancelled before it was placed. */
  public boolean isEnded() {
    return ended.isDone() || placed.isCompletedExceptionally() || placed.isCancelled();
  }

  /** The reservation as the loop last saw it. Throws while it is not placed. */
  public Reservation reservation() {
    Reservation r = reservation;
    if (r == null) {
      throw new IllegalStateException("grant of owner '" + owner + "' is not placed yet");
    }
    return r;
  }

  /** The last measurement given to {@link #observe}, or null. */
  public Resources observed() {
    return observed;
  }

  /** The component-wise peak of every measurement so far. */
  public Resources peakObserved() {
    return peakObserved;
  }

  /** The amount the adjuster holds at least (from {@link #target}), or null. */
  public Resources floor() {
    return floor;
  }

  /** WARM -> ACTIVE: the work starts on what was reserved ahead of it. */
  public Grant<S> activate() {
    loop.activate(this);
    return this;
  }

  /** What the work uses now (a measurement, never the model's guess); the adjuster reads the latest. */
  public void observe(Resources used) {
    if (used == null) {
      throw new IllegalArgumentException("used must not be null for grant of owner '" + owner + "'");
    }
    loop.account(this, used);
    observed = used;
    peakObserved = peakObserved.max(used);
    loop.observed(this, used);
  }

  /**
   * A newer prediction for this work: the adjuster holds at least its size at the priority's quantile from now
   * on, and grows the reservation to it at once when the node has room (shrinking waits for the grace period).
   */
  public void target(Demand newDemand) {
    if (newDemand == null) {
      throw new IllegalArgumentException("demand must not be null for grant of owner '" + owner + "'");
    }
    demand = newDemand;
    loop.retarget(this, newDemand);
  }

  /**
   * Sets the reservation to exactly {@code amount} now (growth only when it fits the node's free capacity),
   * and tells the actuator.
   *
   * @throws dev.penumbra.core.ledger.InsufficientCapacityException when the growth does not fit
   */
  public Reservation resize(Resources amount) {
    return loop.resize(this, amount);
  }

  /** Extends the lease to {@code lease} from now. */
  public Reservation renew(Duration lease) {
    return loop.renew(this, lease);
  }

  /**
   * The work finished having used {@code actual} (its peak need, measured): releases the reservation, and
   * feeds the outcome back (the allocator's record of this model at this priority, and the model itself).
   */
  public void complete(Resources actual) {
    if (actual == null) {
      throw new IllegalArgumentException("actual must not be null for grant of owner '" + owner + "'");
    }
    loop.complete(this, actual);
  }

  /** Ends the grant without learning (the work failed or was withdrawn): cancels or releases. */
  public void release() {
    loop.release(this);
  }

  // ----- the loop's side

  Ticket ticket() {
    return ticket;
  }

  void placedAs(Reservation r) {
    reservation = r;
  }

  void update(Reservation r) {
    reservation = r;
  }

  void floor(Resources f) {
    floor = f;
  }

  void candidates(Resources own, Resources base) {
    ownCandidate = own;
    baseCandidate = base;
  }

  /** What Penumbra's model would hold for this work now. */
  public Resources ownCandidate() {
    return ownCandidate;
  }

  /** What the loop's baseline rule would hold for this work now, or null without a baseline. */
  public Resources baseCandidate() {
    return baseCandidate;
  }

  CompletableFuture<Grant<S>> placedFuture() {
    return placed;
  }

  CompletableFuture<Reservation> endedFuture() {
    return ended;
  }

  @Override
  public String toString() {
    Reservation r = reservation;
    return "grant of '" + owner + "' (" + loop.name() + ", " + sla.priority().label() + ")"
        + (r == null ? " waiting for " + ticket.amount() : " holding " + r.amount() + " as reservation " + r.id());
  }
}
