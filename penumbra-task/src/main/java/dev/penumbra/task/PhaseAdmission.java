package dev.penumbra.task;

import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Admission by predicted phases: a task starts when its type's memory curve (by elapsed time, from its
 * {@link TaskProfile}), laid beside the curves the running tasks have still to go through, stays within the memory
 * the node has for the executor at every coming bucket. Peaks then do not collide: a task whose phase needs more
 * finds the memory free when it asks, instead of waiting mid-phase for another task that holds part of what it
 * needs and waits too. Nothing is reserved ahead by it: the plan is a prediction, the ledger holds what tasks use.
 *
 * <p>The plan's total at a bucket is the sum of the tasks' type means there plus K times their deviations added
 * in quadrature (a band per task summed over eleven tasks held back tasks that fit). A running task counts at least
 * what it holds now until its type's end (a deviant that took more than its type keeps it; scaling the curve by
 * that excess was tried and dropped: profiles smeared by stalls made ordinary tasks look like deviants and the
 * plan held tasks back on an idle node). Waiting tasks are considered in order (priority, then arrival) and only
 * the first may start, so a large task is not passed forever by small ones, and none starts while a running task
 * waits for memory (what comes back goes to the task that is stalled, which could otherwise wait on every
 * newcomer). A task starts regardless when no other task of the plan runs (it must be able to run alone) or after
 * the queue timeout: the plan only decides when a task starts, never whether, so at worst the executor behaves as
 * grant on request does.
 *
 * <p>With {@code planWhenContended} (off by default) the plan holds tasks back only while grants on request of
 * memory are measured to wait at least {@code warmAbove}: where they do not, a held-back task waits for a
 * collision grant on request would have absorbed. Measured against the plan for every task it was not better
 * beyond noise, and when it stepped back at overload tasks started into collisions and timed out
 * (docs/benchmarks.md).
 */
final class PhaseAdmission {

  /** Deviations of the plan's total the plan is taken at: sum of means + K x the deviations in quadrature. */
  static final double K = 1.0;

  private record Waiting(int rank, long seq, TaskRun run) {}

  private final ExecutorConfig cfg;
  private final GrantPool pool;
  private final AtomicLong arrivals = new AtomicLong();
  private final ConcurrentSkipListSet<Waiting> queue = new ConcurrentSkipListSet<>(
      Comparator.comparingInt(Waiting::rank).thenComparingLong(Waiting::seq));

  PhaseAdmission(ExecutorConfig cfg, GrantPool pool) {
    this.cfg = cfg;
    this.pool = pool;
  }

  /**
   * Waits until the run's predicted phases fit beside the running tasks' (see the class comment) and marks it
   * admitted to the plan. Returns the nanoseconds waited.
   */
  long await(TaskRun run) {
    long t0 = System.nanoTime();
    Waiting w = new Waiting(run.spec.priority().ordinal(), arrivals.incrementAndGet(), run);
    queue.add(w);
    try {
      while (true) {
        pool.checkOpen();
        boolean first = queue.first() == w;
        if (first && (pool.admissible(run) || System.nanoTime() - t0 >= cfg.queueTimeoutNanos())) {
          break;
        }
        synchronized (pool.capacity) {
          try {
            // Phases move on with time, not only when capacity is given back: look again soon.
            pool.capacity.wait(2);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ResourceUnavailableException("task " + run.id + " was interrupted waiting for admission");
          }
        }
      }
      run.planned = true;
    } finally {
      queue.remove(w);
      // The next in line may fit now.
      pool.signalCapacity();
    }
    return System.nanoTime() - t0;
  }

  /**
   * Whether the plan acts: always, or (with {@code planWhenContended}) while contention is real — grants on
   * request of memory are measured to wait at least {@code warmAbove}. Where they do not wait, holding a task back
   * can only cost: the loop's baseline rule (start at once) is what acts there.
   */
  boolean contended() {
    if (!cfg.planWhenContended()) {
      return true;
    }
    Duration lag = pool.reactiveLag(Units.Kind.MEMORY);
    return lag != null && lag.compareTo(cfg.warmAbove()) >= 0;
  }

  /** True when the run's type's curve fits beside every planned running task's at every coming bucket. */
  boolean fits(TaskRun candidate) {
    TaskProfile own = candidate.model.profile();
    if (Double.isNaN(own.expected(Signal.MEMORY, 0))) {
      return true;
    }
    long bucket = own.bucket().toMillis();
    long now = cfg.clock().millis();
    long available = pool.freeMemory();
    int steps = 1;
    int planned = 0;
    TaskRun[] running = pool.running();
    long[] elapsed = new long[running.length];
    double[] held = new double[running.length];
    for (int i = 0; i < running.length; i++) {
      TaskRun r = running[i];
      long owned;
      if (r.planned && r.starved && !r.ended) {
        // A running task waits for memory: what comes back is its, not a new task's.
        return false;
      }
      synchronized (r) {
        if (!r.planned || r.ended) {
          continue;
        }
        owned = (long) r.memory.owned * cfg.blockBytes();
        held[i] = (long) (r.memory.inUse + r.memory.inFlight) * cfg.blockBytes();
      }
      // What it owns comes back to the plan's pool: the plan, not the reservation, says what it will need.
      available += owned;
      planned++;
      elapsed[i] = Math.max(0, now - r.startMillis);
      steps = Math.max(steps, remainingBuckets(r.model.profile(), elapsed[i]));
    }
    if (planned == 0) {
      return true;
    }
    steps = Math.max(steps, remainingBuckets(own, 0));
    for (int k = 0; k < steps; k++) {
      long t = k * bucket;
      double mean = nanToZero(own.expected(Signal.MEMORY, t));
      double dev = nanToZero(own.deviation(Signal.MEMORY, t));
      double variance = dev * dev;
      for (int i = 0; i < running.length; i++) {
        TaskRun r = running[i];
        if (!r.planned || r.ended) {
          continue;
        }
        TaskProfile p = r.model.profile();
        double m = nanToZero(p.expected(Signal.MEMORY, elapsed[i] + t));
        double d = nanToZero(p.deviation(Signal.MEMORY, elapsed[i] + t));
        // What it holds it keeps to its type's end (tasks give memory back as they end); one bucket past it.
        boolean before = p.bucketOf(elapsed[i] + t) < p.buckets() || t < p.bucket().toMillis();
        if (before && held[i] >= m + K * d) {
          mean += held[i];
        } else {
          mean += m;
          variance += d * d;
        }
      }
      // Tasks' deviations from their types are independent: they add in quadrature, not one band per task.
      if (mean + K * Math.sqrt(variance) > available) {
        return false;
      }
    }
    return true;
  }

  private static double nanToZero(double v) {
    return Double.isNaN(v) ? 0 : v;
  }

  /** Buckets of the type's profile from {@code elapsedMillis} to its end (at least one). */
  private static int remainingBuckets(TaskProfile p, long elapsedMillis) {
    return Math.max(1, p.buckets() - p.bucketOf(elapsedMillis));
  }
}
