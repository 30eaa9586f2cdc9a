package dev.penumbra.shard;

import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.loop.Actuator;
import java.util.HashMap;
import java.util.Map;

/**
 * The shard loop's actuator: a reservation placed on a backend's node becomes a slot on that backend. Acquiring
 * fails on a backend that died since it was chosen (the loop then releases the reservation and the engine asks
 * again); what each backend holds in slots is kept for its view.
 */
final class BackendSlots implements Actuator {

  /** Acquiring a slot on a backend that is no longer alive. */
  static final class BackendDown extends RuntimeException {
    BackendDown(String backend) {
      super("backend '" + backend + "' is down");
    }
  }

  private final Map<String, Backend> backends;
  private final Map<Long, Reservation> held = new HashMap<>();

  BackendSlots(Map<String, Backend> backends) {
    this.backends = backends;
  }

  @Override
  public void acquire(Reservation reservation) {
    Backend b = backends.get(reservation.node());
    if (b == null || !b.alive()) {
      throw new BackendDown(reservation.node());
    }
    synchronized (this) {
      held.put(reservation.id(), reservation);
    }
  }

  @Override
  public synchronized void resize(Reservation reservation, Resources amount) {
    held.computeIfPresent(reservation.id(), (id, r) -> reservation);
  }

  @Override
  public synchronized void release(Reservation reservation) {
    held.remove(reservation.id());
  }

  /** Slots held now on each backend: how many and how much. */
  synchronized Map<String, Resources> heldByBackend() {
    Map<String, Resources> m = new HashMap<>();
    for (Reservation r : held.values()) {
      m.merge(r.node(), r.amount(), Resources::plus);
    }
    return m;
  }

  synchronized int slots() {
    return held.size();
  }
}
