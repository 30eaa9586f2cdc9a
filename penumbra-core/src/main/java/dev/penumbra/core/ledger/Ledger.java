package dev.penumbra.core.ledger;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The single source of truth of what is reserved where.
 *
 * <p>Invariant, at all times: for every node and every dimension, the sum of the live (WARM and ACTIVE)
 * reservations is at most the node's capacity. Every operation is atomic: it either happens whole or throws
 * and changes nothing.
 *
 * <p>Leases: a reservation whose lease expires at {@code T} is expired by any operation at a clock instant
 * {@code >= T} (and not one nanosecond before). Every operation, reads included, first expires every lease due
 * at the clock's current instant; {@link #expireDue()} does only that.
 *
 * <p>Bad input throws {@link IllegalArgumentException} (unknown node or reservation, null or invalid argument,
 * duplicate node), {@link IllegalStateException} (operation not allowed in the reservation's state) or
 * {@link InsufficientCapacityException} (does not fit); the message names the field and the value.
 *
 * <p>Implementations are thread-safe.
 */
public interface Ledger {

  /** A thread-safe ledger in memory whose leases follow {@code clock}. */
  static Ledger inMemory(Clock clock) {
    return new InMemoryLedger(clock);
  }

  /**
   * A ledger like {@link #inMemory(Clock)} whose reservation ids start at {@code firstId} (>= 1): a restarted
   * server passes the first id its previous runs never handed out, so an id a client still holds never names
   * someone else's reservation.
   */
  static Ledger inMemory(Clock clock, long firstId) {
    return new InMemoryLedger(clock, firstId);
  }

  /** The clock leases are measured on. */
  Clock clock();

  /** Adds a node. Throws when {@code id} is already there. */
  void addNode(String id, Resources capacity);

  /** Removes a node. Throws when it is unknown or still holds live reservations. */
  void removeNode(String id);

  /**
   * Reserves {@code amount} on {@code node} when it fits in the node's free capacity.
   *
   * @param initial {@code WARM} (reserved ahead of use) or {@code ACTIVE}
   * @param lease how long until it expires unless renewed (> 0)
   * @throws InsufficientCapacityException when it does not fit
   */
  Reservation reserve(
      String owner, String node, Resources amount, Priority priority, Duration lease, Reservation.State initial);

  /** {@link #reserve} in state WARM. */
  default Reservation reserve(String owner, String node, Resources amount, Priority priority, Duration lease) {
    return reserve(owner, node, amount, priority, lease, Reservation.State.WARM);
  }

  /**
   * Reserves like {@link #reserve}, preempting live reservations of strictly lower priority on the node when
   * the free capacity is not enough: the fewest victims that make it fit, and among equally few the cheapest
   * (see {@link #preemptionPlan}). All or nothing.
   *
   * @throws InsufficientCapacityException when even preempting every lower-priority reservation on the node
   *     would not make room; nothing is preempted then
   */
  Preemption reservePreempting(
      String owner, String node, Resources amount, Priority priority, Duration lease, Reservation.State initial);

  /**
   * The reservations {@link #reservePreempting} would preempt now, without changing anything: an empty list
   * when the amount fits without preemption, empty when it cannot fit even with preemption.
   *
   * <p>The rule: candidates are the node's live reservations of strictly lower priority. Among the sets of
   * candidates that, added to the free capacity, cover the amount in every dimension, the chosen one has (1)
   * the fewest reservations, then (2) the fewest ACTIVE ones (WARM capacity is not yet in use), then (3) the
   * lowest sum of priority ranks (batch 0, standard 1), then (4) the least capacity taken (sum of dominant
   * shares of the node's capacity); remaining ties go to the set found first when candidates are ordered by
   * (WARM before ACTIVE, lower priority, smaller share, newer) and sets of equal size are enumerated in that
   * order. The search is exact for up to 16 candidates; with more, a greedy choice (repeatedly the candidate
   * covering most of what is still missing, then dropping any victim not needed) keeps it fast.
   */
  Optional<List<Reservation>> preemptionPlan(String node, Resources amount, Priority priority);

  /** WARM -> ACTIVE. Throws when it is not WARM. */
  Reservation activate(long id);

  /** Changes the amount of a live reservation; growing only when the growth fits in the node's free capacity. */
  Reservation resize(long id, Resources amount);

  /** Sets a live reservation's lease to expire {@code lease} (> 0) from now. */
  Reservation renew(long id, Duration lease);

  /**
   * Puts back a live reservation an earlier run of the same ledger held (persistence across a restart): same id,
   * owner, node, amount, priority, state, creation time and lease expiry; a lease already past expires on the next
   * expiry pass. Emits {@code RESERVED}.
   *
   * @throws IllegalArgumentException when it is not live, its id is in use or not below the ids this ledger hands
   *     out, or its node is unknown
   * @throws InsufficientCapacityException when it does not fit its node now
   */
  default Reservation restore(Reservation saved) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot restore reservations");
  }

  /** Ends a live reservation, giving its capacity back. Throws when it is not live (e.g. released twice). */
  Reservation release(long id);

  /** Expires every lease due now; returns how many expired. */
  int expireDue();

  /**
   * The reservation with this id: live, or ended recently (the last few thousand ended ones are remembered).
   */
  Optional<Reservation> get(long id);

  /** The nodes with capacity and use, in the order they were added. */
  List<NodeView> nodes();

  /** A consistent picture of nodes and live reservations. */
  LedgerSnapshot snapshot();

  /** Registers a listener for every later change; close the subscription to stop. */
  Subscription subscribe(LedgerListener listener);

  /** A registered listener; {@link #close()} unregisters it. */
  interface Subscription extends AutoCloseable {
    @Override
    void close();
  }
}
