package dev.penumbra.server;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.LedgerEvent;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.ledger.Reservation;
import java.util.List;
import java.util.Locale;

/**
 * The ledger's values as the API writes them (nodes, reservations, events), shared by the ledger routes, the
 * dashboard and the capabilities that show a grant. Instants are ISO-8601 text, enums lower case.
 */
final class LedgerJson {
  private LedgerJson() {}

  /** CPU and memory of an amount; the ledger's IO and network dimensions are not shown. */
  record Amount(long cpuMillis, long memoryBytes) {
    static Amount of(Resources r) {
      return new Amount(r.cpuMillis(), r.memoryBytes());
    }
  }

  /** Used over capacity per dimension (0 on a dimension with no capacity). */
  record Utilisation(double cpu, double memory) {}

  /** One node of {@code GET /v1/nodes} and the dashboard. */
  record Node(String id, Amount capacity, Amount used, Amount free, int reservations, Utilisation utilisation) {
    static Node of(NodeView v) {
      return new Node(v.id(), Amount.of(v.capacity()), Amount.of(v.used()), Amount.of(v.free()), v.reservations(),
          new Utilisation(share(v.used().cpuMillis(), v.capacity().cpuMillis()),
              share(v.used().memoryBytes(), v.capacity().memoryBytes())));
    }
  }

  /** One reservation. */
  record Res(long id, String owner, String node, Amount amount, String priority, String state, String created,
      String leaseExpiry) {
    static Res of(Reservation r) {
      return new Res(r.id(), r.owner(), r.node(), Amount.of(r.amount()), r.priority().label(),
          r.state().name().toLowerCase(Locale.ROOT), r.created().toString(), r.leaseExpiry().toString());
    }
  }

  /** {@code GET /v1/reservations/{id}}: the reservation and the events that touched it. */
  record ResWithHistory(long id, String owner, String node, Amount amount, String priority, String state,
      String created, String leaseExpiry, List<Event> history) {
    static ResWithHistory of(Reservation r, List<Event> history) {
      Res x = Res.of(r);
      return new ResWithHistory(x.id(), x.owner(), x.node(), x.amount(), x.priority(), x.state(), x.created(),
          x.leaseExpiry(), history);
    }
  }

  /** One ledger event; {@code reservation} is the state after it (before it, for a removal), absent for a node event. */
  record Event(long sequence, String time, String type, String node,
      @JsonInclude(JsonInclude.Include.NON_NULL) Res reservation) {
    static Event of(LedgerEvent e) {
      Reservation r = e.after() != null ? e.after() : e.before();
      return new Event(e.sequence(), e.time().toString(), e.type().name().toLowerCase(Locale.ROOT), e.node(),
          r == null ? null : Res.of(r));
    }
  }

  static double share(long used, long capacity) {
    return capacity == 0 ? 0 : (double) used / capacity;
  }
}
