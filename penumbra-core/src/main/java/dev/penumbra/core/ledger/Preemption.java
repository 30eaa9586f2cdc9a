package dev.penumbra.core.ledger;

import java.util.List;

/**
 * The result of {@link Ledger#reservePreempting}: the new reservation and the reservations that were
 * preempted to make room for it (empty when it fitted without), in the order they were preempted.
 */
public record Preemption(Reservation reservation, List<Reservation> victims) {

  public Preemption {
    victims = List.copyOf(victims);
  }
}
