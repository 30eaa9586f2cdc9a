package dev.penumbra.core.allocate;

import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation;
import java.util.Optional;

/** What a reservation's owner is measured to use now; empty when there is no measurement. */
@FunctionalInterface
public interface UsageSource {
  Optional<Resources> measure(Reservation reservation);
}
