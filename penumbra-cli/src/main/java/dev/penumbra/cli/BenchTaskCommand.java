package dev.penumbra.cli;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.penumbra.core.Priority;
import dev.penumbra.eval.task.TaskBench;
import dev.penumbra.eval.task.TaskBench.ModeResult;
import dev.penumbra.eval.task.TaskBench.Overhead;
import dev.penumbra.eval.task.TaskBench.Result;
import dev.penumbra.task.TaskStats;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
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
    description = {
      "Runs phased JVM tasks (ramping memory, CPU bursts, IO phases; three types, some tasks deviating) with",
      "Penumbra's task shadows, reactive allocation and static allocation, and measures the shadows' overhead."
    })
final class BenchTaskCommand implements Callable<Integer> {

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
    TaskBench.Options o = new TaskBench.Options(tasks, warmup, concurrency, interval, grace, horizon, taskPriority,
        seed, overheadTasks, overheadSeconds);
    Result r = TaskBench.run(o, m -> err.println("bench task: " + m));
    double wall = (System.nanoTime() - start) / 1e9;
    if (format.equals("json")) {
      writeJson(r, wall);
    } else {
      writeTable(r, wall);
    }
    return 0;
  }

  private void writeTable(Result r, double wall) {
    List<ModeResult> modes = r.modes();
    List<Overhead> overheads = r.overheads();
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
    out.printf(Locale.ROOT, "model step (observe + forecast, 5 signals): %.0f ns%n", r.modelStepNanos());
    r.targets().forEach((name, v) -> out.printf(Locale.ROOT,
        "target: %s <= %s: %s (%s)%n", name, g(v.bound()), g(v.value()), v.met() ? "met" : "not met"));
    out.printf(Locale.ROOT, "wall time: %.1f s%n", wall);
    out.flush();
  }

  private void writeJson(Result r, double wall) throws IOException {
    List<ModeResult> modes = r.modes();
    List<Overhead> overheads = r.overheads();
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
    put(root, "model_step_nanos", r.modelStepNanos());
    ObjectNode t = root.putObject("targets");
    r.targets().forEach((name, v) -> {
      ObjectNode o = t.putObject(name);
      o.put("target", v.bound());
      put(o, "value", v.value());
      o.put("met", v.met());
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
