package dev.penumbra.task;

import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import dev.penumbra.core.allocate.Allocator;
import dev.penumbra.core.allocate.Sla;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.Reservation;
import dev.penumbra.core.loop.Baseline;
import dev.penumbra.core.loop.ControlLoop;
import dev.penumbra.core.loop.Model;
import java.time.Duration;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The task capability's instance of the core {@link ControlLoop}: signal = the task's sampled phase (its
 * {@link TaskRun} with its {@link TaskModel}), model = the task model's forecast in the units the pool grants,
 * actuator = the {@link GrantPool}, baseline = grant on request, grace release = the loop's adjuster.
 */
final class TaskLoop {

  static final String MODEL = "task-model";

  private TaskLoop() {}

  /**
   * The loop on {@code ledger}: its own allocator places only on the executor's node, never preempts (a task's
   * units cannot be taken back while it uses them) and starts reservations WARM (admission activates them).
   */
  static ControlLoop<TaskRun> build(Ledger ledger, ExecutorConfig cfg, GrantPool pool, Consumer<TaskRun> learn) {
    Allocator allocator = Allocator.builder(ledger)
        .clock(cfg.clock())
        .preemption(false)
        .initialState(Reservation.State.WARM)
        .lease(cfg.lease())
        .placement((amount, nodes) -> nodes.stream()
            .filter(n -> n.id().equals(cfg.node()) && amount.fits(n.free()))
            .findFirst())
        .build();
    return ControlLoop.builder("task", allocator, new PhaseModel(cfg, pool, learn))
        .actuator(pool)
        .baseline(new GrantOnRequest(pool))
        .grace(cfg.grace())
        // Units are whole blocks and threads, given out only from what is reserved: no margin above use.
        .margin(0)
        .clock(cfg.clock())
        .build();
  }

  /**
   * The task model's forecast as the pool's units: memory in whole blocks, worker threads rounded half down, the
   * task's own thread and base always included, IO left out (measured, not granted). A kind whose reactive
   * grants have been faster than {@link ExecutorConfig#warmAbove} is not forecast ahead: a grant on request
   * delivers it before the task would notice, so warming it would only cost.
   */
  static final class PhaseModel implements Model<TaskRun> {
    private final ExecutorConfig cfg;
    private final GrantPool pool;
    private final Consumer<TaskRun> learn;

    PhaseModel(ExecutorConfig cfg, GrantPool pool, Consumer<TaskRun> learn) {
      this.cfg = cfg;
      this.pool = pool;
      this.learn = learn;
    }

    @Override
    public String name() {
      return MODEL;
    }

    @Override
    public Demand predict(TaskRun run) {
      if (run.grant == null) {
        return admission(run);
      }
      TaskModel m = run.model;
      int baseBlocks;
      int baseThreads;
      int usedBlocks;
      int usedThreads;
      synchronized (run) {
        baseBlocks = run.memory.base;
        baseThreads = run.threads.base;
        usedBlocks = run.memory.inUse;
        usedThreads = run.threads.inUse;
      }
      int floorBlocks = Math.max(baseBlocks, usedBlocks);
      int floorThreads = Math.max(baseThreads, usedThreads);
      boolean warmMemory = worthWarming(Units.Kind.MEMORY);
      boolean warmThreads = worthWarming(Units.Kind.THREAD);
      Resources point = units(m, 0.5, floorBlocks, floorThreads, warmMemory, warmThreads);
      TreeMap<Double, Resources> q = new TreeMap<>();
      for (double level : TaskModel.LEVELS) {
        q.put(level, units(m, level, floorBlocks, floorThreads, warmMemory, warmThreads));
      }
      return new Demand(point, q, MODEL, m.isCold());
    }

