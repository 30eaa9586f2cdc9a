package dev.penumbra.eval.task;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.core.loop.LoopStats;
import dev.penumbra.eval.report.Quantiles;
import dev.penumbra.eval.report.Target;
import dev.penumbra.task.TaskExecutor;
import dev.penumbra.task.TaskResult;
import dev.penumbra.task.TaskSpec;
import dev.penumbra.task.TaskStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.ToDoubleFunction;

/**
 * The task load sweep of {@code penumbra bench task}: the phased workload on one node of fixed capacity, at load
 * levels from light to overload, Penumbra beside grant on request (the baseline its loop guards against) and static
 * allocation (each task its type's peak at admission) on the same tasks per level.
 *
 * <p>Load is the share of the node's memory the tasks running at once would need at their peaks: at load
 * {@code L}, {@code round(L * node memory / mean task peak)} tasks run at once. From 1.0 up, more tasks run than
 * fit at their peaks, so a task whose phase needs more must wait for another to give memory back (grant on
 * request queues, and gives up after the queue timeout) — the scenario the task capability is for.
 */
public final class TaskSweep {
  private TaskSweep() {}

  /** The node: memory is the contended resource (threads have room for every task's peak). */
  public static final Resources NODE = Resources.of(32_000, 128 * TaskWorkload.MIB);
  /** At every level: Penumbra's p99 at most this multiple of grant on request's. */
  public static final double TARGET_P99_TO_BASELINE = 1.05;
  /** At every level: Penumbra's throughput at least this share of grant on request's. */
  public static final double TARGET_THROUGHPUT_TO_BASELINE = 0.95;
  /** At every level: Penumbra's reserved memory-time at most this multiple of grant on request's. */
  public static final double TARGET_RESERVED_TO_BASELINE = 1.2;
  /** Under contention (load >= 1): Penumbra's p99 at most this share of grant on request's (30% below). */
  public static final double TARGET_CONTENDED_P99 = 0.7;
  /**
   * Penumbra's admission design: by predicted phases (default), or {@code -Dpenumbra.bench.task.admission=demand}
   * for admission at the demand predicted over the lead (the design before; kept to compare the two).
   */
  static final boolean PHASED = !"demand".equals(System.getProperty("penumbra.bench.task.admission", "phases"));
  /**
   * With phased admission, whether the plan acts for every task (default), or only while grants on request wait
   * for memory ({@code -Dpenumbra.bench.task.plan=contended}; kept to compare the two).
   */
  static final boolean PLAN_WHEN_CONTENDED = "contended".equals(System.getProperty("penumbra.bench.task.plan",
      "always"));
  /**
   * The modes: Penumbra, its two baselines, and the bound {@code unconstrained}: grant on request on a node with
   * memory for every task's peak, the same tasks at the same concurrency. No task there waits for memory, so its p99
   * is what no admission or warm-up on the contended node can beat (short of warming the allocation itself): the
   * limit of the contended target is visible beside it.
   */
  public static final List<String> MODES = List.of("penumbra", "grant-on-request", "static", "unconstrained");
  /** The bound's node: the same cores, memory for every task's peak at any load of the sweep. */
  static final Resources UNCONSTRAINED_NODE = Resources.of(32_000, 64L << 30);

