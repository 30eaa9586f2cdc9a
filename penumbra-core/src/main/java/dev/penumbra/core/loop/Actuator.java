package dev.penumbra.core.loop;

import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation;
import java.time.Duration;

/**
 * The real resource behind a loop's reservations: what acquiring, resizing and releasing it does — DuckDB
 * threads and memory for a query, workers for a stream partition, threads and memory for a task, a standby
 * node, a backend slot for a shard. The ledger only keeps the books; the actuator makes them true.
 *
 * <p>Every method has a no-op default, so a capability implements only what it actuates (the way Ratis' optional
 * sub-interfaces do). The loop calls them after the ledger changed, outside any ledger lock; an actuator that
 * throws leaves the ledger as it is and the exception reaches the caller of the loop operation.
 */
public interface Actuator {

  /** An actuator that actuates nothing: the capability applies the grant itself (or there is nothing to apply). */
  Actuator NONE = new Actuator() {};

  /**
   * How long the real resource takes to become usable after {@link #acquire}: the loop's users reserve at least
   * this far ahead of need; zero when acquiring is instant (a thread grant, a memory limit).
   */
  default Duration acquisitionLag() {
    return Duration.ZERO;
  }

  /** Makes the reservation's amount available to its owner (called once, when it is placed). */
  default void acquire(Reservation reservation) {}

  /** The reservation now holds {@code amount} (called after the ledger resized it, up or down). */
  default void resize(Reservation reservation, Resources amount) {}

  /** The reservation ended; give the real resource back (called once). */
  default void release(Reservation reservation) {}
}