    private Resources units(TaskModel m, double level, int floorBlocks, int floorThreads, boolean warmMemory,
        boolean warmThreads) {
      int blocks = warmMemory
          ? Math.max(floorBlocks, cfg.blocksFor((long) Math.ceil(m.bound(Signal.MEMORY, level))))
          : floorBlocks;
      int threads = warmThreads
          ? Math.max(floorThreads, (int) Math.ceil(m.bound(Signal.THREADS, level) - 0.5))
          : floorThreads;
      return pool.amount(blocks, threads);
    }

    /**
     * At admission, before any sample: what tasks of its type needed over the first {@code max(horizon, lag)}
     * of their life, with the type's residual bands — admission by predicted phases: on a contended node (a long
     * lag) a task is admitted when its coming peak fits, so peaks do not collide mid-run. Reads only the shared
     * profile (the task's model belongs to the sampler).
     */
    private Demand admission(TaskRun run) {
      TaskProfile p = run.model.profile();
      Resources base = pool.base(run);
      double[] peak = new double[2 * Signal.COUNT];
      long lead = cfg.phased() ? cfg.horizon().toMillis()
          : Math.max(cfg.horizon().toMillis(), pool.acquisitionLag().toMillis());
      if (!p.window(0, lead, peak, 0, Signal.COUNT)) {
        return Demand.exact(base, MODEL);
      }
      double[] band = new double[Signal.COUNT];
      // Never more than the node holds (a type's band can be wide): admission must stay possible.
      Resources cap = pool.capacity().max(base);
      TreeMap<Double, Resources> q = new TreeMap<>();
      boolean cold = false;
      for (double level : TaskModel.LEVELS) {
        p.bands(level, band, 0);
        for (int s = 0; s < Signal.COUNT; s++) {
          cold |= Double.isNaN(band[s]);
        }
        q.put(level, admissionUnits(peak, band, base).min(cap));
      }
      return new Demand(admissionUnits(peak, new double[Signal.COUNT], base).min(cap), q, MODEL, cold);
    }

    private Resources admissionUnits(double[] peak, double[] band, Resources base) {
      double mem = peak[Signal.MEMORY.ordinal()] + nanToZero(band[Signal.MEMORY.ordinal()]);
      double thr = peak[Signal.THREADS.ordinal()] + nanToZero(band[Signal.THREADS.ordinal()]);
      boolean warmMemory = worthWarming(Units.Kind.MEMORY);
      boolean warmThreads = worthWarming(Units.Kind.THREAD);
      Resources want = pool.amount(warmMemory ? cfg.blocksFor((long) Math.ceil(mem)) : 0,
          warmThreads ? (int) Math.ceil(thr - 0.5) : 0);
      return want.max(base);
    }

    private static double nanToZero(double v) {
      return Double.isNaN(v) ? 0 : v;
    }

    private boolean worthWarming(Units.Kind kind) {
      if (cfg.phased() && kind == Units.Kind.MEMORY) {
        // Tasks start when their memory phases fit: a grant on request finds the room its phase was planned
        // with, so memory held ahead would only keep it from others.
        return false;
      }
      Duration lag = pool.reactiveLag(kind);
      // Nothing measured yet: warm, and let the first reactive grants tell.
      return lag == null || lag.compareTo(cfg.warmAbove()) >= 0;
    }

    @Override
    public void learn(TaskRun run, Resources actual) {
      learn.accept(run);
    }
  }

  /**
   * What users would run instead: a task holds its base and exactly what it has asked for (its units in use);
   * more is granted when it asks. Its cost in the loop's guard includes the wait of each grant (the pool's
   * measured acquisition lag).
   */
  static final class GrantOnRequest implements Baseline<TaskRun> {
    private final GrantPool pool;

    GrantOnRequest(GrantPool pool) {
      this.pool = pool;
    }

    @Override
    public String name() {
      return "grant-on-request";
    }

    @Override
    public Resources size(TaskRun run, Sla sla, Resources lastObserved) {
      Resources base = pool.base(run);
      return Optional.ofNullable(lastObserved).map(base::max).orElse(base);
    }
  }
}
