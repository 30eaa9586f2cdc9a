package dev.penumbra.server;

import dev.penumbra.core.ledger.LedgerEvent;
import java.util.ArrayDeque;
import java.util.List;

/** The last ledger events, for {@code /v1/events}, reservation histories and ended reservations. Thread-safe. */
final class EventLog {
  private final int capacity;
  private final ArrayDeque<LedgerEvent> events = new ArrayDeque<>();

  EventLog(int capacity) {
    this.capacity = capacity;
  }

  synchronized void add(LedgerEvent e) {
    if (events.size() == capacity) {
      events.removeFirst();
    }
    events.addLast(e);
  }

  synchronized List<LedgerEvent> all() {
    return List.copyOf(events);
  }

  int capacity() {
    return capacity;
  }
}
