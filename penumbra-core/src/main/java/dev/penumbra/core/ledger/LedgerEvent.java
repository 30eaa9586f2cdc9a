package dev.penumbra.core.ledger;

import java.time.Instant;

/**
 * One change in a ledger. Events carry consecutive sequence numbers (starting at 1) in the order the changes
 * happened, and are delivered to every listener in that order.
 *
 * @param type what happened
 * @param before the reservation before the change; null for {@code RESERVED} and node events
 * @param after the reservation after the change; null for node events
 * @param node the node concerned
 * @param sequence the change's position in the ledger's history
 * @param time the ledger clock's instant of the change
 */
public record LedgerEvent(Type type, Reservation before, Reservation after, String node, long sequence, Instant time) {

  /** What happened. */
  public enum Type {
    NODE_ADDED,
    NODE_REMOVED,
    RESERVED,
    ACTIVATED,
    RESIZED,
    RENEWED,
    RELEASED,
    EXPIRED,
    PREEMPTED;

    /** True for the events after which a node has more free capacity than before (or may have). */
    public boolean freesCapacity() {
      return this == NODE_ADDED || this == RELEASED || this == EXPIRED || this == PREEMPTED || this == RESIZED;
    }
  }
}
