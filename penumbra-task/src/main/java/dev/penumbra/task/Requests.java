package dev.penumbra.task;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.InsufficientCapacityException;
import dev.penumbra.core.loop.Grant;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a running task asks of its {@link GrantPool}: units to take and give back, and — when it owns too few —
 * its grant grown on request (grant on request is also the loop's baseline rule), with the priority's
 * {@link Fallback} when the node is full. Idle units of other tasks give way first.
 */
final class Requests {

  private static final Logger log = LoggerFactory.getLogger(Requests.class);

  private record Taken(Units units, Object unit) {}

  private final ExecutorConfig cfg;
  private final Accounting acct;
  private final GrantPool pool;

  Requests(ExecutorConfig cfg, Accounting acct, GrantPool pool) {
    this.cfg = cfg;
    this.acct = acct;
    this.pool = pool;
  }

  /**
   * Takes {@code units} of {@code kind} for the run: free units first (warm ones among them are a hit), then
   * units not allocated yet (the task allocates them itself rather than wait behind a warm-up), then it grows its
   * grant for the rest (a reactive grant: real allocation, and a wait when the node is full). Returns fewer only
   * when {@code degradable} and the fallback degraded.
   */
  List<Object> take(TaskRun run, Units.Kind kind, int units, boolean degradable) {
    // Close the loop's span at the use before this request: the step it makes is then measured as it happens.
    observe(run);
    List<Taken> taken = new ArrayList<>(units);
    long t0 = System.nanoTime();
    boolean waited = false;
    long waitedForCapacity = 0;
    Units u = run.units(kind);
    try {
      while (true) {
        boolean claimed = false;
        boolean wasWarming = false;
        synchronized (run) {
          checkNotEnded(run);
          while (taken.size() < units && !u.free.isEmpty()) {
            taken.add(new Taken(u, u.free.remove(u.free.size() - 1)));
            u.inUse++;
            if (u.warmFree > 0) {
              u.warmFree--;
              acct.warmUsed.increment();
            }
          }
          u.warmFree = Math.min(u.warmFree, u.free.size());
          if (taken.size() == units) {
            break;
          }
          if (u.unfilled > 0) {
            claimed = true;
            wasWarming = u.warming > 0;
            u.unfilled--;
            u.warming = Math.min(u.warming, u.unfilled);
            u.inFlight++;
          } else if (u.inFlight > 0) {
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
        if (claimed) {
          waited = true;
          Object unit = pool.newUnit(kind, run.id);
          synchronized (run) {
            u.inFlight--;
            run.notifyAll();
            if (run.ended) {
              GrantPool.stop(unit);
              checkNotEnded(run);
            }
            u.inUse++;
            taken.add(new Taken(u, unit));
          }
          if (wasWarming) {
            acct.helped.increment();
          }
          continue;
        }
        waited = true;
        long queuedNanos = grow(run, kind, units - taken.size(), degradable);
        if (queuedNanos > 0) {
          waitedForCapacity += queuedNanos;
        }
        if (queuedNanos < 0) {
          break;
        }
      }
    } catch (RuntimeException e) {
      giveBack(run, kind, unitsOf(taken), false);
      throw e;
    }
    long stall = System.nanoTime() - t0;
    synchronized (run) {
      if (waited) {
        run.misses++;
        run.stallNanos += stall;
      } else {
        run.hits++;
      }
    }
    if (waited) {
      acct.misses.increment();
      // A grant's lag is its wait for capacity: allocating the units costs the same ahead or on demand.
      pool.measuredLag(kind, waitedForCapacity);
    } else {
      acct.hits.increment();
    }
    List<Object> out = unitsOf(taken);
    synchronized (run) {
      int n = out.size();
      if (kind == Units.Kind.MEMORY) {
        run.heldBytes += (long) n * cfg.blockBytes();
      } else {
        run.heldThreads += n;
      }
    }
    acct.change(cfg.clock().millis(), 0, kind == Units.Kind.MEMORY ? (long) out.size() * cfg.blockBytes() : 0, 0,
        kind == Units.Kind.THREAD ? out.size() : 0);
    observe(run);
    return out;
  }

  /** Gives units back to the run's pool (to be reused, or reclaimed by the adjuster after the grace period). */
  void giveBack(TaskRun run, Units.Kind kind, List<Object> units, boolean held) {
    if (units.isEmpty()) {
      return;
    }
    Units u = run.units(kind);
    if (held) {
      observe(run);
    }
    boolean ended;
    synchronized (run) {
      ended = run.ended;
      for (Object o : units) {
        if (ended) {
          GrantPool.stop(o);
        } else {
          u.inUse--;
          u.free.add(o);
        }
      }
      if (held && !ended) {
        if (kind == Units.Kind.MEMORY) {
          run.heldBytes -= (long) units.size() * cfg.blockBytes();
        } else {
          run.heldThreads -= units.size();
        }
      }
      run.notifyAll();
    }
    pool.mayAdjust.set(true);
    if (held && !ended) {
      int n = units.size();
      acct.change(cfg.clock().millis(), 0, kind == Units.Kind.MEMORY ? -(long) n * cfg.blockBytes() : 0, 0,
          kind == Units.Kind.THREAD ? -n : 0);
      observe(run);
    }
  }

  /** Tells the run's grant what it uses now (the loop accounts it and the adjuster reads it). */
  void observe(TaskRun run) {
    Grant<TaskRun> g = run.grant;
    if (g != null && g.isPlaced() && !g.isEnded()) {
      g.observe(pool.inUse(run));
    }
  }

  /**
   * Grows the run's grant by {@code missing} units of {@code kind}. When the node is full: other tasks' idle
   * units (same or lower priority) give way first, then the priority's fallback applies. Returns how long it
   * waited for capacity (0 when the node had room), -1 when degraded.
   */
  private long grow(TaskRun run, Units.Kind kind, int missing, boolean degradable) {
    Priority priority = run.spec.priority();
    Grant<TaskRun> g = run.grant;
    Resources extra = kind == Units.Kind.MEMORY
        ? Resources.memory((long) missing * cfg.blockBytes())
        : Resources.cpu(1000L * missing);
    long start = System.nanoTime();
    try {
      return growing(run, kind, missing, degradable, priority, g, extra, start);
    } finally {
      run.starved = false;
    }
  }

  private long growing(TaskRun run, Units.Kind kind, int missing, boolean degradable, Priority priority,
      Grant<TaskRun> g, Resources extra, long start) {
    boolean counted = false;
    boolean yieldedAny = false;
    while (true) {
      pool.checkOpen();
      GrantPool.CLAIMING.set(true);
      try {
        g.resize(g.reservation().amount().plus(extra));
        return counted || yieldedAny ? System.nanoTime() - start : 0;
      } catch (InsufficientCapacityException e) {
        // Full: handled below.
      } catch (IllegalStateException e) {
        throw new ResourceUnavailableException("task " + run.id + ": its reservation ended (" + e.getMessage() + ")");
      } finally {
        GrantPool.CLAIMING.set(false);
      }
      if (yieldIdle(run, kind)) {
        yieldedAny = true;
        continue;
      }
      Fallback f = cfg.fallbacks().get(priority);
      if (f == Fallback.REJECT) {
        acct.rejected.increment();
        String msg = "task " + run.id + " (" + priority.label() + "): " + extra + " does not fit on node '"
            + cfg.node() + "'; fallback REJECT";
        log.info(msg);
        throw new ResourceUnavailableException(msg);
      }
      if (f == Fallback.DEGRADE && degradable) {
        acct.degraded.increment();
        log.info("task {} ({}): {} does not fit on node '{}'; fallback DEGRADE runs with fewer threads", run.id,
            priority.label(), extra, cfg.node());
        return -1;
      }
      if (!counted) {
        counted = true;
        run.starved = true;
        acct.queued.increment();
        log.info("task {} ({}): {} does not fit on node '{}'; fallback QUEUE waits for capacity", run.id,
            priority.label(), extra, cfg.node());
      }
      if (System.nanoTime() - start > cfg.queueTimeoutNanos()) {
        pool.measuredLag(kind, System.nanoTime() - start);
        acct.rejected.increment();
        String msg = "task " + run.id + " (" + priority.label() + "): waited " + Duration.ofNanos(cfg.queueTimeoutNanos())
            + " for " + extra + " on node '" + cfg.node() + "'; giving up";
        log.info(msg);
        throw new ResourceUnavailableException(msg);
      }
      synchronized (pool.capacity) {
        try {
          pool.capacity.wait(2);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new ResourceUnavailableException("task " + run.id + " was interrupted waiting for " + extra);
        }
      }
    }
  }

  /** Shrinks other tasks' grants (same or lower priority) by their idle units of {@code kind}; true if any. */
  private boolean yieldIdle(TaskRun requester, Units.Kind kind) {
    for (TaskRun other : pool.runs.values()) {
      if (other == requester || other.spec.priority().outranks(requester.spec.priority())) {
        continue;
      }
      if (shrinkIdle(other, kind)) {
        acct.yielded.increment();
        return true;
      }
    }
    return false;
  }

  /** Shrinks the run's grant by its idle units of {@code kind} (those beyond base and use); true if it shrank. */
  boolean shrinkIdle(TaskRun run, Units.Kind kind) {
    Grant<TaskRun> g = run.grant;
    if (g == null || !g.isPlaced() || g.isEnded()) {
      return false;
    }
    int idle;
    synchronized (run) {
      idle = run.units(kind).idle();
    }
    if (idle == 0) {
      return false;
    }
    Resources less = kind == Units.Kind.MEMORY
        ? Resources.memory((long) idle * cfg.blockBytes())
        : Resources.cpu(1000L * idle);
    try {
      g.resize(g.reservation().amount().minusClamped(less));
      return true;
    } catch (RuntimeException ended) {
      return false;
    }
  }

  /** Grows the grant of a run whose units in use outgrew its reservation (an adjuster pass raced a request). */
  void repair(TaskRun run) {
    if (!run.deficit) {
      return;
    }
    run.deficit = false;
    Grant<TaskRun> g = run.grant;
    if (g == null || !g.isPlaced() || g.isEnded()) {
      return;
    }
    Resources need;
    synchronized (run) {
      need = pool.amount(run.memory.owned, run.threads.owned);
    }
    Resources have = g.reservation().amount();
    if (!need.fits(have)) {
      try {
        GrantPool.CLAIMING.set(true);
        g.resize(have.max(need));
      } catch (RuntimeException full) {
        run.deficit = true;
      } finally {
        GrantPool.CLAIMING.set(false);
      }
    }
  }

  private static List<Object> unitsOf(List<Taken> taken) {
    List<Object> out = new ArrayList<>(taken.size());
    for (Taken t : taken) {
      out.add(t.unit());
    }
    return out;
  }

  private static void checkNotEnded(TaskRun run) {
    if (run.ended) {
      throw new IllegalStateException("task " + run.id + " has ended; it can take no more resources");
    }
  }

}
