package dev.penumbra.core.ledger;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Reservation.State;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The in-memory ledger: a {@link LedgerBook} (the state and the rules) behind one lock, read at this ledger's
 * clock, with listeners. Operations are short and touch one node (expiry aside), so a single uncontended lock is
 * cheaper than finer ones. Events are queued under the lock (in sequence order) and delivered after it is
 * released. Every operation takes the lock explicitly (no lambda per call: this is the ledger's hot path).
 */
final class InMemoryLedger implements Ledger {

  private static final Logger LOG = LoggerFactory.getLogger(InMemoryLedger.class);

  private final Clock clock;
  private final ReentrantLock lock = new ReentrantLock();
  private final LedgerBook book;

  private final CopyOnWriteArrayList<LedgerListener> listeners = new CopyOnWriteArrayList<>();
  private final ConcurrentLinkedQueue<LedgerEvent> pending = new ConcurrentLinkedQueue<>();
  private final ReentrantLock delivery = new ReentrantLock();

  InMemoryLedger(Clock clock) {
    this(clock, 1);
  }

  InMemoryLedger(Clock clock, long firstId) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.book = new LedgerBook(firstId, pending::add);
  }

  @Override
  public Clock clock() {
    return clock;
  }

  @Override
  public void addNode(String id, Resources capacity) {
    lock.lock();
    try {
      book.addNode(id, capacity, clock.instant());
    } finally {
      lock.unlock();
    }
    deliver();
  }

  @Override
  public void removeNode(String id) {
    lock.lock();
    try {
      book.removeNode(id, clock.instant());
    } finally {
      lock.unlock();
    }
    deliver();
  }

  @Override
  public Reservation reserve(
      String owner, String node, Resources amount, Priority priority, Duration lease, State initial) {
    Reservation out;
    lock.lock();
    try {
      out = book.reserve(owner, node, amount, priority, lease, initial, clock.instant());
    } finally {
      lock.unlock();
    }
    deliver();
    return out;
  }

  @Override
  public Reservation restore(Reservation saved) {
    lock.lock();
    try {
      book.restore(saved, clock.instant());
    } finally {
      lock.unlock();
    }
    deliver();
    return saved;
  }

  @Override
  public Preemption reservePreempting(
      String owner, String node, Resources amount, Priority priority, Duration lease, State initial) {
    Preemption out;
    lock.lock();
    try {
      out = book.reservePreempting(owner, node, amount, priority, lease, initial, clock.instant());
    } finally {
      lock.unlock();
    }
    deliver();
    return out;
  }

  @Override
  public Optional<List<Reservation>> preemptionPlan(String node, Resources amount, Priority priority) {
    Optional<List<Reservation>> out;
    lock.lock();
    try {
      out = book.preemptionPlan(node, amount, priority, clock.instant());
    } finally {
      lock.unlock();
    }
    deliver();
    return out;
  }

  @Override
  public Reservation activate(long id) {
    Reservation out;
    lock.lock();
    try {
      out = book.activate(id, clock.instant());
    } finally {
      lock.unlock();
    }
    deliver();
    return out;
  }

  @Override
  public Reservation resize(long id, Resources amount) {
    Reservation out;
    lock.lock();
    try {
      out = book.resize(id, amount, clock.instant());
    } finally {
      lock.unlock();
    }
    deliver();
    return out;
  }

  @Override
  public Reservation renew(long id, Duration lease) {
    Reservation out;
    lock.lock();
    try {
      out = book.renew(id, lease, clock.instant());
    } finally {
      lock.unlock();
    }
    deliver();
    return out;
  }

  @Override
  public Reservation release(long id) {
    Reservation out;
    lock.lock();
    try {
      out = book.release(id, clock.instant());
    } finally {
      lock.unlock();
    }
    deliver();
    return out;
  }

  @Override
  public int expireDue() {
    int out;
    lock.lock();
    try {
      out = book.expireDue(clock.instant());
    } finally {
      lock.unlock();
    }
    deliver();
    return out;
  }

  @Override
  public Optional<Reservation> get(long id) {
    Optional<Reservation> out;
    lock.lock();
    try {
      out = book.get(id, clock.instant());
    } finally {
      lock.unlock();
    }
    deliver();
    return out;
  }

  @Override
  public List<NodeView> nodes() {
    List<NodeView> out;
    lock.lock();
    try {
      out = book.nodes(clock.instant());
    } finally {
      lock.unlock();
    }
    deliver();
    return out;
  }

  @Override
  public LedgerSnapshot snapshot() {
    LedgerSnapshot out;
    lock.lock();
    try {
      out = book.snapshot(clock.instant());
    } finally {
      lock.unlock();
    }
    deliver();
    return out;
  }

  @Override
  public Subscription subscribe(LedgerListener listener) {
    Checks.notNull("listener", listener);
    lock.lock();
    try {
      listeners.add(listener);
      book.recordEvents(true);
    } finally {
      lock.unlock();
    }
    return () -> {
      lock.lock();
      try {
        listeners.remove(listener);
        book.recordEvents(!listeners.isEmpty());
      } finally {
        lock.unlock();
      }
    };
  }

  /**
   * Delivers queued events in sequence order. Only one thread delivers at a time; a thread that finds another
   * delivering leaves its events to it (the deliverer re-checks the queue after letting go). A listener that
   * changes the ledger does not deliver recursively: its events follow once the current one is done.
   */
  private void deliver() {
    if (pending.isEmpty() || delivery.isHeldByCurrentThread()) {
      return;
    }
    while (!pending.isEmpty() && delivery.tryLock()) {
      try {
        LedgerEvent ev;
        while ((ev = pending.poll()) != null) {
          for (LedgerListener l : listeners) {
            try {
              l.onEvent(ev);
            } catch (RuntimeException ex) {
              LOG.warn("ledger listener {} failed on event {}", l, ev.sequence(), ex);
            }
          }
        }
      } finally {
        delivery.unlock();
      }
    }
  }
}