  /**
   * What to sweep.
   *
   * @param loads load levels, each in (0, 4]
   * @param tasks tasks per level and mode
   * @param intervalMillis the sampling interval
   * @param graceMillis grace period of unused reservations
   * @param horizonMillis forecast horizon
   * @param priority the tasks' priority
   * @param seeds workload seeds: each is one repeat of every level and mode on its own tasks (the same tasks for
   *     every mode); figures are reported per seed and targets on the median over seeds
   * @param queueTimeoutMillis how long a request waits for memory before it fails
   * @param rounds slices a seed's tasks are run in, the modes taking turns slice by slice (1: each mode runs all its
   *     tasks in one go)
   */
  public record Options(List<Double> loads, int tasks, int intervalMillis, int graceMillis, int horizonMillis,
      Priority priority, List<Long> seeds, int queueTimeoutMillis, int rounds) {
    public Options {
      if (loads == null || loads.isEmpty()) {
        throw new IllegalArgumentException("loads must hold at least one level");
      }
      for (double l : loads) {
        if (!(l > 0 && l <= 4)) {
          throw new IllegalArgumentException("load must be in (0, 4], was " + l);
        }
      }
      loads = List.copyOf(loads);
      TaskBench.Options.check("sweep tasks", tasks, 1, 100_000);
      TaskBench.Options.check("interval", intervalMillis, 1, 1000);
      TaskBench.Options.check("grace", graceMillis, 0, 3_600_000);
      TaskBench.Options.check("horizon", horizonMillis, 1, 3_600_000);
      TaskBench.Options.check("queue timeout", queueTimeoutMillis, 0, 3_600_000);
      TaskBench.Options.check("rounds", rounds, 1, 1000);
      if (priority == null) {
        throw new IllegalArgumentException("priority must be set");
      }
      if (seeds == null || seeds.isEmpty() || seeds.size() > MAX_SEEDS) {
        throw new IllegalArgumentException("seeds must hold 1.." + MAX_SEEDS + " seeds, was "
            + (seeds == null ? "none" : seeds.size()));
      }
      if (seeds.stream().distinct().count() != seeds.size()) {
        throw new IllegalArgumentException("seeds must differ, was " + seeds);
      }
      seeds = List.copyOf(seeds);
    }
  }

  /** At most this many seeds (repeats) in one sweep. */
  public static final int MAX_SEEDS = 50;

  /**
   * One mode at one load level.
   *
   * @param seed the workload seed of the repeat
   * @param stalls requests that waited for a grant (misses)
   * @param acting the rule Penumbra's loop acted on at the end ("penumbra" or "baseline"; "-" for the others)
   * @param admissionP99Ms p99 of the wait from submission to the start of the body (admission)
   * @param memoryWaitP99Ms p99 over tasks of the time their memory requests took, summed per task
   * @param tailAdmissionMs mean admission wait of the tail: the tasks at or above the p95 latency
   * @param tailMemoryWaitMs mean time in memory requests of the tail
   * @param tailRestMs mean of the rest of the tail's latency (its phases, CPU, worker threads)
   */
  public record Point(long seed, double load, String mode, int concurrency, int tasks, int failed, double p50Ms,
      double p99Ms, double throughputPerSecond, double stallP99Ms, long stalls, long queued,
      double reservedMemoryGibSeconds, double usedMemoryGibSeconds, double reservedThreadSeconds,
      double usedThreadSeconds, double shadowShareOfCore, double wallSeconds, String acting, double admissionP99Ms,
      double memoryWaitP99Ms, double tailAdmissionMs, double tailMemoryWaitMs, double tailRestMs) {}

  /**
   * A whole sweep.
   *
   * @param latencies every task's latency (ms) per point, keyed by {@link #key(long, double, String)}
   */
  public record Result(Options options, List<Point> points, Map<String, double[]> latencies) {
    public Result {
      points = List.copyOf(points);
      latencies = Map.copyOf(latencies);
    }

    static String key(long seed, double load, String mode) {
      return seed + "/" + load + "/" + mode;
    }

    /**
     * The p99 of one mode's tasks of every seed pooled at one load (750 tasks at 5 seeds of 150: the 8th-worst
     * task, where a seed's own p99 is its 2nd-worst).
     */
    public double pooledP99(double load, String mode) {
      double[] all = options.seeds().stream().flatMapToDouble(s -> java.util.Arrays.stream(
          latencies.getOrDefault(key(s, load, mode), new double[0]))).sorted().toArray();
      return Quantiles.sorted(all, 0.99);
    }

    /** {@code mode}'s pooled p99 over grant on request's at one load. */
    public double pooledRatio(double load, String mode) {
      return pooledP99(load, mode) / pooledP99(load, "grant-on-request");
    }

    /** The point of one seed, load and mode. */
    public Point point(long seed, double load, String mode) {
      return points.stream().filter(p -> p.seed() == seed && p.load() == load && p.mode().equals(mode)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException(
              "no point for seed " + seed + ", load " + load + " and mode " + mode));
    }

