package dev.penumbra.task;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.InsufficientCapacityException;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.ledger.Reservation;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs JVM tasks, each on its own thread, with a shadow beside each: one sampler thread observes every running
 * task each {@code interval}, a {@link TaskModel} per task forecasts its demand over the next {@code horizon},
 * and before the forecast exceeds what the task holds the difference is reserved in the {@link Ledger} as WARM
 * and warmed up (memory blocks allocated and touched, worker threads started, the task's {@link PrefetchHook}
 * called) on a warm-up thread. A warm reservation becomes ACTIVE when the task takes it; one that stays unused
 * for {@code grace} is released.
 *
 * <p>See docs/task.md for the sampling, model, warm-up, fallback and accounting rules.
 */
public final class TaskExecutor implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TaskExecutor.class);
  private static final int PAGE = 4096;

  private final Ledger ledger;
  private final String node;
  private final Clock clock;
  private final long intervalMillis;
  private final Duration horizon;
  private final long graceMillis;
  private final Duration lease;
  private final int blockBytes;
  private final int maxStride;
  private final boolean warming;
  private final Duration bucket;
  private final Map<Priority, Fallback> fallbacks;
  private final long queueTimeoutNanos;
  private final ErrorTracker tracker;
  private final ThreadProbe probe;
  private final Executor warmer;
  private final ExecutorService ownedWarmer;
  private final ScheduledExecutorService sampler;

  private final ConcurrentHashMap<String, TaskProfile> profiles = new ConcurrentHashMap<>();
  private final AtomicLong sequence = new AtomicLong();
  private final Object runsLock = new Object();
  private final java.util.concurrent.ConcurrentLinkedQueue<TaskRun> finished = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private volatile TaskRun[] runs = new TaskRun[0];
  private final Object capacity = new Object();
  private volatile boolean closed;

  private final LongAdder submitted = new LongAdder();
  private final LongAdder completed = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder warmed = new LongAdder();
  private final LongAdder warmUsed = new LongAdder();
  private final LongAdder warmDenied = new LongAdder();
  private final LongAdder graceReleases = new LongAdder();
  private final LongAdder queued = new LongAdder();
  private final LongAdder degraded = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final LongAdder yielded = new LongAdder();
  private final LongAdder hookFailures = new LongAdder();
  private final LongAdder helped = new LongAdder();
  // Sampler-only (tick is synchronized), published through volatile reads in stats().
  private volatile long ticks;
  private volatile long taskSteps;
  private volatile long fullSamples;
  private volatile long samplerCpuNanos;
  private long[] dueIds = new long[64];
  private TaskRun[] dueRuns = new TaskRun[64];
  private boolean[] readFlags = new boolean[64];
  /** Runs by the tick of their next full sample (modulo WHEEL > the largest stride). Sampler only. */
  private static final int WHEEL = 128;
  @SuppressWarnings("unchecked")
  private final ArrayDeque<TaskRun>[] wheel = new ArrayDeque[WHEEL];
  private final java.util.concurrent.ConcurrentLinkedQueue<TaskRun> urgent = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final java.util.Set<TaskRun> withExtras = ConcurrentHashMap.newKeySet();
  private static final long[] EMPTY = new long[0];
  /** A waiting task's thread is still read every this many full samples. */
  static final int READ_EVERY = 4;

  // Resource-time accounting, guarded by itself.
  private final Accounting acct = new Accounting();

  private static final class Accounting {
    long last = Long.MIN_VALUE;
    long reservedBytes;
    long usedBytes;
    long reservedThreads;
    long usedThreads;
    double reservedByteMillis;
    double usedByteMillis;
    double reservedThreadMillis;
    double usedThreadMillis;
  }

  private TaskExecutor(Builder b) {
    this.ledger = b.ledger;
    this.node = b.node;
    this.clock = b.clock != null ? b.clock : b.ledger.clock();
    this.intervalMillis = b.interval.toMillis();
    this.horizon = b.horizon;
    this.graceMillis = b.grace.toMillis();
    this.lease = b.lease;
    this.blockBytes = b.blockBytes;
    this.maxStride = b.maxStride;
    this.warming = b.warming;
    this.bucket = b.bucket;
    this.fallbacks = new EnumMap<>(b.fallbacks);
    this.queueTimeoutNanos = b.queueTimeout.toNanos();
    this.tracker = b.tracker;
    this.probe = b.probe != null ? b.probe : ThreadProbe.mxBean();
    if (b.warmer != null) {
      this.warmer = b.warmer;
      this.ownedWarmer = null;
    } else {
      // Warm-ups of different tasks run side by side; a task that asks before its warm-up got a turn
      // allocates the rest itself, so the pool size bounds warming throughput, not any task's wait.
      int threads = Math.max(2, Runtime.getRuntime().availableProcessors() / 2);
      this.ownedWarmer = Executors.newFixedThreadPool(threads,
          r -> Thread.ofPlatform().daemon().name("penumbra-warmer").unstarted(r));
      this.warmer = ownedWarmer;
    }
    for (int i = 0; i < WHEEL; i++) {
      wheel[i] = new ArrayDeque<>();
    }
    if (b.sampling) {
      this.sampler = Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("penumbra-task-sampler").unstarted(r));
      sampler.scheduleAtFixedRate(this::tickSafely, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
    } else {
      this.sampler = null;
    }
  }

  /** A builder for an executor whose tasks reserve on {@code node} of {@code ledger}. */
  public static Builder builder(Ledger ledger, String node) {
    return new Builder(ledger, node);
  }

  // ------------------------------------------------------------------------------------------ submission

  /**
   * Starts {@code body} on a new thread. The returned future completes with the {@link TaskResult} when the
   * task ends, also when the body throws (the failure is in the result) or its admission is rejected.
   *
   * @throws IllegalArgumentException when {@code spec} or {@code body} is missing
   * @throws IllegalStateException after {@link #close()}
   */
  public CompletableFuture<TaskResult> submit(TaskSpec spec, TaskBody body) {
    if (spec == null) {
      throw new IllegalArgumentException("spec is missing");
    }
    if (body == null) {
      throw new IllegalArgumentException("body of task type '" + spec.type() + "' is missing");
    }
    checkOpen();
    AtomicReference<TaskRun> ref = new AtomicReference<>();
    CountDownLatch registered = new CountDownLatch(1);
    Thread t = Thread.ofPlatform().daemon().unstarted(() -> {
      try {
        registered.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      execute(ref.get(), body);
    });
    TaskRun run = register(spec, t.threadId());
    run.thread = t;
    t.setName("penumbra-task-" + run.id);
    ref.set(run);
    registered.countDown();
    t.start();
    return run.future;
  }

  /** Registers a task run on thread {@code threadId} (the sampler observes that thread). */
  TaskRun register(TaskSpec spec, long threadId) {
    TaskProfile profile = profile(spec.type());
    String id = spec.type() + "-" + sequence.incrementAndGet();
    TaskRun run = new TaskRun(id, spec, new TaskModel(profile, horizon, spec.priority(), tracker), threadId, clock.millis());
    synchronized (runsLock) {
      TaskRun[] rs = Arrays.copyOf(runs, runs.length + 1);
      rs[rs.length - 1] = run;
      runs = rs;
    }
    submitted.increment();
    nudge(run);
    return run;
  }

  private void execute(TaskRun run, TaskBody body) {
    Throwable failure = null;
    try {
      admit(run);
      body.run(context(run));
    } catch (Throwable e) {
      failure = e;
    } finally {
      complete(run, failure);
    }
  }

  /** Reserves and provisions the task's base (its own thread, base threads and memory): part of its latency. */
  void admit(TaskRun run) {
    long t0 = System.nanoTime();
    Resources base = run.spec.base();
    int blocks = blocksFor(base.memoryBytes());
    int threads = (int) (base.cpuMillis() / 1000);
    Resources amount = Resources.of(base.cpuMillis() + 1000, (long) blocks * blockBytes);
    Reservation r = reserveActive(run, amount, false);
    long now = clock.millis();
    List<Object> blockList = new ArrayList<>(blocks);
    for (int i = 0; i < blocks; i++) {
      blockList.add(newBlock());
    }
    List<Worker> workers = new ArrayList<>(threads);
    for (int i = 0; i < threads; i++) {
      workers.add(new Worker(run.id));
    }
    synchronized (run) {
      run.baseReservation = r.id();
      if (blocks > 0) {
        Piece p = new Piece(Piece.Kind.MEMORY, blocks, r.id(), true, false, now);
        p.free.addAll(blockList);
        run.pieces.add(p);
      }
      for (Worker w : workers) {
        Piece p = new Piece(Piece.Kind.THREAD, 1, r.id(), true, false, now);
        p.free.add(w);
        run.pieces.add(p);
      }
      run.stallNanos += System.nanoTime() - t0;
    }
    account(now, (long) blocks * blockBytes, 0, threads, 0);
  }

  /** Ends a run: releases everything it holds, teaches its type's profile, completes its future. */
  void complete(TaskRun run, Throwable failure) {
    long endNanos = System.nanoTime();
    long now = clock.millis();
    long bytes = 0;
    long threads = 0;
    long heldB;
    int heldT;
    synchronized (run) {
      if (run.ended) {
        return;
      }
      run.ended = true;
      for (Piece p : run.pieces) {
        if (!p.released) {
          bytes += p.kind == Piece.Kind.MEMORY ? (long) p.units * blockBytes : 0;
          threads += p.kind == Piece.Kind.THREAD ? p.units : 0;
          drop(p);
          if (!p.base) {
            releaseQuietly(p.reservationId, run.id);
          }
        }
      }
      if (run.baseReservation >= 0) {
        releaseQuietly(run.baseReservation, run.id);
      }
      heldB = run.heldBytes;
      heldT = run.heldThreads;
      run.heldBytes = 0;
      run.heldThreads = 0;
    }
    account(now, -bytes, -heldB, -threads, -heldT);
    synchronized (runsLock) {
      TaskRun[] rs = runs;
      int i = Arrays.asList(rs).indexOf(run);
      if (i >= 0) {
        TaskRun[] next = new TaskRun[rs.length - 1];
        System.arraycopy(rs, 0, next, 0, i);
        System.arraycopy(rs, i + 1, next, i, rs.length - i - 1);
        runs = next;
      }
    }
    signalCapacity();
    if (failure == null) {
      // The sampler owns the run's peaks: it teaches the profile at its next tick, so ending a task never
      // waits for a tick in progress.
      finished.add(run);
    } else {
      failed.increment();
    }
    completed.increment();
    TaskResult result;
    synchronized (run) {
      result = new TaskResult(run.id, run.spec.type(), Duration.ofNanos(endNanos - run.submitNanos),
          Duration.ofNanos(run.stallNanos), run.hits, run.misses, failure);
    }
    run.future.complete(result);
  }

  private void releaseQuietly(long reservationId, String owner) {
    try {
      ledger.release(reservationId);
    } catch (IllegalStateException e) {
      // Expired or preempted meanwhile: nothing is held any more, which is what releasing wants.
      log.debug("reservation {} of task {} was already ended: {}", reservationId, owner, e.getMessage());
    }
  }

  private void drop(Piece p) {
    p.released = true;
    if (p.kind == Piece.Kind.THREAD) {
      for (Object o : p.free) {
        ((Worker) o).stop();
      }
    }
    p.free.clear();
  }

  TaskProfile profile(String type) {
    return profiles.computeIfAbsent(type, t -> new TaskProfile(t, bucket));
  }

  /** The profiles learned so far, by task type. */
  public Map<String, TaskProfile> profiles() {
    return Map.copyOf(profiles);
  }

  // ------------------------------------------------------------------------------------------ task context

  TaskContext context(TaskRun run) {
    return new TaskContext() {
      @Override
      public String taskId() {
        return run.id;
      }

      @Override
      public MemoryLease memory(long bytes) {
        return takeMemory(run, bytes);
      }

      @Override
      public int parallel(int threads, Runnable work) {
        return runParallel(run, threads, work);
      }

      @Override
      public ReadableByteChannel reading(ReadableByteChannel channel) {
        Objects.requireNonNull(channel, "channel");
        return new ReadableByteChannel() {
          @Override
          public int read(ByteBuffer dst) throws IOException {
            int n = channel.read(dst);
            if (n > 0) {
              run.ioBytes.addAndGet(n);
            }
            return n;
          }

          @Override
          public boolean isOpen() {
            return channel.isOpen();
          }

          @Override
          public void close() throws IOException {
            channel.close();
          }
        };
      }

      @Override
      public WritableByteChannel writing(WritableByteChannel channel) {
        Objects.requireNonNull(channel, "channel");
        return new WritableByteChannel() {
          @Override
          public int write(ByteBuffer src) throws IOException {
            int n = channel.write(src);
            if (n > 0) {
              run.ioBytes.addAndGet(n);
            }
            return n;
          }

          @Override
          public boolean isOpen() {
            return channel.isOpen();
          }

          @Override
          public void close() throws IOException {
            channel.close();
          }
        };
      }

      @Override
      public void progress(double fraction) {
        if (!(fraction >= 0 && fraction <= 1)) {
          throw new IllegalArgumentException("progress must be in [0, 1], was " + fraction);
        }
        run.progressed = true;
        nudge(run);
      }
    };
  }

  private record Taken(Piece piece, Object unit) {}

  MemoryLease takeMemory(TaskRun run, long bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("memory bytes must be > 0, was " + bytes);
    }
    long blocksLong = (bytes + blockBytes - 1) / blockBytes;
    if (blocksLong > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("memory bytes is too large, was " + bytes);
    }
    int blocks = (int) blocksLong;
    List<Taken> taken = take(run, Piece.Kind.MEMORY, blocks, false);
    long held = (long) taken.size() * blockBytes;
    synchronized (run) {
      run.heldBytes += held;
      run.peak(run.model.profile().bucketOf(clock.millis() - run.startMillis), Signal.MEMORY.ordinal(), run.heldBytes);
      if (run.heldBytes > run.upperBytes) {
        nudge(run);
      }
    }
    account(clock.millis(), 0, held, 0, 0);
    return new MemoryLease() {
      private boolean closed;

      @Override
      public long bytes() {
        return held;
      }

      @Override
      public int blocks() {
        return taken.size();
      }

      @Override
      public byte[] block(int i) {
        return (byte[]) taken.get(i).unit();
      }

      @Override
      public void close() {
        synchronized (run) {
          if (closed) {
            return;
          }
          closed = true;
          giveBack(run, taken);
          if (!run.ended) {
            run.heldBytes -= held;
          }
        }
        account(clock.millis(), 0, run.ended ? 0 : -held, 0, 0);
      }
    };
  }

  int runParallel(TaskRun run, int threads, Runnable work) {
    if (threads < 1 || threads > 256) {
      throw new IllegalArgumentException("threads must be in 1..256, was " + threads);
    }
    if (work == null) {
      throw new IllegalArgumentException("work is missing");
    }
    List<Taken> taken = take(run, Piece.Kind.THREAD, threads, true);
    if (taken.isEmpty()) {
      // Degraded to nothing: the caller's own thread does the work.
      work.run();
      return 1;
    }
    int n = taken.size();
    synchronized (run) {
      run.heldThreads += n;
      run.peak(run.model.profile().bucketOf(clock.millis() - run.startMillis), Signal.THREADS.ordinal(), run.heldThreads);
      if (run.heldThreads > run.upperThreads) {
        nudge(run);
      }
    }
    account(clock.millis(), 0, 0, 0, n);
    CountDownLatch done = new CountDownLatch(n);
    AtomicReference<Throwable> error = new AtomicReference<>();
    for (Taken t : taken) {
      ((Worker) t.unit()).run(() -> {
        long c0 = probe.currentThreadCpuNanos();
        try {
          work.run();
        } catch (Throwable e) {
          error.compareAndSet(null, e);
        } finally {
          run.workerCpuNanos.addAndGet(probe.currentThreadCpuNanos() - c0);
          done.countDown();
        }
      });
    }
    try {
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TaskWorkException("task " + run.id + " was interrupted waiting for its workers", e);
    } finally {
      synchronized (run) {
        giveBack(run, taken);
        if (!run.ended) {
          run.heldThreads -= n;
        }
      }
      account(clock.millis(), 0, 0, 0, -n);
    }
    if (error.get() != null) {
      throw new TaskWorkException("work of task " + run.id + " threw on a worker: " + error.get(), error.get());
    }
    return n;
  }

  /**
   * Takes {@code units} of {@code kind} for the run: free units of ready pieces first (base, then active, then
   * warm, which become ACTIVE), then waits for pieces still being warmed, then grants the rest (real cost).
   * Returns fewer only when {@code degradable} and the fallback degraded.
   */
  private List<Taken> take(TaskRun run, Piece.Kind kind, int units, boolean degradable) {
    List<Taken> taken = new ArrayList<>(units);
    long t0 = System.nanoTime();
    boolean waited = false;
    try {
      while (true) {
        Piece claimed = null;
        synchronized (run) {
          checkNotEnded(run);
          takeFree(run, kind, units, taken);
          if (taken.size() == units) {
            break;
          }
          // A warm-up not finished yet: allocate its remaining units here rather than wait behind the warm-up
          // thread (which may be busy with other tasks); the reservation is kept and becomes ACTIVE.
          claimed = run.unfilled(kind);
          if (claimed != null) {
            claimed.unfilled--;
            claimed.inFlight++;
          } else if (run.filling(kind)) {
            waited = true;
            try {
              run.wait(1);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new ResourceUnavailableException("task " + run.id + " was interrupted waiting for " + kind);
            }
            continue;
          }
        }
        if (claimed != null) {
          waited = true;
          Object unit = kind == Piece.Kind.MEMORY ? newBlock() : new Worker(run.id);
          synchronized (run) {
            claimed.inFlight--;
            run.notifyAll();
            if (claimed.released) {
              if (unit instanceof Worker w) {
                w.stop();
              }
              continue;
            }
            if (claimed.warm && !activate(run, claimed)) {
              continue;
            }
            claimed.inUse++;
            run.warmFloor[kind.ordinal()] = 0;
            taken.add(new Taken(claimed, unit));
          }
          helped.increment();
          continue;
        }
        waited = true;
        int missing = units - taken.size();
        Resources amount = kind == Piece.Kind.MEMORY
            ? Resources.memory((long) missing * blockBytes)
            : Resources.cpu(1000L * missing);
        Reservation r = reserveActive(run, amount, degradable && kind == Piece.Kind.THREAD);
        if (r == null) {
          break;
        }
        long now = clock.millis();
        List<Object> fresh = new ArrayList<>(missing);
        for (int i = 0; i < missing; i++) {
          fresh.add(kind == Piece.Kind.MEMORY ? newBlock() : new Worker(run.id));
        }
        synchronized (run) {
          Piece p = new Piece(kind, missing, r.id(), false, false, now);
          p.free.addAll(fresh);
            run.pieces.add(p);
          run.extras++;
          withExtras.add(run);
          if (run.ended) {
            drop(p);
            releaseQuietly(r.id(), run.id);
            checkNotEnded(run);
          }
        }
        account(now, kind == Piece.Kind.MEMORY ? (long) missing * blockBytes : 0, 0,
            kind == Piece.Kind.THREAD ? missing : 0, 0);
      }
    } catch (RuntimeException e) {
      synchronized (run) {
        giveBack(run, taken);
      }
      throw e;
    }
    synchronized (run) {
      if (waited) {
        run.misses++;
        run.stallNanos += System.nanoTime() - t0;
      } else {
        run.hits++;
      }
    }
    if (waited) {
      misses.increment();
    } else {
      hits.increment();
    }
    return taken;
  }

  private static void checkNotEnded(TaskRun run) {
    if (run.ended) {
      throw new IllegalStateException("task " + run.id + " has ended; it can take no more resources");
    }
  }

  /** Under the run's monitor. */
  private void takeFree(TaskRun run, Piece.Kind kind, int units, List<Taken> taken) {
    for (int pass = 0; pass < 3 && taken.size() < units; pass++) {
      for (Piece p : run.pieces) {
        if (p.kind != kind || p.released || p.free.isEmpty()) {
          continue;
        }
        boolean match = switch (pass) {
          case 0 -> p.base;
          case 1 -> !p.base && !p.warm;
          default -> p.warm;
        };
        if (!match) {
          continue;
        }
        if (p.warm && !activate(run, p)) {
          continue;
        }
        run.warmFloor[kind.ordinal()] = 0;
        while (taken.size() < units && !p.free.isEmpty()) {
          taken.add(new Taken(p, p.free.remove(p.free.size() - 1)));
          p.inUse++;
        }
      }
    }
  }

  /** Under the run's monitor: WARM -> ACTIVE; false when the reservation ended meanwhile (the piece is dropped). */
  private boolean activate(TaskRun run, Piece p) {
    try {
      ledger.activate(p.reservationId);
      p.warm = false;
      warmUsed.increment();
      return true;
    } catch (IllegalStateException e) {
      // Expired or preempted before use: the piece is gone.
      log.info("warm reservation {} of task {} ended before use: {}", p.reservationId, run.id, e.getMessage());
      releasePiece(run, p, false);
      return false;
    }
  }

  /** Under the run's monitor. */
  private void giveBack(TaskRun run, List<Taken> taken) {
    long now = clock.millis();
    for (Taken t : taken) {
      Piece p = t.piece();
      p.inUse--;
      if (p.released) {
        if (p.kind == Piece.Kind.THREAD) {
          ((Worker) t.unit()).stop();
        }
        continue;
      }
      p.free.add(t.unit());
      if (p.inUse == 0) {
        p.idleSince = now;
      }
    }
    taken.clear();
  }

  /**
   * Reserves {@code amount} ACTIVE for the run; when it does not fit, first gives up other tasks' idle warm
   * reservations (same or lower priority), then applies the priority's fallback. Returns null when degraded.
   */
  private Reservation reserveActive(TaskRun run, Resources amount, boolean degradable) {
    Priority priority = run.spec.priority();
    long start = System.nanoTime();
    boolean counted = false;
    while (true) {
      checkOpen();
      try {
        return ledger.reserve(run.id, node, amount, priority, lease, Reservation.State.ACTIVE);
      } catch (InsufficientCapacityException e) {
        if (yieldWarm(run, amount)) {
          continue;
        }
        Fallback f = fallbacks.get(priority);
        if (f == Fallback.REJECT) {
          rejected.increment();
          String msg = "task " + run.id + " (" + priority.label() + "): " + amount + " does not fit on node '" + node
              + "' (" + e.getMessage() + "); fallback REJECT";
          log.info(msg);
          throw new ResourceUnavailableException(msg);
        }
        if (f == Fallback.DEGRADE && degradable) {
          degraded.increment();
          log.info("task {} ({}): {} does not fit on node '{}'; fallback DEGRADE runs with fewer threads",
              run.id, priority.label(), amount, node);
          return null;
        }
        if (!counted) {
          counted = true;
          queued.increment();
          log.info("task {} ({}): {} does not fit on node '{}'; fallback QUEUE waits for capacity",
              run.id, priority.label(), amount, node);
        }
        if (System.nanoTime() - start > queueTimeoutNanos) {
          rejected.increment();
          String msg = "task " + run.id + " (" + priority.label() + "): waited "
              + Duration.ofNanos(queueTimeoutNanos) + " for " + amount + " on node '" + node + "'; giving up";
          log.info(msg);
          throw new ResourceUnavailableException(msg);
        }
        synchronized (capacity) {
          try {
            capacity.wait(2);
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new ResourceUnavailableException("task " + run.id + " was interrupted waiting for " + amount);
          }
        }
      }
    }
  }

  /** Releases idle warm pieces of other tasks of the same or lower priority; true when any was released. */
  private boolean yieldWarm(TaskRun requester, Resources amount) {
    boolean any = false;
    for (TaskRun other : runs) {
      if (other == requester || other.spec.priority().outranks(requester.spec.priority())) {
        continue;
      }
      synchronized (other) {
        for (Piece p : other.pieces) {
          if (p.warm && !p.released && p.inUse == 0
              && (p.kind == Piece.Kind.MEMORY ? amount.memoryBytes() > 0 : amount.cpuMillis() > 0)) {
            releasePiece(other, p, true);
            yielded.increment();
            any = true;
          }
        }
      }
      if (any) {
        return true;
      }
    }
    return false;
  }

  /** Under the run's monitor: ends a non-base piece and gives its reservation back. */
  private void releasePiece(TaskRun run, Piece p, boolean releaseReservation) {
    long bytes = p.kind == Piece.Kind.MEMORY ? (long) p.units * blockBytes : 0;
    long threads = p.kind == Piece.Kind.THREAD ? p.units : 0;
    drop(p);
    run.extras--;
    if (releaseReservation) {
      releaseQuietly(p.reservationId, run.id);
    }
    account(clock.millis(), -bytes, 0, -threads, 0);
    signalCapacity();
  }

  private void signalCapacity() {
    synchronized (capacity) {
      capacity.notifyAll();
    }
  }

  private byte[] newBlock() {
    byte[] b = new byte[blockBytes];
    // The JVM zeroes new arrays; writing one byte per page makes sure every page is resident.
    for (int i = 0; i < b.length; i += PAGE) {
      b[i] = 1;
    }
    return b;
  }

  private int blocksFor(long bytes) {
    long n = (bytes + blockBytes - 1) / blockBytes;
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("memory bytes is too large, was " + bytes);
    }
    return (int) n;
  }

  // ------------------------------------------------------------------------------------------ the sampler

  private void tickSafely() {
    try {
      tick();
    } catch (Throwable e) {
      log.warn("task sampler tick failed", e);
    }
  }

  /**
   * One sampler pass over every running task: cheap accounted signals for all, a full sample (thread MXBean
   * bulk reads, model update, forecast, warm-up decisions) for the tasks that are due, then grace releases.
   * The executor's sampler thread calls it every interval; with {@code sampling(false)} call it yourself.
   */
  public synchronized void tick() {
    long cpu0 = probe.currentThreadCpuNanos();
    for (TaskRun done; (done = finished.poll()) != null; ) {
      double[] peaks;
      synchronized (done) {
        peaks = done.peaks();
      }
      done.model.profile().record(peaks);
    }
    long now = clock.millis();
    long t = ++ticks;
    int due = 0;
    // Only due runs are visited: those whose stride ends now (the wheel) and those that nudged themselves
    // (new, progress reported, or holding more than the last forecast's bound).
    for (TaskRun r; (r = urgent.poll()) != null; ) {
      r.urgent.set(false);
      due = addDue(r, t, due);
    }
    ArrayDeque<TaskRun> slot = wheel[(int) (t & (WHEEL - 1))];
    for (TaskRun r; (r = slot.poll()) != null; ) {
      if (r.nextFullTick == t) {
        due = addDue(r, t, due);
      }
    }
    if (due > 0) {
      // Thread reads cost a system call per thread (about 0.5-1 µs each): they are skipped for a parked or
      // waiting thread, which uses no CPU and allocates nothing, except every READ_EVERY-th full sample.
      int reads = 0;
      for (int i = 0; i < due; i++) {
        TaskRun r = dueRuns[i];
        Thread th = r.thread;
        boolean read = th == null || th.getState() == Thread.State.RUNNABLE || ++r.unread >= READ_EVERY;
        if (read) {
          r.unread = 0;
          dueIds[reads++] = r.threadId;
        }
        readFlags[i] = read;
      }
      long[] cpu = EMPTY;
      long[] alloc = EMPTY;
      if (reads > 0) {
        long[] ids = Arrays.copyOf(dueIds, reads);
        cpu = probe.cpuNanos(ids);
        alloc = probe.allocatedBytes(ids);
      }
      for (int i = 0, j = 0; i < due; i++) {
        TaskRun r = dueRuns[i];
        dueRuns[i] = null;
        if (readFlags[i]) {
          fullSample(r, now, t, true, cpu[j], alloc[j]);
          j++;
        } else {
          fullSample(r, now, t, false, -1, -1);
        }
      }
      fullSamples += due;
    }
    for (java.util.Iterator<TaskRun> it = withExtras.iterator(); it.hasNext(); ) {
      TaskRun r = it.next();
      if (r.ended || r.extras == 0) {
        it.remove();
      } else {
        graceCheck(r, now);
      }
    }
    taskSteps += runs.length;
    samplerCpuNanos += probe.currentThreadCpuNanos() - cpu0;
  }

  private int addDue(TaskRun r, long t, int due) {
    if (r.ended || r.lastSampledTick == t) {
      return due;
    }
    r.lastSampledTick = t;
    if (due == dueIds.length) {
      dueIds = Arrays.copyOf(dueIds, due * 2);
      dueRuns = Arrays.copyOf(dueRuns, due * 2);
      readFlags = Arrays.copyOf(readFlags, due * 2);
    }
    dueRuns[due] = r;
    return due + 1;
  }

  /** Has the sampler take a full sample of the run at its next tick. */
  void nudge(TaskRun r) {
    if (r.urgent.compareAndSet(false, true)) {
      urgent.add(r);
    }
  }

  private void fullSample(TaskRun r, long now, long tick, boolean read, long cpuNanos, long allocBytes) {
    r.progressed = false;
    double[] v = r.values;
    long io = r.ioBytes.get();
    long dt = r.lastFullMillis == Long.MIN_VALUE ? 0 : now - r.lastFullMillis;
    if (dt > 0) {
      v[Signal.IO.ordinal()] = (io - r.lastIo) * 1000.0 / dt;
    }
    if (read) {
      long cpu = cpuNanos < 0 ? -1 : cpuNanos + r.workerCpuNanos.get();
      // Rates over the span since the last read: skipped reads delay attribution, they never lose any.
      long span = r.lastReadMillis == Long.MIN_VALUE ? 0 : now - r.lastReadMillis;
      if (span > 0) {
        v[Signal.CPU.ordinal()] = r.lastCpu < 0 || cpu < r.lastCpu ? 0 : (cpu - r.lastCpu) / 1000.0 / span;
        v[Signal.ALLOCATION.ordinal()] =
            r.lastAlloc < 0 || allocBytes < r.lastAlloc ? 0 : (allocBytes - r.lastAlloc) * 1000.0 / span;
      }
      if (span > 0 || r.lastReadMillis == Long.MIN_VALUE) {
        r.lastCpu = cpu;
        r.lastAlloc = allocBytes;
        r.lastReadMillis = now;
      }
    } else {
      // Not running now: only what its workers did since the last sample.
      long w = r.workerCpuNanos.get();
      v[Signal.CPU.ordinal()] = dt > 0 ? (w - r.lastWorkerCpu) / 1000.0 / dt : 0;
      v[Signal.ALLOCATION.ordinal()] = 0;
    }
    r.lastWorkerCpu = r.workerCpuNanos.get();
    v[Signal.THREADS.ordinal()] = r.heldThreads;
    v[Signal.MEMORY.ordinal()] = r.heldBytes;
    if (dt > 0 || r.lastFullMillis == Long.MIN_VALUE) {
      r.lastIo = io;
      r.lastFullMillis = now;
    }
    long elapsed = now - r.startMillis;
    // Stable when every signal stayed within the band the last forecast drew around its point.
    boolean stable = r.model.observations() > 0;
    for (int s = 0; s < Signal.COUNT && stable; s++) {
      double p = r.model.point(Signal.ALL[s]);
      double band = Math.max(r.model.upper(Signal.ALL[s]) - p, 0.1 * p);
      stable = Math.abs(v[s] - p) <= band + 1e-9;
    }
    r.model.observe(now, elapsed, v);
    r.model.forecast();
    int b = r.model.profile().bucketOf(elapsed);
    synchronized (r) {
      for (int s = 0; s < Signal.COUNT; s++) {
        r.peak(b, s, v[s]);
      }
    }
    r.upperBytes = r.model.upper(Signal.MEMORY);
    r.upperThreads = r.model.upper(Signal.THREADS);
    r.stride = stable ? Math.min(r.stride * 2, maxStride) : 1;
    r.nextFullTick = tick + r.stride;
    wheel[(int) (r.nextFullTick & (WHEEL - 1))].add(r);
    if (warming) {
      warm(r, now);
    }
  }

  /** Reserves WARM and warms up the part of the forecast upper bound the task does not hold yet. */
  void warm(TaskRun r, long now) {
    int wantBlocks = blocksFor((long) Math.ceil(r.model.upper(Signal.MEMORY)));
    int wantThreads = (int) Math.ceil(r.model.upper(Signal.THREADS) - 0.5);
    List<Piece> fresh = null;
    synchronized (r) {
      if (r.ended) {
        return;
      }
      int haveBlocks = r.owned(Piece.Kind.MEMORY);
      if (wantBlocks > haveBlocks && wantBlocks > r.warmFloor[Piece.Kind.MEMORY.ordinal()]) {
        Piece p = reserveWarm(r, Piece.Kind.MEMORY, wantBlocks - haveBlocks, now);
        if (p != null) {
          fresh = new ArrayList<>(2);
          fresh.add(p);
        }
      }
      int haveThreads = r.owned(Piece.Kind.THREAD);
      if (wantThreads > haveThreads && wantThreads > r.warmFloor[Piece.Kind.THREAD.ordinal()]) {
        Piece p = reserveWarm(r, Piece.Kind.THREAD, wantThreads - haveThreads, now);
        if (p != null) {
          if (fresh == null) {
            fresh = new ArrayList<>(1);
          }
          fresh.add(p);
        }
      }
    }
    if (fresh == null) {
      return;
    }
    List<Piece> warming = fresh;
    Resources predicted = r.model.demand(r.spec.priority()).at(r.spec.priority() == Priority.BATCH ? 0.5 : r.spec.priority().quantile());
    warmer.execute(() -> fill(r, warming, predicted));
  }

  /** Under the run's monitor. */
  private Piece reserveWarm(TaskRun r, Piece.Kind kind, int units, long now) {
    Resources amount = kind == Piece.Kind.MEMORY ? Resources.memory((long) units * blockBytes) : Resources.cpu(1000L * units);
    Reservation res;
    try {
      res = ledger.reserve(r.id, node, amount, r.spec.priority(), lease, Reservation.State.WARM);
    } catch (InsufficientCapacityException e) {
      warmDenied.increment();
      log.debug("no room to warm {} for task {}: {}", amount, r.id, e.getMessage());
      return null;
    }
    Piece p = new Piece(kind, units, res.id(), false, true, now);
    p.unfilled = units;
    r.pieces.add(p);
    r.extras++;
    withExtras.add(r);
    warmed.increment();
    account(now, kind == Piece.Kind.MEMORY ? amount.memoryBytes() : 0, 0, kind == Piece.Kind.THREAD ? units : 0, 0);
    return p;
  }

  /** On the warm-up thread: allocates and touches blocks, starts workers, calls the prefetch hook. */
  private void fill(TaskRun r, List<Piece> pieces, Resources predicted) {
    try {
      for (Piece p : pieces) {
        // Unit by unit, claimed under the lock, so the task can take what is ready and allocate the rest itself.
        while (true) {
          synchronized (r) {
            if (p.released || p.unfilled == 0) {
              break;
            }
            p.unfilled--;
            p.inFlight++;
          }
          Object unit = p.kind == Piece.Kind.MEMORY ? newBlock() : new Worker(r.id);
          synchronized (r) {
            p.inFlight--;
            if (p.released) {
              if (unit instanceof Worker w) {
                w.stop();
              }
            } else {
              p.free.add(unit);
            }
            r.notifyAll();
          }
        }
      }
      PrefetchHook hook = r.spec.prefetch();
      if (hook != null) {
        try {
          hook.prefetch(r.id, predicted);
        } catch (Throwable e) {
          hookFailures.increment();
          log.warn("prefetch hook of task {} threw; its warm-up is released: {}", r.id, e.toString());
          synchronized (r) {
            for (Piece p : pieces) {
              if (!p.released && p.warm && p.inUse == 0) {
                releasePiece(r, p, true);
              }
            }
          }
        }
      }
    } catch (RuntimeException | Error e) {
      log.warn("warm-up of task {} failed: {}", r.id, e.toString());
      synchronized (r) {
        for (Piece p : pieces) {
          if (!p.released && p.warm && p.inUse == 0) {
            releasePiece(r, p, true);
          }
        }
        r.notifyAll();
      }
    }
  }

  /** Releases the run's pieces that have been entirely unused for the grace period. */
  private void graceCheck(TaskRun r, long now) {
    synchronized (r) {
      for (Piece p : r.pieces) {
        if (!p.base && !p.released && p.inUse == 0 && p.inFlight == 0 && now - p.idleSince >= graceMillis) {
          if (p.warm) {
            r.warmFloor[p.kind.ordinal()] = Math.max(r.warmFloor[p.kind.ordinal()], r.owned(p.kind));
          }
          releasePiece(r, p, true);
          graceReleases.increment();
        }
      }
      if (r.pieces.size() > 16) {
        r.pieces.removeIf(p -> p.released && p.inUse == 0);
      }
    }
  }

  // ------------------------------------------------------------------------------------------ accounting

  private void account(long now, long reservedBytes, long usedBytes, long reservedThreads, long usedThreads) {
    synchronized (acct) {
      if (acct.last != Long.MIN_VALUE && now > acct.last) {
        long dt = now - acct.last;
        acct.reservedByteMillis += (double) acct.reservedBytes * dt;
        acct.usedByteMillis += (double) acct.usedBytes * dt;
        acct.reservedThreadMillis += (double) acct.reservedThreads * dt;
        acct.usedThreadMillis += (double) acct.usedThreads * dt;
      }
      acct.last = Math.max(acct.last, now);
      acct.reservedBytes += reservedBytes;
      acct.usedBytes += usedBytes;
      acct.reservedThreads += reservedThreads;
      acct.usedThreads += usedThreads;
    }
  }

  /** The counters so far (resource-time integrated up to now). */
  public TaskStats stats() {
    account(clock.millis(), 0, 0, 0, 0);
    double rb;
    double ub;
    double rt;
    double ut;
    synchronized (acct) {
      rb = acct.reservedByteMillis;
      ub = acct.usedByteMillis;
      rt = acct.reservedThreadMillis;
      ut = acct.usedThreadMillis;
    }
    return new TaskStats(submitted.sum(), completed.sum(), failed.sum(), hits.sum(), misses.sum(), warmed.sum(),
        warmUsed.sum(), warmDenied.sum(), helped.sum(), graceReleases.sum(), queued.sum(), degraded.sum(), rejected.sum(),
        yielded.sum(), hookFailures.sum(), ticks, taskSteps, fullSamples, samplerCpuNanos, rb, ub, rt, ut);
  }

  /** Tasks running now. */
  public int running() {
    return runs.length;
  }

  /** The model of a running task (for inspection), or null when it is not running. */
  public TaskModel model(String taskId) {
    for (TaskRun r : runs) {
      if (r.id.equals(taskId)) {
        return r.model;
      }
    }
    return null;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("task executor is closed");
    }
  }

  /** Stops the sampler and warm-up threads. Running tasks go on; requests that must wait fail. */
  @Override
  public void close() {
    closed = true;
    if (sampler != null) {
      sampler.shutdownNow();
    }
    if (ownedWarmer != null) {
      ownedWarmer.shutdownNow();
    }
    signalCapacity();
  }

  // ------------------------------------------------------------------------------------------ builder

  /** Options of a {@link TaskExecutor}; each is checked when set. */
  public static final class Builder {
    private final Ledger ledger;
    private final String node;
    private Clock clock;
    private Duration interval = Duration.ofMillis(10);
    private Duration horizon = Duration.ofMillis(50);
    private Duration grace = Duration.ofMillis(200);
    private Duration lease = Duration.ofMinutes(10);
    private Duration bucket = Duration.ofMillis(20);
    private Duration queueTimeout = Duration.ofSeconds(30);
    private int blockBytes = 256 << 10;
    private int maxStride = 32;
    private boolean warming = true;
    private boolean sampling = true;
    private final Map<Priority, Fallback> fallbacks = new EnumMap<>(Map.of(
        Priority.CRITICAL, Fallback.QUEUE, Priority.STANDARD, Fallback.QUEUE, Priority.BATCH, Fallback.DEGRADE));
    private ErrorTracker tracker;
    private ThreadProbe probe;
    private Executor warmer;

    private Builder(Ledger ledger, String node) {
      if (ledger == null) {
        throw new IllegalArgumentException("ledger is missing");
      }
      boolean known = false;
      for (NodeView n : ledger.nodes()) {
        known |= n.id().equals(node);
      }
      if (!known) {
        throw new IllegalArgumentException("node '" + node + "' is not in the ledger");
      }
      this.ledger = ledger;
      this.node = node;
    }

    /** The clock of grace periods, samples and accounting. Default: the ledger's. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Sampling interval, 1 ms .. 1 s. Default 10 ms. */
    public Builder interval(Duration d) {
      this.interval = range("interval", d, Duration.ofMillis(1), Duration.ofSeconds(1));
      return this;
    }

    /** How far ahead demand is forecast (cover the warm-up time), 1 ms .. 1 h. Default 50 ms. */
    public Builder horizon(Duration d) {
      this.horizon = range("horizon", d, Duration.ofMillis(1), Duration.ofHours(1));
      return this;
    }

    /** How long a reservation may stay entirely unused before it is released, 0 .. 1 h. Default 200 ms. */
    public Builder grace(Duration d) {
      this.grace = range("grace", d, Duration.ZERO, Duration.ofHours(1));
      return this;
    }

    /** Lease of every reservation, 1 s .. 7 days (a backstop; tasks release what they hold). Default 10 min. */
    public Builder lease(Duration d) {
      this.lease = range("lease", d, Duration.ofSeconds(1), Duration.ofDays(7));
      return this;
    }

    /** Elapsed-time bucket of the type profiles, 1 ms .. 1 h. Default 20 ms. */
    public Builder bucket(Duration d) {
      this.bucket = range("bucket", d, Duration.ofMillis(1), Duration.ofHours(1));
      return this;
    }

    /** Longest wait of a QUEUE fallback before the request fails, 0 .. 1 h. Default 30 s. */
    public Builder queueTimeout(Duration d) {
      this.queueTimeout = range("queueTimeout", d, Duration.ZERO, Duration.ofHours(1));
      return this;
    }

    /**
     * Memory block size in bytes, 4 KiB .. 64 MiB. Default 256 KiB: below half a G1 region, so blocks are not
     * humongous objects.
     */
    public Builder blockSize(long bytes) {
      if (bytes < 4096 || bytes > (64L << 20)) {
        throw new IllegalArgumentException("blockSize must be in [4096, 67108864] bytes, was " + bytes);
      }
      this.blockBytes = (int) bytes;
      return this;
    }

    /**
     * Most ticks between two full samples (thread MXBean reads and a model step) of a stable task, 1 .. 64.
     * Default 32. Accounted use, progress reports and IO are still looked at every tick.
     */
    public Builder maxStride(int ticks) {
      if (ticks < 1 || ticks > 64) {
        throw new IllegalArgumentException("maxStride must be in 1..64, was " + ticks);
      }
      this.maxStride = ticks;
      return this;
    }

    /** False: forecast and score but never warm (the reactive baseline). Default true. */
    public Builder warming(boolean on) {
      this.warming = on;
      return this;
    }

    /** False: no sampler thread; call {@link TaskExecutor#tick()} yourself. Default true. */
    public Builder sampling(boolean on) {
      this.sampling = on;
      return this;
    }

    /** The fallback of requests of {@code priority} that do not fit. */
    public Builder fallback(Priority priority, Fallback fallback) {
      fallbacks.put(Objects.requireNonNull(priority, "priority"), Objects.requireNonNull(fallback, "fallback"));
      return this;
    }

    /** Where every forecast is scored. */
    public Builder errorTracker(ErrorTracker tracker) {
      this.tracker = Objects.requireNonNull(tracker, "errorTracker");
      return this;
    }

    /** Runs warm-ups; default a daemon thread of the executor's own. */
    public Builder warmer(Executor executor) {
      this.warmer = Objects.requireNonNull(executor, "warmer");
      return this;
    }

    Builder probe(ThreadProbe probe) {
      this.probe = probe;
      return this;
    }

    public TaskExecutor build() {
      return new TaskExecutor(this);
    }

    private static Duration range(String field, Duration d, Duration min, Duration max) {
      if (d == null || d.compareTo(min) < 0 || d.compareTo(max) > 0) {
        throw new IllegalArgumentException(field + " must be in [" + min + ", " + max + "], was " + d);
      }
      return d;
    }
  }
}
