package dev.penumbra.task;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.ledger.NodeView;
import dev.penumbra.core.loop.ControlLoop;
import dev.penumbra.core.loop.LoopStats;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs JVM tasks, each on its own thread, with a shadow beside each, as the task capability's instance of the
 * core {@link ControlLoop}: the {@link Sampler} observes every running task (signal), a {@link TaskModel} per task
 * forecasts its demand over the next {@code horizon} (model), each task holds one grant of the loop placed by the
 * core allocator (admission) that the loop keeps at the acting rule's size ahead of need — Penumbra's forecast,
 * or grant on request while that has been the cheaper (baseline guard) — the {@link GrantPool} makes the
 * reservation real in memory blocks and worker threads (actuator, warmed by the {@link Warmer}), the loop's
 * adjuster reclaims what stays unused for {@code grace}, and finished tasks teach their type's profile (learn).
 *
 * <p>See docs/task.md for the sampling, model, warm-up, fallback and accounting rules.
 */
public final class TaskExecutor implements AutoCloseable {

  private final ExecutorConfig cfg;
  private final Accounting acct = new Accounting();
  private final GrantPool pool;
  private final Warmer warmer;
  private final Sampler sampler;
  private final ControlLoop<TaskRun> loop;
  private final TaskContexts contexts;
  private final ExecutorService ownedWarmer;
  private final ScheduledExecutorService samplerThread;
  /**
   * Per task type, least recently run first; at most {@code maxTypes} (a client naming a new type per task must not
   * grow it without bound). Guarded by itself.
   */
  private final java.util.LinkedHashMap<String, TaskProfile> profiles = new java.util.LinkedHashMap<>(16, 0.75f,
      true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, TaskProfile> eldest) {
      return size() > cfg.maxTypes();
    }
  };
  private final AtomicLong sequence = new AtomicLong();
  private volatile boolean closed;

  private TaskExecutor(Builder b) {
    Clock clock = b.clock != null ? b.clock : b.ledger.clock();
    this.cfg = new ExecutorConfig(b.node, clock, b.interval.toMillis(), b.horizon, b.grace, b.lease, b.bucket,
        b.blockBytes, b.maxStride, b.warming, b.fallbacks, b.queueTimeout.toNanos(), b.tracker,
        b.probe != null ? b.probe : ThreadProbe.mxBean(), b.warmAbove, b.phasedAdmission,
        b.planWhenContended, b.maxTypes);
    Executor warmThreads;
    if (b.warmer != null) {
      warmThreads = b.warmer;
      this.ownedWarmer = null;
    } else {
      // Warm-ups of different tasks run side by side; a task that asks before its warm-up got a turn
      // allocates the rest itself, so the pool size bounds warming throughput, not any task's wait.
      int threads = Math.max(2, Runtime.getRuntime().availableProcessors() / 2);
      this.ownedWarmer = Executors.newFixedThreadPool(threads,
          r -> Thread.ofPlatform().daemon().name("penumbra-warmer").unstarted(r));
      warmThreads = ownedWarmer;
    }
    this.pool = new GrantPool(cfg, acct, b.ledger);
    Requests requests = new Requests(cfg, acct, pool);
    this.warmer = new Warmer(cfg, acct, pool, requests, warmThreads);
    Sampler[] s = new Sampler[1];
    this.loop = TaskLoop.build(b.ledger, cfg, pool, run -> s[0].finished(run));
    pool.wire(loop, warmer);
    warmer.wire(loop);
    this.sampler = new Sampler(cfg, acct, pool, requests, warmer, loop);
    s[0] = sampler;
    this.contexts = new TaskContexts(cfg, requests, sampler);
    if (b.sampling) {
      this.samplerThread = Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("penumbra-task-sampler").unstarted(r));
      samplerThread.scheduleAtFixedRate(sampler::tickSafely, cfg.intervalMillis(), cfg.intervalMillis(),
          TimeUnit.MILLISECONDS);
    } else {
      this.samplerThread = null;
    }
  }

  /** A builder for an executor whose tasks reserve on {@code node} of {@code ledger}. */
  public static Builder builder(Ledger ledger, String node) {
    return new Builder(ledger, node);
  }

  // ------------------------------------------------------------------------------------------ lifecycle

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
    TaskRun run = new TaskRun(id, spec, new TaskModel(profile, cfg.horizon(), spec.priority(), cfg.tracker()),
        threadId, cfg.clock().millis());
    pool.add(run);
    acct.submitted.increment();
    sampler.nudge(run);
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

  /** Places the task's grant for its base (own thread, base threads and memory): part of its latency. */
  void admit(TaskRun run) {
    pool.admit(run);
  }

  /** The executor's grant pool (tests read and feed its measurements). */
  GrantPool pool() {
    return pool;
  }

  /** The executor's warm-up step (tests feed its measurements). */
  Warmer warmer() {
    return warmer;
  }

  /** Whether the run's predicted phases fit beside the running tasks' now (the phase plan's test). */
  boolean admissible(TaskRun run) {
    return pool.admissible(run);
  }

  TaskContext context(TaskRun run) {
    return contexts.of(run);
  }

  /** Ends a run: releases everything it holds (its grant learns its peak), completes its future. */
  void complete(TaskRun run, Throwable failure) {
    long endNanos = System.nanoTime();
    Resources peak;
    synchronized (run) {
      if (run.ended) {
        return;
      }
      double[] p = run.peaks();
      double mem = 0;
      double thr = 0;
      for (int i = 0; i < p.length; i += Signal.COUNT) {
        mem = Math.max(mem, p[i + Signal.MEMORY.ordinal()]);
        thr = Math.max(thr, p[i + Signal.THREADS.ordinal()]);
      }
      peak = pool.amount(cfg.blocksFor((long) mem), (int) thr).max(pool.base(run));
    }
    pool.end(run, failure == null, peak);
    if (failure != null) {
      acct.failed.increment();
    }
    acct.completed.increment();
    TaskResult result;
    synchronized (run) {
      result = new TaskResult(run.id, run.spec.type(), Duration.ofNanos(endNanos - run.submitNanos),
          Duration.ofNanos(run.stallNanos), run.hits, run.misses, failure);
    }
    run.future.complete(result);
  }

  TaskProfile profile(String type) {
    synchronized (profiles) {
      return profiles.computeIfAbsent(type, t -> new TaskProfile(t, cfg.bucket()));
    }
  }

  /** What every type's profile has learned, least recently run type first, for saving across restarts. */
  public List<TaskProfile.State> exportProfiles() {
    List<TaskProfile> now;
    synchronized (profiles) {
      now = List.copyOf(profiles.values());
    }
    return now.stream().map(TaskProfile::state).toList();
  }

  /**
   * Puts back profiles an earlier process learned (in {@link #exportProfiles()} order, so the most recently run are
   * kept when there are more than {@code maxTypes}); a type learned since in this process keeps its own.
   */
  public void restoreProfiles(List<TaskProfile.State> saved) {
    synchronized (profiles) {
      for (TaskProfile.State s : saved) {
        profiles.putIfAbsent(s.type(), TaskProfile.restore(s));
      }
    }
  }

  /** The profiles learned so far, by task type. */
  public Map<String, TaskProfile> profiles() {
    synchronized (profiles) {
      return Map.copyOf(profiles);
    }
  }

  /**
   * One sampler pass (see {@link Sampler}). The executor's sampler thread calls it every interval; with
   * {@code sampling(false)} call it yourself.
   */
  public void tick() {
    sampler.tick();
  }

  /** The counters so far (resource-time integrated up to now). */
  public TaskStats stats() {
    return acct.stats(cfg.clock().millis());
  }

  /**
   * The control loop's figures: reserved vs used resource-time of the tasks' grants, and the baseline guard —
   * which rule acts (Penumbra's forecast or grant on request) and the running cost of both.
   */
  public LoopStats loopStats() {
    return loop.stats();
  }

  /** Tasks running now. */
  public int running() {
    return pool.size();
  }

  /** The model of a running task (for inspection), or null when it is not running. */
  public TaskModel model(String taskId) {
    TaskRun r = pool.get(taskId);
    return r == null ? null : r.model;
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
    if (samplerThread != null) {
      samplerThread.shutdownNow();
    }
    if (ownedWarmer != null) {
      ownedWarmer.shutdownNow();
    }
    pool.close();
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
    private Duration warmAbove = Duration.ofMillis(2);
    private boolean phasedAdmission = true;
    private boolean planWhenContended;
    private int maxTypes = 1000;

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

    /**
     * Task types whose profiles are kept, 1 .. 1,000,000; beyond it the least recently run type is forgotten (and
     * learned again if it comes back). Default 1,000.
     */
    public Builder maxTypes(int n) {
      if (n < 1 || n > 1_000_000) {
        throw new IllegalArgumentException("maxTypes must be in [1, 1000000], was " + n);
      }
      this.maxTypes = n;
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

    /**
     * A reactive grant measured faster than this is not warmed ahead: the task would not notice the wait, so a
     * warm-up would only cost. 0 .. 1 s. Default 2 ms. Zero warms whatever the grant takes.
     */
    public Builder warmAbove(Duration d) {
      this.warmAbove = range("warmAbove", d, Duration.ZERO, Duration.ofSeconds(1));
      return this;
    }

    /**
     * With warming on: true (default) starts a task when its type's predicted memory phases fit beside the running
     * tasks' at every coming bucket, so peaks do not collide; false starts it when its admission demand fits now.
     */
    public Builder phasedAdmission(boolean on) {
      this.phasedAdmission = on;
      return this;
    }

    /**
     * With phased admission: true lets the plan hold a task back only while grants on request of memory are
     * measured to wait at least {@link #warmAbove} (contention is real); until then, and again once they stop
     * waiting, tasks start as under grant on request. False (default) consults the plan for every task: in two
     * held-out runs each, the two did not differ beyond noise in p99, and only the gated plan let tasks wait out
     * the queue timeout (docs/benchmarks.md).
     */
    public Builder planWhenContended(boolean on) {
      this.planWhenContended = on;
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
