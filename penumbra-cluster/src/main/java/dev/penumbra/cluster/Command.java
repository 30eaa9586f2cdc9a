package dev.penumbra.cluster;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation.State;
import java.time.Duration;

/**
 * One ledger operation as it travels in the Raft log. One record for every operation (unused fields null or 0)
 * keeps the codec to one shape; reads are operations too, because in a ledger a read expires due leases.
 */
record Command(
    Op op, String owner, String node, Resources amount, Priority priority, Duration lease, State initial, long id) {

  /** The operations, in the order of their codes on the wire (append only). */
  enum Op {
    ADD_NODE, REMOVE_NODE, RESERVE, RESERVE_PREEMPTING, PLAN, ACTIVATE, RESIZE, RENEW, RELEASE, EXPIRE_DUE, GET,
    NODES, SNAPSHOT;

    /** True for the operations that never change anything but due expiries. */
    boolean isRead() {
      return this == PLAN || this == EXPIRE_DUE || this == GET || this == NODES || this == SNAPSHOT;
    }
  }

  static Command addNode(String id, Resources capacity) {
    return new Command(Op.ADD_NODE, null, id, capacity, null, null, null, 0);
  }

  static Command removeNode(String id) {
    return new Command(Op.REMOVE_NODE, null, id, null, null, null, null, 0);
  }

  static Command reserve(
      boolean preempting, String owner, String node, Resources amount, Priority p, Duration lease, State initial) {
    return new Command(preempting ? Op.RESERVE_PREEMPTING : Op.RESERVE, owner, node, amount, p, lease, initial, 0);
  }

  static Command plan(String node, Resources amount, Priority p) {
    return new Command(Op.PLAN, null, node, amount, p, null, null, 0);
  }

  static Command onReservation(Op op, long id, Resources amount, Duration lease) {
    return new Command(op, null, null, amount, null, lease, null, id);
  }

  static Command simple(Op op) {
    return new Command(op, null, null, null, null, null, null, 0);
  }
}
