package dev.penumbra.query;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Priority;
import java.util.PriorityQueue;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Bounds how many queries run the path before their reservation (the sandbox check, the shadow, the prediction) at
 * once, and lets them in by priority, then arrival. Without it a burst of N queries runs N paths side by side: every
 * path shares the cores with the others, so none finishes early, no query reaches the allocator until nearly all
 * have planned, and the cores stand idle for the primaries meanwhile (a burst of 60 small queries on 2 cores lost a
 * fifth of its throughput to this against FIFO, which runs no path). With {@code permits} of them at once (about
 * one per core) the first query reaches its reservation after one path's time, and a critical query that arrives
 * while batch paths wait goes first. Waiting here costs no reservation: nothing is held yet. Thread-safe.
 */
final class PathStage {

  private record Waiter(int rank, long seq, Condition turn) {}

  private final ReentrantLock lock = new ReentrantLock();
  private final PriorityQueue<Waiter> queue = new PriorityQueue<>(
      (a, b) -> a.rank() != b.rank() ? Integer.compare(a.rank(), b.rank()) : Long.compare(a.seq(), b.seq()));
  private final int permits;
  // Guarded by lock.
  private int inside;
  private long seq;

  PathStage(int permits) {
    Checks.atLeast("pathConcurrency", permits, 1);
    this.permits = permits;
  }

  /** Waits for a turn (critical first, then arrival order); pair with {@link #leave()} in a finally block. */
  void enter(Priority priority) throws InterruptedException {
    lock.lock();
    try {
      if (inside < permits && queue.isEmpty()) {
        inside++;
        return;
      }
      Waiter w = new Waiter(priority.ordinal(), seq++, lock.newCondition());
      queue.add(w);
      try {
        while (inside >= permits || queue.peek() != w) {
          w.turn().await();
        }
      } catch (InterruptedException e) {
        queue.remove(w);
        wakeHead();
        throw e;
      }
      queue.poll();
      inside++;
      wakeHead();
    } finally {
      lock.unlock();
    }
  }

  void leave() {
    lock.lock();
    try {
      inside--;
      wakeHead();
    } finally {
      lock.unlock();
    }
  }

  /** Paths running now and queries waiting for one. */
  int inside() {
    lock.lock();
    try {
      return inside;
    } finally {
      lock.unlock();
    }
  }

  int waiting() {
    lock.lock();
    try {
      return queue.size();
    } finally {
      lock.unlock();
    }
  }

  private void wakeHead() {
    Waiter head = queue.peek();
    if (head != null && inside < permits) {
      head.turn().signal();
    }
  }
}
