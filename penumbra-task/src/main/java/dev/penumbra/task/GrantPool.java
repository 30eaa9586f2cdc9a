package dev.penumbra.task;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.loop.Actuator;
import dev.penumbra.core.loop.ControlLoop;
import dev.penumbra.core.loop.Grant;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tasks' memory blocks and worker threads, each task's backed by one {@link Grant} of the executor's
 * {@link ControlLoop}: admission places the grant (the task's own thread and its base), a request beyond what the
 * task owns grows the grant (grant on request, with the priority's fallback when the node is full), and the pool is
 * the loop's {@link Actuator}: whatever resizes the reservation — the loop holding a forecast ahead of need, the
 * adjuster reclaiming headroom unused for the grace period, a request — the pool follows with real units (new ones
 * are filled by the {@link Warmer} or by the task itself, idle ones are dropped). The ledger is never touched here.
 *
 * <p>What a task asks for while it runs goes through {@link Requests}. The acquisition lag it declares is measured:
 * the recent mean time a request that had to grow its grant waited for capacity (zero on a node with room).
 * Allocating and touching the units costs the same CPU ahead of need or on demand; the wait for another task to
 * give memory back is what holding ahead saves.
 */
final class GrantPool implements Actuator {

  private static final Logger log = LoggerFactory.getLogger(GrantPool.class);
  private static final int PAGE = 4096;
  /** Weight of the newest measurement in the reactive lag's running mean. */
  private static final double LAG_WEIGHT = 0.1;
  /** True on a task thread while it grows its own grant: the new units are its to fill, not a warm-up's. */
  static final ThreadLocal<Boolean> CLAIMING = ThreadLocal.withInitial(() -> false);

  private final ExecutorConfig cfg;
  private final Accounting acct;
  private final Ledger ledger;
  final Map<String, TaskRun> runs = new ConcurrentHashMap<>();
  private final Set<Grant<TaskRun>> admitting = ConcurrentHashMap.newKeySet();
  final Object capacity = new Object();
  /** Running mean of the reactive grant time per kind, nanoseconds (NaN: none measured yet). Guarded by itself. */
  private final double[] lagNanos = {Double.NaN, Double.NaN};
  /**
   * Set when some task may own idle units or sit below its floor (units grown, given back, a warm-up denied, a
   * deficit); the sampler scans for an adjuster pass only then, so parked tasks cost no scan.
   */
  final java.util.concurrent.atomic.AtomicBoolean mayAdjust = new java.util.concurrent.atomic.AtomicBoolean();
  private volatile ControlLoop<TaskRun> loop;
  private volatile Warmer warmer;
  private volatile boolean closed;

  private final PhaseAdmission phases;

  GrantPool(ExecutorConfig cfg, Accounting acct, Ledger ledger) {
    this.cfg = cfg;
    this.acct = acct;
    this.ledger = ledger;
    this.phases = new PhaseAdmission(cfg, this);
  }

  void wire(ControlLoop<TaskRun> loop, Warmer warmer) {
    this.loop = loop;
    this.warmer = warmer;
  }

  ControlLoop<TaskRun> loop() {
    return loop;
  }

  void add(TaskRun run) {
    runs.put(run.id, run);
  }

  TaskRun[] running() {
    return runs.values().toArray(TaskRun[]::new);
  }

  int size() {
    return runs.size();
  }

  TaskRun get(String id) {
    return runs.get(id);
  }

  // ------------------------------------------------------------------------------------------ the actuator

  @Override
  public Duration acquisitionLag() {
    double l;
    synchronized (lagNanos) {
      l = Math.max(nanOrZero(lagNanos[0]), nanOrZero(lagNanos[1]));
    }
    return Duration.ofNanos((long) l);
  }

  /** The measured reactive grant time of {@code kind}, or null before any was measured. */
  Duration reactiveLag(Units.Kind kind) {
    double l;
    synchronized (lagNanos) {
      l = lagNanos[kind.ordinal()];
    }
    return Double.isNaN(l) ? null : Duration.ofNanos((long) l);
  }

  void measuredLag(Units.Kind kind, long nanos) {
    synchronized (lagNanos) {
      double l = lagNanos[kind.ordinal()];
      lagNanos[kind.ordinal()] = Double.isNaN(l) ? nanos : (1 - LAG_WEIGHT) * l + LAG_WEIGHT * nanos;
    }
  }

  private static double nanOrZero(double v) {
    return Double.isNaN(v) ? 0 : v;
  }

  @Override
  public void acquire(Reservation reservation) {
    // The admitted task fills its base itself (part of its admission latency).
    reconcile(reservation, false);
  }

  @Override
  public void resize(Reservation reservation, Resources amount) {
    reconcile(reservation, !CLAIMING.get());
  }

  @Override
  public void release(Reservation reservation) {
    TaskRun run = runs.get(reservation.owner());
    if (run == null) {
      return;
    }
    long now = cfg.clock().millis();
    synchronized (run) {
      for (Units u : List.of(run.memory, run.threads)) {
        int owned = u.owned;
        dropFree(u, u.free.size());
        u.unfilled = 0;
        u.warming = 0;
        u.owned = u.inUse + u.inFlight;
        account(now, u, u.owned - owned, 0);
      }
    }
    signalCapacity();
  }

  /**
   * Makes the run's units match its reservation as the ledger holds it now (callbacks may arrive out of order;
   * following the ledger's latest amount is the same whichever comes last). Growth becomes unfilled units, filled
   * by a warm-up when {@code warm}; shrinking drops unfilled, then free units.
   */
  private void reconcile(Reservation reservation, boolean warm) {
    TaskRun run = runs.get(reservation.owner());
    if (run == null) {
      return;
    }
    Reservation now = ledger.get(reservation.id()).orElse(reservation);
    if (!now.isLive()) {
      return;
    }
    int blocks = (int) (now.amount().memoryBytes() / cfg.blockBytes());
    int workers = (int) Math.max(0, now.amount().cpuMillis() / 1000 - 1);
    long t = cfg.clock().millis();
    boolean grew;
    boolean shrank;
    synchronized (run) {
      if (run.ended) {
        return;
      }
      int m = follow(run, run.memory, blocks, warm, t);
      int w = follow(run, run.threads, workers, warm, t);
      grew = m > 0 || w > 0;
      shrank = m < 0 || w < 0;
    }
    if (grew && warm) {
      warmer.fill(run);
    }
    if (shrank) {
      signalCapacity();
    }
  }

  /** Under the run's monitor: the change in owned units. */
  private int follow(TaskRun run, Units u, int want, boolean warm, long now) {
    int delta = want - u.owned;
    if (delta != 0) {
      mayAdjust.set(true);
    }
    if (delta > 0) {
      u.owned += delta;
      u.unfilled += delta;
      if (warm) {
        u.warming += delta;
      }
    } else if (delta < 0) {
      int drop = -delta;
      int fromUnfilled = Math.min(drop, u.unfilled);
      u.unfilled -= fromUnfilled;
      u.warming = Math.min(u.warming, u.unfilled);
      int fromFree = dropFree(u, drop - fromUnfilled);
      int dropped = fromUnfilled + fromFree;
      u.owned -= dropped;
      if (dropped < drop) {
        // In use or being allocated: the task keeps them; the sampler grows the reservation back to cover them.
        run.deficit = true;
      }
      delta = -dropped;
    }
    account(now, u, delta, 0);
    return delta;
  }

  /** Under the run's monitor: drops up to {@code n} free units (stops workers); returns how many. */
  private static int dropFree(Units u, int n) {
    int k = Math.min(n, u.free.size());
    for (int i = 0; i < k; i++) {
      Object o = u.free.remove(u.free.size() - 1);
      if (o instanceof Worker w) {
        w.stop();
      }
    }
    u.warmFree = Math.min(u.warmFree, u.free.size());
    return k;
  }

  // ------------------------------------------------------------------------------------------ admission and end

  /** What the run's reservation stands for when it owns {@code blocks} and {@code workers}. */
  Resources amount(int blocks, int workers) {
    return Resources.of(1000L * (workers + 1), (long) blocks * cfg.blockBytes());
  }

  /** The capacity of the executor's node. */
  Resources capacity() {
    return ledger.nodes().stream().filter(n -> n.id().equals(cfg.node())).findFirst()
        .map(dev.penumbra.core.ledger.NodeView::capacity).orElse(Resources.ZERO);
  }

  boolean admissible(TaskRun run) {
    return !phases.contended() || phases.fits(run);
  }

  /** Memory free on the executor's node now. */
  long freeMemory() {
    return ledger.nodes().stream().filter(n -> n.id().equals(cfg.node())).findFirst()
        .map(n -> n.free().memoryBytes()).orElse(0L);
  }

  /** The run's base: its own thread, its base threads and memory. */
  Resources base(TaskRun run) {
    Resources b = run.spec.base();
    return amount(cfg.blocksFor(b.memoryBytes()), (int) (b.cpuMillis() / 1000));
  }

  /** What the run holds in use now (its own thread included), the measurement its grant is given. */
  Resources inUse(TaskRun run) {
    synchronized (run) {
      return amount(run.memory.inUse, run.threads.inUse);
    }
  }

  /** Places the run's grant for its base (waiting per its priority's fallback) and provisions it. */
  void admit(TaskRun run) {
    long t0 = System.nanoTime();
    Priority priority = run.spec.priority();
    Resources base = base(run);
    synchronized (run) {
      run.memory.base = cfg.blocksFor(run.spec.base().memoryBytes());
      run.threads.base = (int) (run.spec.base().cpuMillis() / 1000);
    }
    checkOpen();
    if (cfg.phased() && cfg.fallbacks().get(priority) != Fallback.REJECT) {
      long waited = phases.await(run);
      if (waited > 1_000_000) {
        acct.queued.increment();
      }
    }
    // With warming on, admission asks for the task's predicted demand (its type's coming phases) and the loop
    // sizes it by the acting rule; grant on request (warming off) asks for the base alone.
    Grant<TaskRun> g = cfg.warming()
        ? loop.reserve(run.id, run, Sla.of(priority))
        : loop.reserveExactly(run.id, run, base, Sla.of(priority));
    run.grant = g;
    if (!g.placed().isDone()) {
      Fallback f = cfg.fallbacks().get(priority);
      if (f == Fallback.REJECT) {
        g.release();
        acct.rejected.increment();
        String msg = "task " + run.id + " (" + priority.label() + "): " + base + " does not fit on node '"
            + cfg.node() + "'; fallback REJECT";
        log.info(msg);
        throw new ResourceUnavailableException(msg);
      }
      acct.queued.increment();
      log.info("task {} ({}): admission of {} waits for capacity on node '{}'", run.id, priority.label(), base,
          cfg.node());
    }
    admitting.add(g);
    try {
      g.placed().get(cfg.queueTimeoutNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      g.release();
      acct.rejected.increment();
      String msg = "task " + run.id + " (" + priority.label() + "): waited " + Duration.ofNanos(cfg.queueTimeoutNanos())
          + " for admission of " + base + " on node '" + cfg.node() + "'; giving up";
      log.info(msg);
      throw new ResourceUnavailableException(msg);
    } catch (ExecutionException | CancellationException e) {
      acct.rejected.increment();
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new ResourceUnavailableException("task " + run.id + " (" + priority.label() + "): admission of " + base
          + " on node '" + cfg.node() + "' failed: " + cause.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      g.release();
      throw new ResourceUnavailableException("task " + run.id + " was interrupted waiting for admission");
    } finally {
      admitting.remove(g);
    }
    g.activate();
    // Elapsed time, by which the type's profile learns and forecasts, counts from here: a wait for admission is
    // no phase of the task.
    run.startMillis = cfg.clock().millis();
    boolean ahead = false;
    for (Units u : List.of(run.memory, run.threads)) {
      List<Object> made = new ArrayList<>();
      int n;
      synchronized (run) {
        // The base is the task's to fill now; what was admitted beyond it is warmed while the task starts.
        n = Math.min(u.unfilled, u.base);
        u.unfilled -= n;
        u.warming = u.unfilled;
        ahead |= u.warming > 0;
        u.inFlight += n;
      }
      for (int i = 0; i < n; i++) {
        made.add(newUnit(u.kind, run.id));
      }
      synchronized (run) {
        u.inFlight -= n;
        u.free.addAll(made);
        run.notifyAll();
      }
    }
    synchronized (run) {
      run.stallNanos += System.nanoTime() - t0;
    }
    if (ahead) {
      warmer.fill(run);
    }
    g.observe(inUse(run));
  }

  /** Ends a run: drops its units and completes (or releases) its grant. */
  void end(TaskRun run, boolean succeeded, Resources peak) {
    long now = cfg.clock().millis();
    synchronized (run) {
      if (run.ended) {
        return;
      }
      run.ended = true;
      for (Units u : List.of(run.memory, run.threads)) {
        dropFree(u, u.free.size());
        account(now, u, -u.owned, -u.inUse);
        u.owned = 0;
        u.unfilled = 0;
        u.warming = 0;
        u.inUse = 0;
      }
      run.heldBytes = 0;
      run.heldThreads = 0;
    }
    Grant<TaskRun> g = run.grant;
    if (g != null) {
      if (succeeded && g.isPlaced() && !g.isEnded()) {
        g.complete(peak);
      } else {
        g.release();
      }
    }
    runs.remove(run.id);
    signalCapacity();
  }

  // ------------------------------------------------------------------------------------------ helpers

  private void account(long now, Units u, int dOwned, int dUsed) {
    if (u.kind == Units.Kind.MEMORY) {
      acct.change(now, (long) dOwned * cfg.blockBytes(), (long) dUsed * cfg.blockBytes(), 0, 0);
    } else {
      acct.change(now, 0, 0, dOwned, dUsed);
    }
  }

  Object newUnit(Units.Kind kind, String owner) {
    if (kind == Units.Kind.THREAD) {
      return new Worker(owner);
    }
    byte[] b = new byte[cfg.blockBytes()];
    // The JVM zeroes new arrays; writing one byte per page makes sure every page is resident.
    for (int i = 0; i < b.length; i += PAGE) {
      b[i] = 1;
    }
    return b;
  }

  static void stop(Object unit) {
    if (unit instanceof Worker w) {
      w.stop();
    }
  }

  void signalCapacity() {
    synchronized (capacity) {
      capacity.notifyAll();
    }
  }

  void checkOpen() {
    if (closed) {
      throw new IllegalStateException("task executor is closed");
    }
  }

  /** Requests that wait fail from now on; admissions waiting now are withdrawn. */
  void close() {
    closed = true;
    for (Grant<TaskRun> g : List.copyOf(admitting)) {
      g.release();
    }
    signalCapacity();
  }
}
