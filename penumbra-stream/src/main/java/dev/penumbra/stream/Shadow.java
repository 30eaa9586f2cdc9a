package dev.penumbra.stream;

import dev.penumbra.core.Checks;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A shadow stream: runs the processing function on sampled records, on its own bounded buffer and its own
 * thread, and measures each record's thread CPU time and allocated bytes.
 *
 * <p>Isolation: {@link #offer} never blocks and never throws because of the processing; when the buffer is
 * full (the shadow is slow or stalled) the record is dropped and counted, and a processing error is counted
 * and forgotten. The primary therefore never waits for, nor fails with, its shadow.
 */
public final class Shadow implements AutoCloseable {

  private static final StreamRecord STOP = new StreamRecord(0, null, null);

  private final String name;
  private final RecordProcessor processor;
  private final ArrayBlockingQueue<StreamRecord> buffer;
  private final ConcurrentHashMap<Integer, Counters> counters = new ConcurrentHashMap<>();
  private final AtomicLong pending = new AtomicLong();
  private final Thread thread;
  private final java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private final com.sun.management.ThreadMXBean allocations;
  private volatile boolean closed;
  private volatile double admitted = 1;

  private Shadow(String name, RecordProcessor processor, int capacity) {
    this.name = name;
    this.processor = processor;
    this.buffer = new ArrayBlockingQueue<>(capacity);
    this.allocations = threads instanceof com.sun.management.ThreadMXBean t && t.isThreadAllocatedMemorySupported()
        ? t : null;
    if (threads.isThreadCpuTimeSupported() && !threads.isThreadCpuTimeEnabled()) {
      threads.setThreadCpuTimeEnabled(true);
    }
    this.thread = Thread.ofPlatform().daemon().name("penumbra-shadow-" + name).unstarted(this::loop);
  }

  /**
   * Starts a shadow with a buffer of {@code capacity} records (>= 1).
   *
   * @throws IllegalArgumentException for a null processor or a capacity < 1
   */
  public static Shadow start(String name, RecordProcessor processor, int capacity) {
    if (processor == null) {
      throw new IllegalArgumentException("shadow processor is missing");
    }
    Checks.atLeast("shadow capacity", capacity, 1);
    Shadow s = new Shadow(name == null ? "shadow" : name, processor, capacity);
    s.thread.start();
    return s;
  }

  public String name() {
    return name;
  }

  /**
   * Hands a sampled record to the shadow; false (and counted as dropped) when the buffer is full or closed, or
   * (counted as skipped) when the record falls outside the {@link #admit admitted share}. Every offered record
   * is counted, so the arrival rate read from {@code offered} does not depend on what is processed.
   */
  public boolean offer(StreamRecord record) {
    Counters c = counters(record.partition());
    long n = c.offered.incrementAndGet();
    if (closed) {
      c.dropped.incrementAndGet();
      return false;
    }
    double share = admitted;
    // Every-nth within the partition's offered records: the same evenly spaced rule as Sampling.everyNth.
    if (share < 1 && Math.floor(n * share) == Math.floor((n - 1) * share)) {
      c.skipped.incrementAndGet();
      return false;
    }
    pending.incrementAndGet();
    if (!buffer.offer(record)) {
      pending.decrementAndGet();
      c.dropped.incrementAndGet();
      return false;
    }
    return true;
  }

  /**
   * The share of offered records the shadow processes, in (0, 1] (1 at start): how the owner of a shadow keeps
   * its cost within a budget. The others are counted ({@link ShadowStats#skipped}) but not processed.
   */
  public void admit(double share) {
    Checks.share("admitted share", share);
    admitted = share;
  }

  /** The share of offered records processed now. */
  public double admitted() {
    return admitted;
  }

  /** The partition's counters; an empty record for a partition never seen. */
  public ShadowStats stats(int partition) {
    Counters c = counters.get(partition);
    return c == null ? ShadowStats.empty(partition) : c.snapshot(partition);
  }

  /** Every partition seen, by partition number. */
  public List<ShadowStats> stats() {
    List<ShadowStats> all = new ArrayList<>();
    counters.keySet().stream().sorted().forEach(p -> all.add(stats(p)));
    return all;
  }

  /** Waits until every accepted record has been processed; false on timeout. */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (pending.get() > 0) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      // A signal would put a monitor on every sampled record's path; this wait serves tests and benches only.
      Thread.sleep(0, 100_000);
    }
    return true;
  }

  /** Stops accepting; the shadow's thread ends after the records already in its buffer (or when interrupted). */
  @Override
  public void close() {
    closed = true;
    if (!buffer.offer(STOP)) {
      thread.interrupt();
    }
  }

  private Counters counters(int partition) {
    return counters.computeIfAbsent(partition, p -> new Counters());
  }

  private void loop() {
    long self = Thread.currentThread().threadId();
    while (true) {
      StreamRecord r;
      try {
        r = buffer.poll(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        return;
      }
      if (r == STOP) {
        return;
      }
      if (r == null) {
        if (closed) {
          return;
        }
        continue;
      }
      Counters c = counters(r.partition());
      long cpu0 = threads.getThreadCpuTime(self);
      long alloc0 = allocations == null ? 0 : allocations.getThreadAllocatedBytes(self);
      boolean ok;
      try {
        processor.process(r);
        ok = true;
      } catch (InterruptedException e) {
        pending.decrementAndGet();
        return;
      } catch (Exception | LinkageError | StackOverflowError e) {
        ok = false;
      }
      long cpu = threads.getThreadCpuTime(self) - cpu0;
      long alloc = allocations == null ? 0 : allocations.getThreadAllocatedBytes(self) - alloc0;
      if (ok) {
        // Both are updated before 'processed' so a reader never sees a record without its cost.
        c.cpuNanos.addAndGet(Math.max(0, cpu));
        c.allocatedBytes.addAndGet(Math.max(0, alloc));
        c.processed.incrementAndGet();
      } else {
        c.failed.incrementAndGet();
      }
      pending.decrementAndGet();
    }
  }

  private static final class Counters {
    final AtomicLong offered = new AtomicLong();
    final AtomicLong processed = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();
    final AtomicLong skipped = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong cpuNanos = new AtomicLong();
    final AtomicLong allocatedBytes = new AtomicLong();

    ShadowStats snapshot(int partition) {
      long p = processed.get();
      return new ShadowStats(partition, offered.get(), p, dropped.get(), skipped.get(), failed.get(), cpuNanos.get(),
          allocatedBytes.get());
    }
  }
}
