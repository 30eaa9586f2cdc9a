package dev.penumbra.task;

import java.util.concurrent.atomic.LongAdder;

/**
 * The executor's counters and its resource-time: memory and worker threads the tasks' reservations stood for
 * (reserved) and what the tasks held (used), integrated on the executor's clock. Thread-safe.
 */
final class Accounting {

  final LongAdder submitted = new LongAdder();
  final LongAdder completed = new LongAdder();
  final LongAdder failed = new LongAdder();
  final LongAdder hits = new LongAdder();
  final LongAdder misses = new LongAdder();
  final LongAdder warmed = new LongAdder();
  final LongAdder warmUsed = new LongAdder();
  final LongAdder warmDenied = new LongAdder();
  final LongAdder graceReleases = new LongAdder();
  final LongAdder queued = new LongAdder();
  final LongAdder degraded = new LongAdder();
  final LongAdder rejected = new LongAdder();
  final LongAdder yielded = new LongAdder();
  final LongAdder hookFailures = new LongAdder();
  final LongAdder prefetchSkipped = new LongAdder();
  final LongAdder helped = new LongAdder();
  // Sampler-only writes, read through volatile in stats().
  volatile long ticks;
  volatile long taskSteps;
  volatile long fullSamples;
  volatile long samplerCpuNanos;

  // Resource-time, guarded by this.
  private long last = Long.MIN_VALUE;
  private long reservedBytes;
  private long usedBytes;
  private long reservedThreads;
  private long usedThreads;
  private double reservedByteMillis;
  private double usedByteMillis;
  private double reservedThreadMillis;
  private double usedThreadMillis;

  /** Integrates up to {@code now}, then applies the changes of what is reserved and used. */
  synchronized void change(long now, long dReservedBytes, long dUsedBytes, long dReservedThreads, long dUsedThreads) {
    if (last != Long.MIN_VALUE && now > last) {
      long dt = now - last;
      reservedByteMillis += (double) reservedBytes * dt;
      usedByteMillis += (double) usedBytes * dt;
      reservedThreadMillis += (double) reservedThreads * dt;
      usedThreadMillis += (double) usedThreads * dt;
    }
    last = Math.max(last, now);
    reservedBytes += dReservedBytes;
    usedBytes += dUsedBytes;
    reservedThreads += dReservedThreads;
    usedThreads += dUsedThreads;
  }

  TaskStats stats(long now) {
    double rb;
    double ub;
    double rt;
    double ut;
    synchronized (this) {
      change(now, 0, 0, 0, 0);
      rb = reservedByteMillis;
      ub = usedByteMillis;
      rt = reservedThreadMillis;
      ut = usedThreadMillis;
    }
    return new TaskStats(submitted.sum(), completed.sum(), failed.sum(), hits.sum(), misses.sum(), warmed.sum(),
        warmUsed.sum(), warmDenied.sum(), helped.sum(), graceReleases.sum(), queued.sum(), degraded.sum(),
        rejected.sum(), yielded.sum(), hookFailures.sum(), prefetchSkipped.sum(), ticks, taskSteps, fullSamples,
        samplerCpuNanos, rb, ub, rt,
        ut);
  }
}
