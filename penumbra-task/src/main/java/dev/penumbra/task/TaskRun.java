package dev.penumbra.task;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/** The executor's state of one running task. Resource state is guarded by this object's monitor. */
final class TaskRun {

  final String id;
  final TaskSpec spec;
  final TaskModel model;
  final long threadId;
  /** When the task's body started (its registration until admitted): the origin of its elapsed time. */
  volatile long startMillis;
  final long submitNanos;
  final CompletableFuture<TaskResult> future = new CompletableFuture<>();

  // Guarded by this.
  final Units memory = new Units(Units.Kind.MEMORY);
  final Units threads = new Units(Units.Kind.THREAD);
  /** The task's passage through the executor's control loop (set at admission). */
  volatile dev.penumbra.core.loop.Grant<TaskRun> grant;
  /** Admitted by the executor's {@link PhaseAdmission}: its curve counts in the plan until it ends. */
  volatile boolean planned;
  /** Waiting now for a grant the node has no room for (a stall mid-run). */
  volatile boolean starved;
  /** A prefetch hook of this task threw: it is not warmed again. */
  volatile boolean warmFailed;
  /** The pool could not give back units the ledger no longer holds (they were in use): repaired by the sampler. */
  volatile boolean deficit;
  boolean ended;
  long stallNanos;
  int hits;
  int misses;

  // Written under the monitor, read by the sampler without it.
  volatile long heldBytes;
  volatile int heldThreads;
  volatile boolean progressed;
  final AtomicLong ioBytes = new AtomicLong();
  final AtomicLong workerCpuNanos = new AtomicLong();

  /** What the last target handed to the loop was made of (sampler only): unchanged, it is not handed again. */
  double targetedBytes = -1;
  double targetedThreads = -1;
  long targetedHeld = -1;

  /** Bounds of the last forecast; a run holding more is sampled at the next tick. Written by the sampler. */
  volatile double upperBytes;
  volatile double upperThreads;

  /** The task's thread when it runs on one the executor started (null for runs registered by tests). */
  volatile Thread thread;

  /** Queued for a full sample at the next tick. */
  final java.util.concurrent.atomic.AtomicBoolean urgent = new java.util.concurrent.atomic.AtomicBoolean();

  // Sampler thread only.
  long lastSampledTick = -1;
  long lastCpu = -1;
  long lastReadMillis = Long.MIN_VALUE;
  long lastWorkerCpu;
  int unread;
  long lastAlloc = -1;
  long lastIo;
  long lastFullMillis = Long.MIN_VALUE;
  int stride = 1;
  long nextFullTick;
  final double[] values = new double[Signal.COUNT];
  /** Per-bucket peaks of every signal, guarded by the monitor (the task thread and the sampler write them). */
  double[] peaks = new double[8 * Signal.COUNT];
  /** Buckets of {@link #peaks} in use. */
  int peakBuckets;

  TaskRun(String id, TaskSpec spec, TaskModel model, long threadId, long startMillis) {
    this.id = id;
    this.spec = spec;
    this.model = model;
    this.threadId = threadId;
    this.startMillis = startMillis;
    this.submitNanos = System.nanoTime();
  }

  /** Raises the recorded peak of {@code s} in {@code bucket}. Under the monitor (task thread and sampler write). */
  void peak(int bucket, int s, double v) {
    int i = bucket * Signal.COUNT + s;
    if (i >= peaks.length) {
      // Doubling keeps the per-tick cost constant for long tasks.
      peaks = Arrays.copyOf(peaks, Math.max(peaks.length * 2, (bucket + 1) * Signal.COUNT));
    }
    if (bucket >= peakBuckets) {
      peakBuckets = bucket + 1;
    }
    if (v > peaks[i]) {
      peaks[i] = v;
    }
  }

  /** The recorded peaks of the buckets reached. */
  double[] peaks() {
    return Arrays.copyOf(peaks, peakBuckets * Signal.COUNT);
  }

  Units units(Units.Kind kind) {
    return kind == Units.Kind.MEMORY ? memory : threads;
  }
}
