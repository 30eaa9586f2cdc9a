package dev.penumbra.cli;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.ledger.Ledger;
import dev.penumbra.task.Signal;
import dev.penumbra.task.TaskExecutor;
import dev.penumbra.task.TaskModel;
import dev.penumbra.task.TaskProfile;
import dev.penumbra.task.TaskResult;
import dev.penumbra.task.TaskSpec;
import dev.penumbra.task.TaskStats;
import java.io.IOException;
import java.io.PrintStream;
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
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.ExecutionException;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code penumbra bench task}: runs the same phased task workload three ways — Penumbra's shadows (forecast and
 * warm), reactive allocation (grant on request) and static per-task allocation (each task gets its type's peak
 * at admission) — then measures the shadows' overhead with many concurrent tasks and the model's step cost.
 */
@Command(
    name = "task",
    mixinStandardHelpOptions = true,
    description =
      "Runs phased JVM tasks (ramping memory, CPU bursts, IO phases; three types, some tasks deviating) with "
      + "Penumbra's task shadows, reactive allocation and static allocation, and measures the shadows' overhead.")
final class BenchTaskCommand implements Callable<Integer> {

  /** p99 latency at most this share of reactive's. */
  static final double TARGET_P99_RATIO = 0.7;
  /** Reserved resource-time at most this multiple of reactive's. */
  static final double TARGET_RESERVED_RATIO = 1.2;
  /** Shadow overhead at the overhead run, share of one core. */
  static final double TARGET_OVERHEAD = 0.01;
  /** Model step, microseconds. */
  static final double TARGET_STEP_MICROS = 20;
  static final List<String> MODES = List.of("penumbra", "reactive", "static");

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  private Priority parsedPriority = Priority.STANDARD;

