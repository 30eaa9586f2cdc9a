package dev.penumbra.core.ledger;

import dev.penumbra.core.Resources;

/**
 * A node as the ledger saw it at one moment.
 *
 * @param id the node's id
 * @param capacity what it can hold
 * @param used the sum of its live (WARM and ACTIVE) reservations; never above capacity in any dimension
 * @param reservations how many live reservations it holds
 */
public record NodeView(String id, Resources capacity, Resources used, int reservations) {

  /** Capacity not reserved. */
  public Resources free() {
    return capacity.minus(used);
  }
}
