package dev.penumbra.task;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/** The executor's state of one running task. Resource state is guarded by this object's monitor. */
final class TaskRun {

  final String id;
  final TaskSpec spec;
  final TaskModel model;
  final long threadId;
  final long startMillis;
  final long submitNanos;
  final CompletableFuture<TaskResult> future = new CompletableFuture<>();

  // Guarded by this.
  final List<Piece> pieces = new ArrayList<>();
  long baseReservation = -1;
  /**
   * Per {@link Piece.Kind}: the units owned when a warm piece of that kind was released unused after the grace
   * period. Warming again needs a forecast above it (the need must have grown), so a forecast that keeps
   * overshooting does not warm, release and warm again; the task taking units of that kind clears it.
   */
  final int[] warmFloor = new int[Piece.Kind.values().length];
  boolean ended;
  long stallNanos;
  int hits;
  int misses;

  // Written under the monitor, read by the sampler without it.
  volatile long heldBytes;
  volatile int heldThreads;
  volatile int extras;
  volatile boolean progressed;
  final AtomicLong ioBytes = new AtomicLong();
  final AtomicLong workerCpuNanos = new AtomicLong();

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

  /** Units of {@code kind} in live pieces (warm ones still being filled included). */
  int owned(Piece.Kind kind) {
    int n = 0;
    for (Piece p : pieces) {
      if (p.kind == kind && !p.released) {
        n += p.units;
      }
    }
    return n;
  }

  boolean filling(Piece.Kind kind) {
    for (Piece p : pieces) {
      if (p.kind == kind && !p.released && !p.isReady()) {
        return true;
      }
    }
    return false;
  }

  /** A live piece of {@code kind} with units nobody has started to allocate, or null. */
  Piece unfilled(Piece.Kind kind) {
    for (Piece p : pieces) {
      if (p.kind == kind && !p.released && p.unfilled > 0) {
        return p;
      }
    }
    return null;
  }
}