  @Option(names = "--tasks", paramLabel = "N", defaultValue = "600",
      description = "Tasks per mode. Default: ${DEFAULT-VALUE}.")
  int tasks;

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "60",
      description = "Tasks per mode run first and not measured (JIT, heap growth). Default: ${DEFAULT-VALUE}.")
  int warmup;

  @Option(names = "--concurrency", paramLabel = "N", defaultValue = "8",
      description = "Tasks running at once. Default: ${DEFAULT-VALUE}.")
  int concurrency;

  @Option(names = "--interval", paramLabel = "MS", defaultValue = "10",
      description = "Sampling interval in milliseconds (1-1000). Default: ${DEFAULT-VALUE}.")
  int interval;

  @Option(names = "--grace", paramLabel = "MS", defaultValue = "100",
      description = "Grace period of unused reservations in milliseconds (0-3600000). Default: ${DEFAULT-VALUE}.")
  int grace;

  @Option(names = "--horizon", paramLabel = "MS", defaultValue = "50",
      description = "Forecast horizon (how far ahead to warm) in milliseconds (1-3600000). Default: ${DEFAULT-VALUE}.")
  int horizon;

  @Option(names = "--priority", paramLabel = "critical|standard|batch", defaultValue = "standard",
      description = "Priority of the tasks: the quantile warm-ups are sized at (p99, p90, p50). Default: ${DEFAULT-VALUE}.")
  String priority;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "Workload seed. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(names = "--overhead-tasks", paramLabel = "N", defaultValue = "1000",
      description = "Concurrent tasks of the overhead run (0 skips it). Default: ${DEFAULT-VALUE}.")
  int overheadTasks;

  @Option(names = "--overhead-seconds", paramLabel = "S", defaultValue = "5",
      description = "Length of each overhead run in seconds (1-600). Default: ${DEFAULT-VALUE}.")
  int overheadSeconds;

  @Option(names = "--format", paramLabel = "table|json", defaultValue = "table",
      description = "Output on stdout. Default: ${DEFAULT-VALUE}.")
  String format;

  /** One mode's figures. */
  record ModeResult(String mode, int tasks, int failed, double p50Ms, double p99Ms, double meanMs, double stallP50Ms,
      double stallP99Ms, double wallSeconds, TaskStats stats) {

    double reservedMemoryGibSeconds() {
      return stats.reservedMemoryByteMillis() / 1000 / (1L << 30);
    }

    double usedMemoryGibSeconds() {
      return stats.usedMemoryByteMillis() / 1000 / (1L << 30);
    }

    double reservedThreadSeconds() {
      return stats.reservedThreadMillis() / 1000;
    }

    double usedThreadSeconds() {
      return stats.usedThreadMillis() / 1000;
    }

    double samplerShareOfCore() {
      return stats.samplerCpuNanos() / 1e9 / wallSeconds;
    }
  }

  /** The overhead run's figures. */
  record Overhead(String label, int tasks, int maxStride, double seconds, long ticks, long taskSteps, long fullSamples,
      long samplerCpuNanos) {

    double shareOfCore() {
      return samplerCpuNanos / 1e9 / seconds;
    }

    double nanosPerTaskStep() {
      return taskSteps == 0 ? Double.NaN : (double) samplerCpuNanos / taskSteps;
    }

    double nanosPerFullSample() {
      return fullSamples == 0 ? Double.NaN : (double) samplerCpuNanos / fullSamples;
    }

    /** Task-steps per second the 10 ms nominal rate asks for, against what the sampler managed. */
    double tickRate() {
      return ticks / seconds;
    }
  }

  @Override
  public Integer call() throws Exception {
    long start = System.nanoTime();
    if (!List.of("table", "json").contains(format)) {
      throw invalid("--format", format, "not one of table, json");
    }
    if (tasks < 1 || tasks > 100_000) {
      throw invalid("--tasks", Integer.toString(tasks), "must be in 1..100000");
    }
    Priority taskPriority;
    try {
      taskPriority = Priority.parse(priority);
    } catch (IllegalArgumentException e) {
      throw invalid("--priority", priority, "not one of critical, standard, batch");
    }
    this.parsedPriority = taskPriority;
    if (warmup < 0 || warmup > 100_000) {
      throw invalid("--warmup", Integer.toString(warmup), "must be in 0..100000");
    }
    if (concurrency < 1 || concurrency > 256) {
      throw invalid("--concurrency", Integer.toString(concurrency), "must be in 1..256");
    }
    if (interval < 1 || interval > 1000) {
      throw invalid("--interval", Integer.toString(interval), "must be in 1..1000");
    }
    if (grace < 0 || grace > 3_600_000) {
      throw invalid("--grace", Integer.toString(grace), "must be in 0..3600000");
    }
    if (horizon < 1 || horizon > 3_600_000) {
      throw invalid("--horizon", Integer.toString(horizon), "must be in 1..3600000");
    }
    if (overheadTasks < 0 || overheadTasks > 10_000) {
      throw invalid("--overhead-tasks", Integer.toString(overheadTasks), "must be in 0..10000");
    }
    if (overheadSeconds < 1 || overheadSeconds > 600) {
      throw invalid("--overhead-seconds", Integer.toString(overheadSeconds), "must be in 1..600");
    }
    // Fallbacks and hook failures are counted in the figures; their log lines would only interleave with them.
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.penumbra.task")).setLevel(Level.ERROR);
    PrintStream err = System.err;
    Path dir = Files.createTempDirectory("penumbra-bench-task");
    TaskWorkload workload = new TaskWorkload(dir);
    List<ModeResult> modes = new ArrayList<>();
    List<Overhead> overheads = new ArrayList<>();
    double stepNanos;
    try {
      List<TaskWorkload.Plan> plans = TaskWorkload.plan(tasks, seed);
      if (warmup > 0) {
        // The JVM's first minutes (JIT, heap growth) would otherwise fall on whichever mode runs first.
        List<TaskWorkload.Plan> warm = TaskWorkload.plan(warmup, seed + 1);
        for (String mode : MODES) {
          runMode(mode + " (warm-up)", mode, warm, workload, err);
        }
      }
      for (String mode : MODES) {
        modes.add(runMode(mode, mode, plans, workload, err));
      }
      if (overheadTasks > 0) {
        overheads.add(overhead("adaptive", 32, err));
        overheads.add(overhead("every tick", 1, err));
      }
      stepNanos = modelStepNanos();
      err.printf(Locale.ROOT, "bench task: model step %.0f ns%n", stepNanos);
    } finally {
      workload.delete();
      Files.deleteIfExists(dir);
    }
    double wall = (System.nanoTime() - start) / 1e9;
    if (format.equals("json")) {
      writeJson(modes, overheads, stepNanos, wall);
    } else {
      writeTable(modes, overheads, stepNanos, wall);
    }
    return 0;
  }

  private ModeResult runMode(String label, String mode, List<TaskWorkload.Plan> plans, TaskWorkload workload,
      PrintStream err)
      throws InterruptedException, ExecutionException, TimeoutException {
    Ledger ledger = Ledger.inMemory(Clock.systemUTC());
    // Room for every task at its peak and its warm-up: the comparison is about grant latency, not queueing.
    ledger.addNode("jvm", Resources.of(concurrency * 8_000L, concurrency * 96L * TaskWorkload.MIB));
    boolean penumbra = mode.equals("penumbra");
    List<CompletableFuture<TaskResult>> results = new ArrayList<>(plans.size());
    long t0 = System.nanoTime();
    TaskStats stats;
    try (TaskExecutor ex = TaskExecutor.builder(ledger, "jvm")
        .interval(Duration.ofMillis(interval))
        .grace(Duration.ofMillis(grace))
        .horizon(Duration.ofMillis(horizon))
        .bucket(Duration.ofMillis(Math.max(10, interval)))
        .warming(penumbra)
        .build()) {
      Semaphore slots = new Semaphore(concurrency);
      int step = Math.max(1, plans.size() / 10);
      for (TaskWorkload.Plan p : plans) {
        slots.acquire();
        TaskSpec s = workload.spec(p, parsedPriority, mode.equals("static"), penumbra);
        results.add(ex.submit(s, workload.body(p)).whenComplete((r, e) -> slots.release()));
        if ((p.index() + 1) % step == 0) {
          err.printf(Locale.ROOT, "bench task: %s %d/%d tasks submitted%n", label, p.index() + 1, plans.size());
        }
      }
      CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
      stats = ex.stats();
    }
    double wall = (System.nanoTime() - t0) / 1e9;
    double[] latency = results.stream().mapToDouble(f -> f.join().latency().toNanos() / 1e6).sorted().toArray();
    double[] stall = results.stream().mapToDouble(f -> f.join().stalled().toNanos() / 1e6).sorted().toArray();
    int failed = (int) results.stream().filter(f -> !f.join().succeeded()).count();
    ModeResult r = new ModeResult(mode, plans.size(), failed, quantile(latency, 0.5), quantile(latency, 0.99),
        Arrays.stream(latency).average().orElse(Double.NaN), quantile(stall, 0.5), quantile(stall, 0.99), wall, stats);
    err.printf(Locale.ROOT, "bench task: %s done in %.1fs, p50 %.1f ms, p99 %.1f ms%n", label, wall, r.p50Ms(), r.p99Ms());
    return r;
  }

  /** Many parked tasks under the sampler at {@code --interval}: what the shadows cost when nothing else runs. */
  private Overhead overhead(String label, int maxStride, PrintStream err)
      throws InterruptedException, ExecutionException, TimeoutException {
    err.printf(Locale.ROOT, "bench task: overhead run '%s', %d tasks for %ds%n", label, overheadTasks, overheadSeconds);
    Ledger ledger = Ledger.inMemory(Clock.systemUTC());
    ledger.addNode("jvm", Resources.of(overheadTasks * 1000L + 1000, 1L << 30));
    CountDownLatch started = new CountDownLatch(overheadTasks);
    CountDownLatch stop = new CountDownLatch(1);
    List<CompletableFuture<TaskResult>> results = new ArrayList<>();
    TaskStats before;
    TaskStats after;
    long t0;
    long t1;
    try (TaskExecutor ex = TaskExecutor.builder(ledger, "jvm")
        .interval(Duration.ofMillis(interval))
        .maxStride(maxStride)
        .build()) {
      for (int i = 0; i < overheadTasks; i++) {
        results.add(ex.submit(TaskSpec.of("parked", Priority.BATCH), ctx -> {
          started.countDown();
          stop.await();
        }));
      }
      started.await(60, TimeUnit.SECONDS);
      Thread.sleep(500);
      before = ex.stats();
      t0 = System.nanoTime();
      Thread.sleep(overheadSeconds * 1000L);
      after = ex.stats();
      t1 = System.nanoTime();
      stop.countDown();
      CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    }
    Overhead o = new Overhead(label, overheadTasks, maxStride, (t1 - t0) / 1e9, after.ticks() - before.ticks(),
        after.taskSteps() - before.taskSteps(), after.fullSamples() - before.fullSamples(),
        after.samplerCpuNanos() - before.samplerCpuNanos());
    err.printf(Locale.ROOT, "bench task: overhead '%s': %.2f%% of one core, %.0f ns per task-step%n",
        label, 100 * o.shareOfCore(), o.nanosPerTaskStep());
    return o;
  }

  /** Mean cost of one model step (observe + forecast) on a trained profile, measured in process. */
  static double modelStepNanos() {
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

  static double quantile(double[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  private ModeResult mode(List<ModeResult> modes, String name) {
    return modes.stream().filter(m -> m.mode().equals(name)).findFirst().orElseThrow();
  }

  private Map<String, double[]> targets(List<ModeResult> modes, List<Overhead> overheads, double stepNanos) {
    ModeResult p = mode(modes, "penumbra");
    ModeResult r = mode(modes, "reactive");
    Map<String, double[]> t = new LinkedHashMap<>();
    t.put("p99_latency_to_reactive", new double[] {TARGET_P99_RATIO, p.p99Ms() / r.p99Ms()});
    t.put("reserved_memory_to_reactive", new double[] {TARGET_RESERVED_RATIO,
        p.reservedMemoryGibSeconds() / r.reservedMemoryGibSeconds()});
    t.put("reserved_threads_to_reactive", new double[] {TARGET_RESERVED_RATIO,
        p.reservedThreadSeconds() / r.reservedThreadSeconds()});
    if (!overheads.isEmpty()) {
      t.put("shadow_overhead_share_of_core", new double[] {TARGET_OVERHEAD, overheads.get(0).shareOfCore()});
    }
    t.put("model_step_micros", new double[] {TARGET_STEP_MICROS, stepNanos / 1000});
    return t;
  }

  private void writeTable(List<ModeResult> modes, List<Overhead> overheads, double stepNanos, double wall) {
    PrintStream out = System.out;
    out.printf(Locale.ROOT, "Task benchmark: %d %s tasks per mode, %d at once, sampling every %d ms, horizon %d ms, grace %d ms, seed %d%n%n",
        tasks, parsedPriority.label(), concurrency, interval, horizon, grace, seed);
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"mode", "p50 ms", "p99 ms", "mean ms", "stall p50", "stall p99", "hits", "misses",
        "mem GiB*s res/used", "threads s res/used", "warmed", "warm used", "grace rel.", "queued", "failed",
        "sampler % core"});
    for (ModeResult m : modes) {
      TaskStats s = m.stats();
      rows.add(new String[] {m.mode(), f1(m.p50Ms()), f1(m.p99Ms()), f1(m.meanMs()), f1(m.stallP50Ms()),
          f1(m.stallP99Ms()), Long.toString(s.hits()), Long.toString(s.misses()),
          String.format(Locale.ROOT, "%.2f / %.2f", m.reservedMemoryGibSeconds(), m.usedMemoryGibSeconds()),
          String.format(Locale.ROOT, "%.1f / %.1f", m.reservedThreadSeconds(), m.usedThreadSeconds()),
          Long.toString(s.warmed()), Long.toString(s.warmUsed()), Long.toString(s.graceReleases()),
          Long.toString(s.queued()), Integer.toString(m.failed()),
          String.format(Locale.ROOT, "%.3f", 100 * m.samplerShareOfCore())});
    }
    out.print(BenchReplayCommand.aligned(rows));
    out.println();
    if (!overheads.isEmpty()) {
      List<String[]> o = new ArrayList<>();
      o.add(new String[] {"overhead run", "tasks", "max stride", "ticks/s", "full samples/s", "% of one core",
          "ns per task-step", "ns per full sample"});
      for (Overhead h : overheads) {
        o.add(new String[] {h.label(), Integer.toString(h.tasks()), Integer.toString(h.maxStride()),
            f1(h.tickRate()), f1(h.fullSamples() / h.seconds()), String.format(Locale.ROOT, "%.3f", 100 * h.shareOfCore()),
            String.format(Locale.ROOT, "%.0f", h.nanosPerTaskStep()),
            String.format(Locale.ROOT, "%.0f", h.nanosPerFullSample())});
      }
      out.print(BenchReplayCommand.aligned(o));
      out.println();
    }
    out.printf(Locale.ROOT, "model step (observe + forecast, 5 signals): %.0f ns%n", stepNanos);
    targets(modes, overheads, stepNanos).forEach((name, v) -> out.printf(Locale.ROOT,
        "target: %s <= %s: %s (%s)%n", name, g(v[0]), g(v[1]), v[1] <= v[0] ? "met" : "not met"));
    out.printf(Locale.ROOT, "wall time: %.1f s%n", wall);
    out.flush();
  }

  private void writeJson(List<ModeResult> modes, List<Overhead> overheads, double stepNanos, double wall)
      throws IOException {
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = mapper.createObjectNode();
    root.put("tasks", tasks);
    root.put("warmup_tasks", warmup);
    root.put("concurrency", concurrency);
    root.put("interval_ms", interval);
    root.put("grace_ms", grace);
    root.put("horizon_ms", horizon);
    root.put("priority", parsedPriority.label());
    root.put("seed", seed);
    root.put("wall_seconds", wall);
    ObjectNode ms = root.putObject("modes");
    for (ModeResult m : modes) {
      TaskStats s = m.stats();
      ObjectNode o = ms.putObject(m.mode());
      o.put("tasks", m.tasks());
      o.put("failed", m.failed());
      put(o, "latency_p50_ms", m.p50Ms());
      put(o, "latency_p99_ms", m.p99Ms());
      put(o, "latency_mean_ms", m.meanMs());
      put(o, "stall_p50_ms", m.stallP50Ms());
      put(o, "stall_p99_ms", m.stallP99Ms());
      o.put("hits", s.hits());
      o.put("misses", s.misses());
      o.put("warmed", s.warmed());
      o.put("warm_used", s.warmUsed());
      o.put("warm_denied", s.warmDenied());
      o.put("warm_helped", s.warmHelped());
      o.put("grace_releases", s.graceReleases());
      o.put("queued", s.queued());
      o.put("degraded", s.degraded());
      o.put("rejected", s.rejected());
      o.put("hook_failures", s.hookFailures());
      put(o, "reserved_memory_gib_seconds", m.reservedMemoryGibSeconds());
      put(o, "used_memory_gib_seconds", m.usedMemoryGibSeconds());
      put(o, "reserved_thread_seconds", m.reservedThreadSeconds());
      put(o, "used_thread_seconds", m.usedThreadSeconds());
      put(o, "sampler_share_of_core", m.samplerShareOfCore());
      put(o, "wall_seconds", m.wallSeconds());
    }
    var oa = root.putArray("overhead");
    for (Overhead h : overheads) {
      ObjectNode o = oa.addObject();
      o.put("label", h.label());
      o.put("tasks", h.tasks());
      o.put("max_stride", h.maxStride());
      put(o, "seconds", h.seconds());
      o.put("ticks", h.ticks());
      o.put("task_steps", h.taskSteps());
      o.put("full_samples", h.fullSamples());
      put(o, "share_of_core", h.shareOfCore());
      put(o, "nanos_per_task_step", h.nanosPerTaskStep());
      put(o, "nanos_per_full_sample", h.nanosPerFullSample());
    }
    put(root, "model_step_nanos", stepNanos);
    ObjectNode t = root.putObject("targets");
    targets(modes, overheads, stepNanos).forEach((name, v) -> {
      ObjectNode o = t.putObject(name);
      o.put("target", v[0]);
      put(o, "value", v[1]);
      o.put("met", v[1] <= v[0]);
    });
    System.out.println(mapper.writeValueAsString(root));
    System.out.flush();
  }

  private static void put(ObjectNode o, String field, double v) {
    if (Double.isFinite(v)) {
      o.put(field, v);
    } else {
      o.putNull(field);
    }
  }

  private static String f1(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  private static String g(double v) {
    return String.format(Locale.ROOT, "%.3g", v);
  }

  private ParameterException invalid(String option, String value, String why) {
    return new ParameterException(spec.commandLine(),
        String.format(Locale.ROOT, "Invalid value for option '%s': '%s' (%s)", option, value, why));
  }
}
