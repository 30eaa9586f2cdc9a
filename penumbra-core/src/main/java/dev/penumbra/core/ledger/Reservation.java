package dev.penumbra.core.ledger;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import java.time.Instant;

/**
 * What the ledger holds: an amount of resources on one node, for one owner, at one priority, under a lease.
 * Immutable: every change in the ledger produces a new value (see {@link LedgerEvent}).
 *
 * @param id assigned by the ledger, unique and increasing
 * @param owner who holds it (the work it is for)
 * @param node the node it is on
 * @param amount what is reserved
 * @param priority what it may preempt and what may preempt it (only strictly higher priorities)
 * @param state where it is in its lifecycle
 * @param created when it was reserved
 * @param leaseExpiry the instant at which it expires unless renewed or ended before
 */
public record Reservation(
    long id,
    String owner,
    String node,
    Resources amount,
    Priority priority,
    State state,
    Instant created,
    Instant leaseExpiry) {

  /**
   * The lifecycle: {@code WARM -> ACTIVE}, and from either of them to one of the terminal states
   * {@code RELEASED}, {@code EXPIRED} or {@code PREEMPTED}.
   */
  public enum State {
    /** Reserved ahead of use; counts against capacity. */
    WARM,
    /** In use; counts against capacity. */
    ACTIVE,
    /** Given back by its owner. */
    RELEASED,
    /** Its lease ran out before it was renewed or released. */
    EXPIRED,
    /** Taken away for a reservation of strictly higher priority. */
    PREEMPTED;

    /** True for WARM and ACTIVE: the states that count against capacity. */
    public boolean isLive() {
      return this == WARM || this == ACTIVE;
    }
  }

  /** True while it counts against its node's capacity (WARM or ACTIVE). */
  public boolean isLive() {
    return state.isLive();
  }

  Reservation withState(State s) {
    return new Reservation(id, owner, node, amount, priority, s, created, leaseExpiry);
  }

  Reservation withAmount(Resources a) {
    return new Reservation(id, owner, node, a, priority, state, created, leaseExpiry);
  }

  Reservation withLeaseExpiry(Instant e) {
    return new Reservation(id, owner, node, amount, priority, state, created, e);
  }
}
