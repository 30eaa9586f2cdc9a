package dev.penumbra.cluster;

import dev.penumbra.core.ledger.InsufficientCapacityException;
import dev.penumbra.core.ledger.LedgerEvent;
import dev.penumbra.core.ledger.LedgerSnapshot;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.ledger.Reservation;
import java.util.List;

/**
 * What applying one {@link Command} gave: a value or an error, and the events it produced (due expiries
 * included, which happen even when the operation itself is refused).
 *
 * @param error the exception kind, null on success
 * @param message the exception's message
 * @param reservation the reservation returned (reserve, activate, resize, renew, release, get)
 * @param list victims of a preemption, or a preemption plan
 * @param present whether an optional result (get, plan) is present
 * @param nodes the nodes (nodes)
 * @param snapshot the snapshot (snapshot)
 * @param count how many leases expired (expireDue)
 * @param events the events the operation produced, in sequence order
 */
record Outcome(
    Error error,
    String message,
    Reservation reservation,
    List<Reservation> list,
    boolean present,
    List<NodeView> nodes,
    LedgerSnapshot snapshot,
    int count,
    List<LedgerEvent> events) {

  /** The exceptions a ledger throws, carried by kind so the client throws the same type. */
  enum Error {
    ILLEGAL_ARGUMENT, ILLEGAL_STATE, INSUFFICIENT_CAPACITY;

    static Error of(RuntimeException e) {
      if (e instanceof InsufficientCapacityException) {
        return INSUFFICIENT_CAPACITY;
      }
      return e instanceof IllegalArgumentException ? ILLEGAL_ARGUMENT : ILLEGAL_STATE;
    }

    RuntimeException toException(String message) {
      return switch (this) {
        case ILLEGAL_ARGUMENT -> new IllegalArgumentException(message);
        case ILLEGAL_STATE -> new IllegalStateException(message);
        case INSUFFICIENT_CAPACITY -> new InsufficientCapacityException(message);
      };
    }
  }

  static Outcome failed(RuntimeException e, List<LedgerEvent> events) {
    return new Outcome(Error.of(e), e.getMessage(), null, null, false, null, null, 0, events);
  }

  static Outcome of(Reservation r, List<LedgerEvent> events) {
    return new Outcome(null, null, r, null, r != null, null, null, 0, events);
  }

  /** Rethrows the error, if there was one. */
  Outcome orThrow() {
    if (error != null) {
      throw error.toException(message);
    }
    return this;
  }
}
