package dev.penumbra.core.ledger;

/**
 * A reservation, a resize or a preemption did not fit: the message names the node, what was asked and what
 * was free. Nothing was changed.
 */
public class InsufficientCapacityException extends IllegalStateException {

  private static final long serialVersionUID = 1L;

  public InsufficientCapacityException(String message) {
    super(message);
  }
}
