package dev.penumbra.eval.task;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.eval.report.Quantiles;
import dev.penumbra.eval.report.Target;
import dev.penumbra.task.Signal;
import dev.penumbra.task.TaskExecutor;
import dev.penumbra.task.TaskModel;
import dev.penumbra.task.TaskProfile;
import dev.penumbra.task.TaskResult;
import dev.penumbra.task.TaskSpec;
import dev.penumbra.task.TaskStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * {@code penumbra bench task}: runs the same phased task workload ({@link TaskWorkload}) three ways — Penumbra's
 * shadows (forecast and warm), reactive allocation (grant on request, the baseline) and static per-task
 * allocation (each task gets its type's peak at admission, the other baseline) — then measures the shadows'
 * overhead with many concurrent tasks and the model's step cost. See docs/benchmarks.md, "Task".
 */
public final class TaskBench {
  private TaskBench() {}

  /** p99 latency at most this share of reactive's. */
  public static final double TARGET_P99_RATIO = 0.7;
  /** Reserved resource-time at most this multiple of reactive's. */
  public static final double TARGET_RESERVED_RATIO = 1.2;
  /** Shadow overhead at the overhead run, share of one core. */
  public static final double TARGET_OVERHEAD = 0.01;
  /** Model step, microseconds. */
  public static final double TARGET_STEP_MICROS = 20;
  /** The modes, in the order they run: the product, then the two baselines. */
  public static final List<String> MODES = List.of("penumbra", "reactive", "static");

  /**
   * What to run.
   *
   * @param tasks tasks per mode
   * @param warmup tasks per mode run first and not measured (JIT, heap growth)
   * @param concurrency tasks running at once
   * @param intervalMillis the sampling interval
   * @param graceMillis grace period of unused reservations
   * @param horizonMillis forecast horizon (how far ahead to warm)
   * @param priority the tasks' priority: the quantile warm-ups are sized at
   * @param seed workload seed
   * @param overheadTasks concurrent tasks of the overhead run (0 skips it)
   * @param overheadSeconds length of each overhead run
   */
  public record Options(int tasks, int warmup, int concurrency, int intervalMillis, int graceMillis,
      int horizonMillis, Priority priority, long seed, int overheadTasks, int overheadSeconds) {
    public Options {
      check("tasks", tasks, 1, 100_000);
      check("warmup", warmup, 0, 100_000);
      check("concurrency", concurrency, 1, 256);
      check("interval", intervalMillis, 1, 1000);
      check("grace", graceMillis, 0, 3_600_000);
      check("horizon", horizonMillis, 1, 3_600_000);
      check("overhead tasks", overheadTasks, 0, 10_000);
      check("overhead seconds", overheadSeconds, 1, 600);
      if (priority == null) {
        throw new IllegalArgumentException("priority must be set");
      }
    }

    static void check(String name, int value, int min, int max) {
      if (value < min || value > max) {
        throw new IllegalArgumentException(name + " must be in " + min + ".." + max + ", was " + value);
      }
    }
  }

  /** One mode's figures. */
  public record ModeResult(String mode, int tasks, int failed, double p50Ms, double p99Ms, double meanMs,
      double stallP50Ms, double stallP99Ms, double wallSeconds, TaskStats stats) {

    public double reservedMemoryGibSeconds() {
      return stats.reservedMemoryByteMillis() / 1000 / (1L << 30);
    }

    public double usedMemoryGibSeconds() {
      return stats.usedMemoryByteMillis() / 1000 / (1L << 30);
    }

    public double reservedThreadSeconds() {
      return stats.reservedThreadMillis() / 1000;
    }

    public double usedThreadSeconds() {
      return stats.usedThreadMillis() / 1000;
    }

    public double samplerShareOfCore() {
      return stats.samplerCpuNanos() / 1e9 / wallSeconds;
    }
  }

  /** The overhead run's figures. */
  public record Overhead(String label, int tasks, int maxStride, double seconds, long ticks, long taskSteps,
      long fullSamples, long samplerCpuNanos) {

    public double shareOfCore() {
      return samplerCpuNanos / 1e9 / seconds;
    }

    public double nanosPerTaskStep() {
      return taskSteps == 0 ? Double.NaN : (double) samplerCpuNanos / taskSteps;
    }

    public double nanosPerFullSample() {
      return fullSamples == 0 ? Double.NaN : (double) samplerCpuNanos / fullSamples;
    }

    /** Task-steps per second the 10 ms nominal rate asks for, against what the sampler managed. */
    public double tickRate() {
      return ticks / seconds;
    }
  }

  /** Everything one run measured. */
  public record Result(Options options, List<ModeResult> modes, List<Overhead> overheads, double modelStepNanos) {
    public Result {
      modes = List.copyOf(modes);
      overheads = List.copyOf(overheads);
    }

    public ModeResult mode(String name) {
      return modes.stream().filter(m -> m.mode().equals(name)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("no mode '" + name + "' in this run"));
    }

    /** The targets by name (snake_case, as the table prints them), in a fixed order. */
    public Map<String, Target> targets() {
      ModeResult p = mode("penumbra");
      ModeResult r = mode("reactive");
      Map<String, Target> t = new LinkedHashMap<>();
      t.put("p99_latency_to_reactive", Target.atMost(TARGET_P99_RATIO, p.p99Ms() / r.p99Ms()));
      t.put("reserved_memory_to_reactive", Target.atMost(TARGET_RESERVED_RATIO,
          p.reservedMemoryGibSeconds() / r.reservedMemoryGibSeconds()));
      t.put("reserved_threads_to_reactive", Target.atMost(TARGET_RESERVED_RATIO,
          p.reservedThreadSeconds() / r.reservedThreadSeconds()));
      if (!overheads.isEmpty()) {
        t.put("shadow_overhead_share_of_core", Target.atMost(TARGET_OVERHEAD, overheads.get(0).shareOfCore()));
      }
      t.put("model_step_micros", Target.atMost(TARGET_STEP_MICROS, modelStepNanos / 1000));
      return t;
    }
  }

  /**
   * Runs every mode (after the warm-up), the overhead runs and the model step.
   *
   * @param progress one line at a time, for a person watching (stderr)
   */
  public static Result run(Options o, Consumer<String> progress)
      throws IOException, InterruptedException, ExecutionException, TimeoutException {
    Path dir = Files.createTempDirectory("penumbra-bench-task");
    TaskWorkload workload = new TaskWorkload(dir);
    List<ModeResult> modes = new ArrayList<>();
    List<Overhead> overheads = new ArrayList<>();
    double stepNanos;
    try {
      List<TaskWorkload.Plan> plans = TaskWorkload.plan(o.tasks(), o.seed());
      if (o.warmup() > 0) {
        // The JVM's first minutes (JIT, heap growth) would otherwise fall on whichever mode runs first.
        List<TaskWorkload.Plan> warm = TaskWorkload.plan(o.warmup(), o.seed() + 1);
        for (String mode : MODES) {
          runMode(o, mode + " (warm-up)", mode, warm, workload, progress);
        }
      }
      for (String mode : MODES) {
        modes.add(runMode(o, mode, mode, plans, workload, progress));
      }
      if (o.overheadTasks() > 0) {
        overheads.add(overhead(o, "adaptive", 32, progress));
        overheads.add(overhead(o, "every tick", 1, progress));
      }
      stepNanos = modelStepNanos();
      progress.accept(String.format(Locale.ROOT, "model step %.0f ns", stepNanos));
    } finally {
      workload.delete();
      Files.deleteIfExists(dir);
    }
    return new Result(o, modes, overheads, stepNanos);
  }

  private static ModeResult runMode(Options o, String label, String mode, List<TaskWorkload.Plan> plans,
      TaskWorkload workload, Consumer<String> progress)
      throws InterruptedException, ExecutionException, TimeoutException {
    Ledger ledger = Ledger.inMemory(Clock.systemUTC());
    // Room for every task at its peak and its warm-up: the comparison is about grant latency, not queueing.
    ledger.addNode("jvm", Resources.of(o.concurrency() * 8_000L, o.concurrency() * 96L * TaskWorkload.MIB));
    boolean penumbra = mode.equals("penumbra");
    List<CompletableFuture<TaskResult>> results = new ArrayList<>(plans.size());
    long t0 = System.nanoTime();
    TaskStats stats;
    try (TaskExecutor ex = TaskExecutor.builder(ledger, "jvm")
        .interval(Duration.ofMillis(o.intervalMillis()))
        .grace(Duration.ofMillis(o.graceMillis()))
        .horizon(Duration.ofMillis(o.horizonMillis()))
        .bucket(Duration.ofMillis(Math.max(10, o.intervalMillis())))
        .warming(penumbra)
        .build()) {
      Semaphore slots = new Semaphore(o.concurrency());
      int step = Math.max(1, plans.size() / 10);
      for (TaskWorkload.Plan p : plans) {
        slots.acquire();
        TaskSpec s = workload.spec(p, o.priority(), mode.equals("static"), penumbra);
        results.add(ex.submit(s, workload.body(p)).whenComplete((r, e) -> slots.release()));
        if ((p.index() + 1) % step == 0) {
          progress.accept(String.format(Locale.ROOT, "%s %d/%d tasks submitted", label, p.index() + 1,
              plans.size()));
        }
      }
      CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
      stats = ex.stats();
    }
    double wall = (System.nanoTime() - t0) / 1e9;
    double[] latency = results.stream().mapToDouble(f -> f.join().latency().toNanos() / 1e6).sorted().toArray();
    double[] stall = results.stream().mapToDouble(f -> f.join().stalled().toNanos() / 1e6).sorted().toArray();
    int failed = (int) results.stream().filter(f -> !f.join().succeeded()).count();
    ModeResult r = new ModeResult(mode, plans.size(), failed, Quantiles.of(latency, 0.5), Quantiles.of(latency, 0.99),
        Arrays.stream(latency).average().orElse(Double.NaN), Quantiles.of(stall, 0.5), Quantiles.of(stall, 0.99), wall,
        stats);
    progress.accept(String.format(Locale.ROOT, "%s done in %.1fs, p50 %.1f ms, p99 %.1f ms", label, wall,
        r.p50Ms(), r.p99Ms()));
    return r;
  }

  /** Many parked tasks under the sampler at the interval: what the shadows cost when nothing else runs. */
  private static Overhead overhead(Options o, String label, int maxStride, Consumer<String> progress)
      throws InterruptedException, ExecutionException, TimeoutException {
    progress.accept(String.format(Locale.ROOT, "overhead run '%s', %d tasks for %ds", label, o.overheadTasks(),
        o.overheadSeconds()));
    Ledger ledger = Ledger.inMemory(Clock.systemUTC());
    ledger.addNode("jvm", Resources.of(o.overheadTasks() * 1000L + 1000, 1L << 30));
    CountDownLatch started = new CountDownLatch(o.overheadTasks());
    CountDownLatch stop = new CountDownLatch(1);
    List<CompletableFuture<TaskResult>> results = new ArrayList<>();
    TaskStats before;
    TaskStats after;
    long t0;
    long t1;
    try (TaskExecutor ex = TaskExecutor.builder(ledger, "jvm")
        .interval(Duration.ofMillis(o.intervalMillis()))
        .maxStride(maxStride)
        .build()) {
      for (int i = 0; i < o.overheadTasks(); i++) {
        results.add(ex.submit(TaskSpec.of("parked", Priority.BATCH), ctx -> {
          started.countDown();
          stop.await();
        }));
      }
      started.await(60, TimeUnit.SECONDS);
      // A measurement over real time: the sampler's own cost per second of wall time is the figure.
      Thread.sleep(500);
      before = ex.stats();
      t0 = System.nanoTime();
      Thread.sleep(o.overheadSeconds() * 1000L);
      after = ex.stats();
      t1 = System.nanoTime();
      stop.countDown();
      CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    }
    Overhead h = new Overhead(label, o.overheadTasks(), maxStride, (t1 - t0) / 1e9, after.ticks() - before.ticks(),
        after.taskSteps() - before.taskSteps(), after.fullSamples() - before.fullSamples(),
        after.samplerCpuNanos() - before.samplerCpuNanos());
    progress.accept(String.format(Locale.ROOT, "overhead '%s': %.2f%% of one core, %.0f ns per task-step",
        label, 100 * h.shareOfCore(), h.nanosPerTaskStep()));
    return h;
  }

  /** Mean cost of one model step (observe + forecast) on a trained profile, measured in process. */
  public static double modelStepNanos() {
    TaskProfile profile = new TaskProfile("step", Duration.ofMillis(10));
    double[] peaks = new double[40 * Signal.values().length];
    for (int i = 0; i < peaks.length; i++) {
      peaks[i] = (i * 7919) % 100;
    }
    for (int i = 0; i < 10; i++) {
      profile.record(peaks);
    }
    TaskModel m = new TaskModel(profile, Duration.ofMillis(50), Priority.STANDARD);
    double[] v = new double[Signal.values().length];
    long t = 0;
    double sink = 0;
    long best = Long.MAX_VALUE;
    int n = 200_000;
    for (int round = 0; round < 5; round++) {
      long s = System.nanoTime();
      for (int i = 0; i < n; i++) {
        t += 10;
        v[2] = (i % 40) * 1000;
        m.observe(t, t % 400, v);
        m.forecast();
        sink += m.upper(Signal.MEMORY);
      }
      best = Math.min(best, System.nanoTime() - s);
    }
    if (sink < 0) {
      throw new AssertionError();
    }
    return (double) best / n;
  }

  /** Nearest-rank quantile of sorted values (NaN when empty). */
}
