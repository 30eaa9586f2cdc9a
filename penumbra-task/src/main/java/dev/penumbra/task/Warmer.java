package dev.penumbra.task;

import dev.penumbra.core.Demand;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.loop.ControlLoop;
import dev.penumbra.core.loop.Grant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The warm-up step: after a full sample it hands the task's newest forecast to its grant ({@link Grant#target}),
 * so the loop holds the acting rule's size ahead of need; when that grows the reservation, the {@link GrantPool}
 * asks it to {@link #fill} the new units on a warm-up thread — memory blocks allocated and touched, worker threads
 * started — and then calls the task's {@link PrefetchHook}. A task that asks before its warm-up got to a unit
 * allocates that unit itself.
 */
final class Warmer {

  private static final Logger log = LoggerFactory.getLogger(Warmer.class);

  /** Re-measure a type's hook once in this many tasks while it is not worth running. */
  static final int PREFETCH_REMEASURE_EVERY = 8;
  private static final double PREFETCH_WEIGHT = 0.2;

  /** A type's prefetch hook time: an exponentially weighted mean of its runs. */
  private static final class PrefetchTime {
    double nanos = Double.NaN;
    long skipped;
  }

  private final Map<String, PrefetchTime> prefetchTimes = new ConcurrentHashMap<>();

  private final ExecutorConfig cfg;
  private final Accounting acct;
  private final GrantPool pool;
  private final Requests requests;
  private final Executor threads;
  private volatile ControlLoop<TaskRun> loop;

  Warmer(ExecutorConfig cfg, Accounting acct, GrantPool pool, Requests requests, Executor threads) {
    this.requests = requests;
    this.cfg = cfg;
    this.acct = acct;
    this.pool = pool;
    this.threads = threads;
  }

  void wire(ControlLoop<TaskRun> loop) {
    this.loop = loop;
  }

  /** Gives the run's grant its newest forecast (with warming on). */
  void target(TaskRun run) {
    if (!cfg.warming() || run.warmFailed) {
      return;
    }
    Grant<TaskRun> g = run.grant;
    if (g == null || !g.isPlaced() || g.isEnded()) {
      return;
    }
    // The same forecast and use as last time: the loop already holds its size (most samples of most tasks).
    double bytes = run.model.upper(Signal.MEMORY);
    double threads = run.model.upper(Signal.THREADS);
    long held = run.heldBytes + run.heldThreads;
    if (bytes == run.targetedBytes && threads == run.targetedThreads && held == run.targetedHeld
        && g.floor() != null) {
      return;
    }
    run.targetedBytes = bytes;
    run.targetedThreads = threads;
    run.targetedHeld = held;
    try {
      g.target(loop.predict(run));
    } catch (IllegalStateException ended) {
      return;
    }
    Resources floor = g.floor();
    if (floor != null && !g.isEnded() && !floor.fits(g.reservation().amount())) {
      pool.mayAdjust.set(true);
      acct.warmDenied.increment();
    }
  }

  /** Fills the run's units a warm-up was asked for, on a warm-up thread. */
  void fill(TaskRun run) {
    acct.warmed.increment();
    try {
      threads.execute(() -> fillNow(run));
    } catch (RejectedExecutionException closed) {
      // The executor is closing: the task allocates what it takes itself.
    }
  }

  private void fillNow(TaskRun run) {
    try {
      for (Units u : List.of(run.memory, run.threads)) {
        // Unit by unit, claimed under the lock, so the task can take what is ready and allocate the rest itself.
        while (true) {
          synchronized (run) {
            if (run.ended || u.warming == 0 || u.unfilled == 0) {
              break;
            }
            u.warming--;
            u.unfilled--;
            u.inFlight++;
          }
          Object unit = pool.newUnit(u.kind, run.id);
          synchronized (run) {
            u.inFlight--;
            if (run.ended) {
              GrantPool.stop(unit);
            } else {
              u.free.add(unit);
              u.warmFree++;
            }
            run.notifyAll();
          }
        }
      }
      PrefetchHook hook = run.spec.prefetch();
      if (hook != null && !run.ended && prefetchWorthRunning(run.spec.type())) {
        Priority p = run.spec.priority();
        Resources predicted = run.model.demand().at(p == Priority.BATCH ? 0.5 : p.quantile());
        long t0 = System.nanoTime();
        try {
          hook.prefetch(run.id, predicted);
          prefetchTook(run.spec.type(), System.nanoTime() - t0);
        } catch (Throwable e) {
          acct.hookFailures.increment();
          log.warn("prefetch hook of task {} threw; its warm-up is released: {}", run.id, e.toString());
          giveUp(run);
        }
      }
    } catch (RuntimeException | Error e) {
      log.warn("warm-up of task {} failed: {}", run.id, e.toString());
      giveUp(run);
    }
  }

  /**
   * Whether a task of {@code type} should run its prefetch hook: while the type's hooks are measured to take at
   * least {@code warmAbove} (what they fetch takes time to acquire: a cold file, a remote read), and for one task
   * in {@value #PREFETCH_REMEASURE_EVERY} otherwise, to notice when that changes. A hook that finishes faster
   * fetches what the task would get as fast itself (data already cached): running it only takes CPU beside the
   * task, the same rule as for memory and threads.
   */
  boolean prefetchWorthRunning(String type) {
    PrefetchTime t = prefetchTimes.computeIfAbsent(type, k -> new PrefetchTime());
    synchronized (t) {
      if (Double.isNaN(t.nanos) || t.nanos >= cfg.warmAbove().toNanos()) {
        return true;
      }
      if (++t.skipped % PREFETCH_REMEASURE_EVERY == 0) {
        return true;
      }
    }
    acct.prefetchSkipped.increment();
    return false;
  }

  /** Records how long a run of {@code type}'s prefetch hook took. */
  void prefetchTook(String type, long nanos) {
    PrefetchTime t = prefetchTimes.computeIfAbsent(type, k -> new PrefetchTime());
    synchronized (t) {
      t.nanos = Double.isNaN(t.nanos) ? nanos : (1 - PREFETCH_WEIGHT) * t.nanos + PREFETCH_WEIGHT * nanos;
    }
  }

  /** Stops warming the run and gives back what was warmed and is idle. */
  private void giveUp(TaskRun run) {
    run.warmFailed = true;
    Grant<TaskRun> g = run.grant;
    if (g != null && g.isPlaced() && !g.isEnded()) {
      try {
        // The loop holds the last forecast as a floor: lower it to what the task holds, then shrink to it.
        g.target(Demand.exact(pool.base(run).max(pool.inUse(run)), loop.model().name()));
      } catch (IllegalStateException ended) {
        return;
      }
    }
    requests.shrinkIdle(run, Units.Kind.MEMORY);
    requests.shrinkIdle(run, Units.Kind.THREAD);
    synchronized (run) {
      run.notifyAll();
    }
  }
}
