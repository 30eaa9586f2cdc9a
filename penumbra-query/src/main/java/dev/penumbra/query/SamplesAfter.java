package dev.penumbra.query;

import dev.penumbra.core.Resources;
import dev.penumbra.query.engine.QueryResult;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Samples made after their query, in the node's idle moments: on an idle node the gateway answers the query first
 * and hands its sample here; one background thread runs it once no query is in the gateway (none planning, waiting
 * or running), and the run is cut off as soon as one arrives ({@link #busy}). A sample before the query would sit on
 * its latency path, and one beside another query takes a core from it. At most {@value #MAX_PENDING} wait; a newer
 * one pushes out the oldest (its shape has newer runs to learn from). Thread-safe.
 */
final class SamplesAfter implements AutoCloseable {

  /** A sample to make: the query's fingerprint and text, its cost cap, the budget held for it, and its run. */
  record Pending(String fingerprint, String sql, Duration cap, double heldNanos, QueryResult result,
      Resources reserved) {}

  static final int MAX_PENDING = 4;

  private static final Logger LOG = LoggerFactory.getLogger(SamplesAfter.class);

  private final AtomicInteger inflight = new AtomicInteger();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Consumer<Pending> run;
  private final Consumer<Pending> drop;
  // Guarded by lock.
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private Thread worker;
  private boolean closed;
  private boolean running;

  /**
   * @param run makes one sample and learns from it (on the background thread)
   * @param drop gives back what was held for a sample that will not run
   */
  SamplesAfter(Consumer<Pending> run, Consumer<Pending> drop) {
    this.run = run;
    this.drop = drop;
  }

  /** A query entered the gateway: a sample running now is cut off. */
  void enter() {
    inflight.incrementAndGet();
  }

  /** A query left the gateway; the last one out wakes the worker. */
  void leave() {
    if (inflight.decrementAndGet() == 0) {
      lock.lock();
      try {
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  /** Whether a query is in the gateway (the stop signal of a running sample). */
  boolean busy() {
    return inflight.get() > 0;
  }

  /** Queues a sample for the next idle moment. */
  void offer(Pending p) {
    Pending out = null;
    lock.lock();
    try {
      if (closed) {
        out = p;
      } else {
        if (pending.size() >= MAX_PENDING) {
          out = pending.pollFirst();
        }
        pending.addLast(p);
        if (worker == null) {
          worker = Thread.ofPlatform().daemon().name("penumbra-query-sample-after").unstarted(this::loop);
          worker.setPriority(Thread.MIN_PRIORITY);
          worker.start();
        }
        changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
    if (out != null) {
      drop.accept(out);
    }
  }

  private void loop() {
    while (true) {
      Pending p;
      lock.lock();
      try {
        while (!closed && (pending.isEmpty() || inflight.get() > 0)) {
          changed.await();
        }
        if (closed) {
          return;
        }
        p = pending.pollFirst();
        running = true;
      } catch (InterruptedException e) {
        return;
      } finally {
        lock.unlock();
      }
      try {
        run.accept(p);
      } catch (RuntimeException e) {
        // One sample that fails to run or to be learned from must not end the thread: every later sample would
        // wait for good, and the budget held for them with it.
        LOG.warn("a sample after its query failed; it is skipped", e);
      } finally {
        lock.lock();
        try {
          running = false;
          changed.signalAll();
        } finally {
          lock.unlock();
        }
      }
    }
  }

  /**
   * Waits until no sample waits or runs, at most {@code timeout}; true when none does. The samples still need an
   * idle moment: a caller with queries in the gateway waits the whole timeout.
   */
  boolean awaitDone(Duration timeout) throws InterruptedException {
    long left = timeout.toNanos();
    lock.lock();
    try {
      while (!closed && (running || !pending.isEmpty())) {
        if (left <= 0) {
          return false;
        }
        left = changed.awaitNanos(left);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    Thread w;
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
      w = worker;
    } finally {
      lock.unlock();
    }
    if (w != null) {
      try {
        w.join(Duration.ofSeconds(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    lock.lock();
    try {
      pending.forEach(drop);
      pending.clear();
    } finally {
      lock.unlock();
    }
  }
}