    /** The median over seeds of {@code f} for one load and mode (what the plots show). */
    public double median(double load, String mode, ToDoubleFunction<Point> f) {
      double[] v = options.seeds().stream().mapToDouble(s -> f.applyAsDouble(point(s, load, mode))).toArray();
      return Quantiles.of(v, 0.5);
    }

    /**
     * Penumbra's {@code f} over grant on request's, per seed (same tasks for both), at one load: its median (lower
     * median for an even count, a value that was measured) and its spread over seeds.
     */
    public Ratio ratio(double load, ToDoubleFunction<Point> f) {
      return ratio(load, "penumbra", f);
    }

    /** {@code mode}'s {@code f} over grant on request's, per seed, at one load (see {@link #ratio(double, ToDoubleFunction)}). */
    public Ratio ratio(double load, String mode, ToDoubleFunction<Point> f) {
      double[] v = options.seeds().stream().mapToDouble(s -> f.applyAsDouble(point(s, load, mode))
          / f.applyAsDouble(point(s, load, "grant-on-request"))).toArray();
      double[] sorted = v.clone();
      java.util.Arrays.sort(sorted);
      return new Ratio(Quantiles.sorted(sorted, 0.5), sorted[0], sorted[sorted.length - 1], v);
    }

    /**
     * Per level, Penumbra against grant on request, each ratio the median over seeds of the per-seed ratios (two
     * runs of one design differed less by it than by the ratio of the pooled p99s, docs/benchmarks.md): the targets
     * by name (load in the name).
     */
    public Map<String, Target> targets() {
      Map<String, Target> t = new LinkedHashMap<>();
      for (double load : options.loads()) {
        String at = String.format(Locale.ROOT, "_at_load_%s", label(load));
        double p99 = ratio(load, Point::p99Ms).median();
        t.put("p99_to_grant_on_request" + at, Target.atMost(TARGET_P99_TO_BASELINE, p99));
        t.put("throughput_to_grant_on_request" + at, Target.atLeast(TARGET_THROUGHPUT_TO_BASELINE,
            ratio(load, Point::throughputPerSecond).median()));
        t.put("reserved_memory_to_grant_on_request" + at, Target.atMost(TARGET_RESERVED_TO_BASELINE,
            ratio(load, Point::reservedMemoryGibSeconds).median()));
        if (load >= 1) {
          t.put("contended_p99_to_grant_on_request" + at, Target.atMost(TARGET_CONTENDED_P99, p99));
        }
      }
      return t;
    }
  }

  /**
   * Penumbra's figure over grant on request's at one load: the median over seeds, the smallest and the largest
   * (the spread a single run can land anywhere in), and each seed's ratio in the order of the seeds.
   */
  public record Ratio(double median, double min, double max, double[] perSeed) {}

  /** A load level in a target's name: 1.5 -> "1p5" (a point would not survive the JSON key convention). */
  static String label(double load) {
    return String.format(Locale.ROOT, "%s", load).replace('.', 'p');
  }

  /** Tasks running at once at {@code load}: that share of the node's memory at the tasks' mean peak. */
  static int concurrency(double load, List<TaskWorkload.Plan> plans) {
    double meanPeak = plans.stream().mapToLong(p -> TaskWorkload.peak(p).memoryBytes()).average().orElse(1);
    return (int) Math.max(1, Math.round(load * NODE.memoryBytes() / meanPeak));
  }

