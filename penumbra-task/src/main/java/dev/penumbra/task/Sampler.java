package dev.penumbra.task;

import dev.penumbra.core.allocate.AdjustmentReport;
import dev.penumbra.core.loop.ControlLoop;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The task shadow: one pass every interval over the running tasks. Only due tasks are visited — those whose
 * adaptive stride ends now (a timing wheel) and those that nudged themselves (new, progress reported, holding
 * more than the last forecast's bound). A full sample reads the task's thread CPU and allocated bytes (bulk
 * ThreadMXBean reads, skipped for a waiting thread except every {@value #READ_EVERY}th), updates its
 * {@link TaskModel}, tells its grant what it uses and hands the forecast to the {@link Warmer}. Every few ticks
 * the loop's adjuster runs (grace release), and finished tasks teach their type's profile.
 */
final class Sampler {

  private static final Logger log = LoggerFactory.getLogger(Sampler.class);
  /** A waiting task's thread is still read every this many full samples. */
  static final int READ_EVERY = 4;
  /** Runs by the tick of their next full sample (modulo WHEEL > the largest stride). */
  private static final int WHEEL = 128;
  private static final long[] EMPTY = new long[0];

  private final ExecutorConfig cfg;
  private final Accounting acct;
  private final GrantPool pool;
  private final Requests requests;
  private final Warmer warmer;
  private final ControlLoop<TaskRun> loop;
  private final ConcurrentLinkedQueue<TaskRun> finished = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<TaskRun> urgent = new ConcurrentLinkedQueue<>();
  @SuppressWarnings("unchecked")
  private final ArrayDeque<TaskRun>[] wheel = new ArrayDeque[WHEEL];
  // Sampler thread only (tick is synchronized).
  private long lead;
  private long[] dueIds = new long[64];
  private TaskRun[] dueRuns = new TaskRun[64];
  private boolean[] readFlags = new boolean[64];

  Sampler(ExecutorConfig cfg, Accounting acct, GrantPool pool, Requests requests, Warmer warmer,
      ControlLoop<TaskRun> loop) {
    this.requests = requests;
    this.cfg = cfg;
    this.acct = acct;
    this.pool = pool;
    this.warmer = warmer;
    this.loop = loop;
    for (int i = 0; i < WHEEL; i++) {
      wheel[i] = new ArrayDeque<>();
    }
  }

  /** A task that succeeded: its peaks teach its type's profile at the next tick (never waiting for one). */
  void finished(TaskRun run) {
    finished.add(run);
  }

  /** Has the sampler take a full sample of the run at its next tick. */
  void nudge(TaskRun r) {
    if (r.urgent.compareAndSet(false, true)) {
      urgent.add(r);
    }
  }

  void tickSafely() {
    try {
      tick();
    } catch (Throwable e) {
      log.warn("task sampler tick failed", e);
    }
  }

  synchronized void tick() {
    ThreadProbe probe = cfg.probe();
    long cpu0 = probe.currentThreadCpuNanos();
    for (TaskRun done; (done = finished.poll()) != null; ) {
      double[] peaks;
      synchronized (done) {
        peaks = done.peaks();
      }
      done.model.profile().record(peaks);
    }
    long now = cfg.clock().millis();
    long t = ++acct.ticks;
    lead = cfg.phased() ? 0 : pool.acquisitionLag().toMillis();
    int due = 0;
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
      acct.fullSamples += due;
    }
    if (t % cfg.adjustEveryTicks() == 0 && pool.mayAdjust.getAndSet(false) && adjustable()) {
      // Something may still be reclaimable after this pass: look again next time.
      pool.mayAdjust.set(true);
      AdjustmentReport report = loop.adjust();
      acct.graceReleases.add(report.reclaimed().size());
      if (!report.reclaimed().isEmpty()) {
        pool.signalCapacity();
      }
    }
    acct.taskSteps += pool.size();
    acct.samplerCpuNanos += probe.currentThreadCpuNanos() - cpu0;
  }

  /**
   * Whether an adjuster pass has anything to do: some task owns idle units (headroom the grace period may
   * reclaim) or holds less than the loop's floor (a warm-up that did not fit and may now). A pass walks the
   * whole ledger, so with many tasks that hold only what they use (the usual case) it is skipped. Repairs
   * ride along.
   */
  private boolean adjustable() {
    boolean any = false;
    for (TaskRun r : pool.running()) {
      requests.repair(r);
      if (any) {
        continue;
      }
      synchronized (r) {
        any = r.memory.idle() > 0 || r.threads.idle() > 0;
      }
      var g = r.grant;
      if (!any && g != null && g.isPlaced() && !g.isEnded() && g.floor() != null) {
        any = !g.floor().fits(g.reservation().amount());
      }
    }
    return any;
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
    // The start moves to the admission when a task waited for it: a sample taken before reads 0.
    long elapsed = Math.max(0, now - r.startMillis);
    // Stable when every signal stayed within the band the last forecast drew around its point.
    boolean stable = r.model.observations() > 0;
    for (int s = 0; s < Signal.COUNT && stable; s++) {
      double p = r.model.point(Signal.ALL[s]);
      double band = Math.max(r.model.upper(Signal.ALL[s]) - p, 0.1 * p);
      stable = Math.abs(v[s] - p) <= band + 1e-9;
    }
    r.model.observe(now, elapsed, v);
    r.model.forecast(lead);
    int b = r.model.profile().bucketOf(elapsed);
    synchronized (r) {
      for (int s = 0; s < Signal.COUNT; s++) {
        r.peak(b, s, v[s]);
      }
    }
    r.upperBytes = r.model.upper(Signal.MEMORY);
    r.upperThreads = r.model.upper(Signal.THREADS);
    r.stride = stable ? Math.min(r.stride * 2, cfg.maxStride()) : 1;
    r.nextFullTick = tick + r.stride;
    wheel[(int) (r.nextFullTick & (WHEEL - 1))].add(r);
    warmer.target(r);
  }
}
