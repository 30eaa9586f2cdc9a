package dev.penumbra.query;

import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.loop.Actuator;
import dev.penumbra.query.engine.PrimaryEngine;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The query loop's actuator: the primary engine's envelope per reservation — the threads (DuckDB {@code threads},
 * PostgreSQL parallel workers + 1) and the memory limit a query runs with. A query starts with exactly what its
 * reservation holds when it starts (an engine applies both per session, so a running query keeps what it started
 * with); a resize applies to the next attempt. Acquisition is instant: the pool's sessions are open.
 */
final class EngineEnvelope implements Actuator {

  private final Map<Long, Resources> held = new ConcurrentHashMap<>();

  @Override
  public void acquire(Reservation reservation) {
    held.put(reservation.id(), reservation.amount());
  }

  @Override
  public void resize(Reservation reservation, Resources amount) {
    held.computeIfPresent(reservation.id(), (id, old) -> amount);
  }

  @Override
  public void release(Reservation reservation) {
    held.remove(reservation.id());
  }

  /** The envelope a query on {@code reservation} runs with: its threads and memory limit. */
  Resources of(Reservation reservation) {
    Resources r = held.get(reservation.id());
    if (r == null) {
      throw new IllegalStateException("reservation " + reservation.id() + " of '" + reservation.owner()
          + "' holds no engine envelope (not acquired, or released)");
    }
    return r;
  }

  /** The envelope held per reservation id now. */
  Map<Long, Resources> held() {
    return Map.copyOf(held);
  }

  /** Threads granted to running and placed queries now. */
  int threads() {
    return held.values().stream().mapToInt(PrimaryEngine::threadsFor).sum();
  }
}
