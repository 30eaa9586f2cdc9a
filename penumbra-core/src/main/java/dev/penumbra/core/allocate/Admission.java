package dev.penumbra.core.allocate;

import dev.penumbra.core.ledger.Ledger;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The waiting requests of every {@link Allocator} on one ledger, in one admission order. Capabilities each run
 * their own allocator on the server's one ledger; without a shared order, one that asks often for small amounts
 * (a shard's scans) takes every bit of capacity a release frees, and a larger request of a higher priority in
 * another allocator (a query's whole core) waits for ever. With it, a request is placed only when no other
 * allocator's request ahead of it in the order still waits, so "the first request that cannot be placed blocks
 * every request behind it" holds across allocators, as it does within one.
 */
final class Admission {

  /** One per ledger; weak, so a ledger no one holds is not kept by its admission (tickets leave when done). */
  private static final Map<Ledger, Admission> BY_LEDGER = Collections.synchronizedMap(new WeakHashMap<>());

  /** Arrival order across allocators (each allocator's own ticket ids restart at 1). */
  private static final AtomicLong SEQUENCE = new AtomicLong();

  private final ConcurrentSkipListSet<Ticket> waiting = new ConcurrentSkipListSet<>(Allocator.ORDER);

  private Admission() {}

  static Admission of(Ledger ledger) {
    return BY_LEDGER.computeIfAbsent(ledger, l -> new Admission());
  }

  static long nextSequence() {
    return SEQUENCE.incrementAndGet();
  }

  void add(Ticket t) {
    waiting.add(t);
  }

  void remove(Ticket t) {
    waiting.remove(t);
  }

  /**
   * The first request of another allocator that still waits, in admission order; null when there is none. One
   * walk per pass (not one per ticket): a pass compares each of its tickets with it.
   */
  Ticket firstOfOthers(Allocator self) {
    for (Ticket u : waiting) {
      if (u.allocator() != self && !u.isDone()) {
        return u;
      }
    }
    return null;
  }

  /** The other allocators with a request waiting: they may place it now that {@code self}'s queue has moved. */
  Set<Allocator> othersWaiting(Allocator self) {
    Set<Allocator> out = new LinkedHashSet<>();
    for (Ticket u : waiting) {
      if (u.allocator() != self && !u.isDone()) {
        out.add(u.allocator());
      }
    }
    return out;
  }
}