  /** Runs every level, each mode on the same tasks. */
  public static Result run(Options o, Consumer<String> progress)
      throws IOException, InterruptedException, ExecutionException, TimeoutException {
    Path dir = Files.createTempDirectory("penumbra-bench-task-sweep");
    TaskWorkload workload = new TaskWorkload(dir);
    List<Point> points = new ArrayList<>();
    Map<String, double[]> latencies = new LinkedHashMap<>();
    try {
      // One untimed pass of every mode first, so that no mode pays the JVM's warm-up (class loading, JIT) in its
      // figures: before, Penumbra ran first and carried it at the first level.
      List<TaskWorkload.Plan> warm =
          TaskWorkload.plan(Math.min(WARMUP_TASKS, o.tasks()), o.seeds().getFirst() ^ 0x5eed);
      runSeed(o, 0, o.seeds().getFirst(), 0, concurrency(1.0, warm), warm, workload, new HashMap<>());
      progress.accept("sweep: JVM warmed up (" + warm.size() + " tasks per mode, not counted)");
      int runs = o.loads().size() * o.seeds().size() * MODES.size();
      int done = 0;
      for (double load : o.loads()) {
        for (int si = 0; si < o.seeds().size(); si++) {
          long seed = o.seeds().get(si);
          List<TaskWorkload.Plan> plans = TaskWorkload.plan(o.tasks(), seed);
          int concurrency = concurrency(load, plans);
          for (Point p : runSeed(o, load, seed, si, concurrency, plans, workload, latencies)) {
            points.add(p);
            progress.accept(String.format(Locale.ROOT,
                "sweep %d/%d: load %s, seed %d, %s (%d at once): p50 %.1f ms, p99 %.1f ms, %.1f tasks/s, %d failed,"
                    + " memory %.2f GiB*s reserved / %.2f used", ++done, runs, load, seed, p.mode(), concurrency,
                p.p50Ms(), p.p99Ms(), p.throughputPerSecond(), p.failed(), p.reservedMemoryGibSeconds(),
                p.usedMemoryGibSeconds()));
          }
        }
      }
    } finally {
      workload.delete();
      Files.deleteIfExists(dir);
    }
    return new Result(o, points, latencies);
  }

  /** Tasks per mode of the untimed warm-up pass (at most the sweep's tasks per level). */
  static final int WARMUP_TASKS = 40;

  /** One mode's executor over a seed's rounds: what it ran and how long its rounds took. */
  private static final class ModeRun {
    final String mode;
    final TaskExecutor executor;
    final List<CompletableFuture<TaskResult>> results = new ArrayList<>();
    final List<TimedContext.Times> times = new ArrayList<>();
    long wallNanos;
    long samplerNanos;

    ModeRun(String mode, TaskExecutor executor) {
      this.mode = mode;
      this.executor = executor;
    }
  }

  /**
   * Runs one seed's tasks at one load in every mode. The tasks go in {@code rounds} slices and the modes take
   * turns slice by slice (the order rotated by seed and round), each mode on its own executor and node kept for
   * the whole seed (Penumbra keeps what it learned): a slowdown of the machine, which lasts seconds to minutes
   * while other jobs run, then falls on every mode alike, where one mode's whole run after another's met
   * different loads (two runs of one design at load 1 differed by 2-3x that way, docs/benchmarks.md).
   */
  private static List<Point> runSeed(Options o, double load, long seed, int si, int concurrency,
      List<TaskWorkload.Plan> plans, TaskWorkload workload, Map<String, double[]> latencies)
      throws InterruptedException, ExecutionException, TimeoutException {
    List<ModeRun> runs = new ArrayList<>();
    try {
      for (String mode : MODES) {
        runs.add(new ModeRun(mode, executor(o, mode)));
      }
      int rounds = Math.min(o.rounds(), plans.size());
      for (int r = 0; r < rounds; r++) {
        List<TaskWorkload.Plan> slice =
            plans.subList(r * plans.size() / rounds, (r + 1) * plans.size() / rounds);
        for (int m = 0; m < runs.size(); m++) {
          runSlice(o, runs.get((m + si + r) % runs.size()), concurrency, slice, workload);
        }
      }
      List<Point> points = new ArrayList<>();
      for (ModeRun run : runs) {
        points.add(point(run, load, seed, concurrency, plans.size(), latencies));
      }
      return points;
    } finally {
      for (ModeRun run : runs) {
        run.executor.close();
      }
    }
  }

  private static TaskExecutor executor(Options o, String mode) {
    Ledger ledger = Ledger.inMemory(Clock.systemUTC());
    ledger.addNode("jvm", mode.equals("unconstrained") ? UNCONSTRAINED_NODE : NODE);
    return TaskExecutor.builder(ledger, "jvm")
        .interval(Duration.ofMillis(o.intervalMillis()))
        .grace(Duration.ofMillis(o.graceMillis()))
        .horizon(Duration.ofMillis(o.horizonMillis()))
        .bucket(Duration.ofMillis(Math.max(10, o.intervalMillis())))
        .queueTimeout(Duration.ofMillis(o.queueTimeoutMillis()))
        .warming(mode.equals("penumbra"))
        .phasedAdmission(PHASED)
        .planWhenContended(PLAN_WHEN_CONTENDED)
        .build();
  }

