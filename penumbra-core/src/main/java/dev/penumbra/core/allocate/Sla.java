package dev.penumbra.core.allocate;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Priority;
import java.time.Instant;
import java.util.Optional;

/**
 * What a request is promised: its priority and, optionally, the instant by which it must be placed.
 *
 * @param priority sizes the reservation (its forecast quantile) and decides what it may preempt
 * @param deadline when a waiting request gives up, or null for none
 */
public record Sla(Priority priority, Instant deadline) {

  public Sla {
    Checks.notNull("sla priority", priority);
  }

  /** No deadline. */
  public static Sla of(Priority priority) {
    return new Sla(priority, null);
  }

  public static Sla of(Priority priority, Instant deadline) {
    return new Sla(priority, deadline);
  }

  public Optional<Instant> deadlineIfAny() {
    return Optional.ofNullable(deadline);
  }
}
