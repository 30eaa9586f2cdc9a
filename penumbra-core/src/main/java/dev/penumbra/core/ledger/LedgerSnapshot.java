package dev.penumbra.core.ledger;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A consistent picture of a ledger: taken atomically, after everything due at {@code time} expired.
 *
 * @param sequence the sequence number of the last change it includes (0 before any)
 * @param time the ledger clock's instant when it was taken
 * @param nodes the nodes in the order they were added
 * @param reservations the live reservations, by increasing id
 */
public record LedgerSnapshot(long sequence, Instant time, List<NodeView> nodes, List<Reservation> reservations) {

  public LedgerSnapshot {
    nodes = List.copyOf(nodes);
    reservations = List.copyOf(reservations);
  }

  /** The node with this id, if the ledger had it. */
  public Optional<NodeView> node(String id) {
    for (NodeView n : nodes) {
      if (n.id().equals(id)) {
        return Optional.of(n);
      }
    }
    return Optional.empty();
  }

  /** The live reservations on one node, by increasing id. */
  public List<Reservation> reservationsOn(String node) {
    List<Reservation> out = new ArrayList<>();
    for (Reservation r : reservations) {
      if (r.node().equals(node)) {
        out.add(r);
      }
    }
    return out;
  }

  /** The live reservation with this id, if there is one. */
  public Optional<Reservation> reservation(long id) {
    for (Reservation r : reservations) {
      if (r.id() == id) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }
}