  /** Runs a slice of the tasks on one mode's executor, {@code concurrency} at once, and waits for them all. */
  private static void runSlice(Options o, ModeRun run, int concurrency, List<TaskWorkload.Plan> slice,
      TaskWorkload workload) throws InterruptedException, ExecutionException, TimeoutException {
    long t0 = System.nanoTime();
    long sampler0 = run.executor.stats().samplerCpuNanos();
    Semaphore slots = new Semaphore(concurrency);
    List<CompletableFuture<TaskResult>> now = new ArrayList<>(slice.size());
    for (TaskWorkload.Plan p : slice) {
      slots.acquire();
      TaskSpec s = workload.spec(p, o.priority(), run.mode.equals("static"), run.mode.equals("penumbra"));
      TimedContext.Times t = new TimedContext.Times();
      run.times.add(t);
      now.add(run.executor.submit(s, TimedContext.timed(workload.body(p), t)).whenComplete((r, e) -> slots.release()));
    }
    CompletableFuture.allOf(now.toArray(CompletableFuture[]::new)).get(30, TimeUnit.MINUTES);
    run.results.addAll(now);
    run.wallNanos += System.nanoTime() - t0;
    run.samplerNanos += run.executor.stats().samplerCpuNanos() - sampler0;
  }

  private static Point point(ModeRun run, double load, long seed, int concurrency, int tasks,
      Map<String, double[]> latencies) {
    String mode = run.mode;
    TaskStats stats = run.executor.stats();
    String acting = mode.equals("penumbra") ? run.executor.loopStats().guard().acting().label() : "-";
    List<CompletableFuture<TaskResult>> results = run.results;
    List<TimedContext.Times> times = run.times;
    double wall = run.wallNanos / 1e9;
    double[] byTask = results.stream().mapToDouble(f -> f.join().latency().toNanos() / 1e6).toArray();
    latencies.put(Result.key(seed, load, mode), byTask);
    double[] latency = byTask.clone();
    java.util.Arrays.sort(latency);
    double[] admission = new double[byTask.length];
    double[] memory = new double[byTask.length];
    for (int i = 0; i < byTask.length; i++) {
      admission[i] = times.get(i).admissionMs(byTask[i]);
      memory[i] = times.get(i).memoryMs();
    }
    // The tail: what the tasks at or above the p95 latency spent their time on.
    double p95 = Quantiles.sorted(latency, 0.95);
    double tailAdmission = 0;
    double tailMemory = 0;
    double tailRest = 0;
    int tail = 0;
    for (int i = 0; i < byTask.length; i++) {
      if (byTask[i] >= p95) {
        tail++;
        tailAdmission += admission[i];
        tailMemory += memory[i];
        tailRest += byTask[i] - admission[i] - memory[i];
      }
    }
    double[] stall = results.stream().mapToDouble(f -> f.join().stalled().toNanos() / 1e6).sorted().toArray();
    int failed = (int) results.stream().filter(f -> !f.join().succeeded()).count();
    return new Point(seed, load, mode, concurrency, tasks, failed, Quantiles.of(latency, 0.5),
        Quantiles.of(latency, 0.99), (tasks - failed) / wall, Quantiles.of(stall, 0.99),
        stats.misses(), stats.queued(), stats.reservedMemoryByteMillis() / 1000 / (1L << 30),
        stats.usedMemoryByteMillis() / 1000 / (1L << 30), stats.reservedThreadMillis() / 1000,
        stats.usedThreadMillis() / 1000, run.samplerNanos / 1e9 / wall, wall, acting,
        Quantiles.of(admission, 0.99), Quantiles.of(memory, 0.99), tailAdmission / tail, tailMemory / tail,
        tailRest / tail);
  }
}
