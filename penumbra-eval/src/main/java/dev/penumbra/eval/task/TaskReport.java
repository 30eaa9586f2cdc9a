package dev.penumbra.eval.task;

import dev.penumbra.eval.report.BenchReport;
import dev.penumbra.eval.report.Keys;
import dev.penumbra.eval.report.Tables;
import dev.penumbra.eval.report.Target;
import dev.penumbra.eval.task.TaskBench.ModeResult;
import dev.penumbra.eval.task.TaskBench.Overhead;
import dev.penumbra.eval.task.TaskBench.Result;
import dev.penumbra.task.TaskStats;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What {@code penumbra bench task} prints: a table for a person, or one JSON document ({@link #json}). */
public record TaskReport(Result result, TaskSweep.Result sweep, double wallSeconds) implements BenchReport {

  /** A run without a load sweep. */
  public TaskReport(Result result, double wallSeconds) {
    this(result, null, wallSeconds);
  }

  @Override
  public Json json() {
    return json(result, sweep, wallSeconds);
  }

  @Override
  public void table(PrintStream out) {
    table(result, wallSeconds, out);
    if (sweep != null) {
      sweepTable(sweep, out);
    }
  }

  /** The JSON document: the options, each mode's figures by mode, the overhead runs, the targets by name. */
  public record Json(int tasks, int warmupTasks, int concurrency, int intervalMs, int graceMs, int horizonMs,
      String priority, long seed, double wallSeconds, Map<String, Mode> modes, List<OverheadRun> overhead,
      double modelStepNanos, Map<String, Target> targets, Sweep sweep) {}

  /** The load sweep in the JSON document (null when none ran): every level and mode, the targets by name. */
  public record Sweep(String node, List<Long> seeds, List<TaskSweep.Point> points, Map<String, Target> targets) {

    static Sweep of(TaskSweep.Result s) {
      if (s == null) {
        return null;
      }
      Map<String, Target> targets = new LinkedHashMap<>();
      s.targets().forEach((name, t) -> targets.put(Keys.camel(name), t));
      return new Sweep(TaskSweep.NODE.toString(), s.options().seeds(), s.points(), targets);
    }
  }

  /** One mode in the JSON document. */
  public record Mode(int tasks, int failed, double latencyP50Ms, double latencyP99Ms, double latencyMeanMs,
      double stallP50Ms, double stallP99Ms, long hits, long misses, long warmed, long warmUsed, long warmDenied,
      long warmHelped, long graceReleases, long queued, long degraded, long rejected, long hookFailures,
      double reservedMemoryGibSeconds, double usedMemoryGibSeconds, double reservedThreadSeconds,
      double usedThreadSeconds, double samplerShareOfCore, double wallSeconds) {

    static Mode of(ModeResult m) {
      TaskStats s = m.stats();
      return new Mode(m.tasks(), m.failed(), m.p50Ms(), m.p99Ms(), m.meanMs(), m.stallP50Ms(), m.stallP99Ms(),
          s.hits(), s.misses(), s.warmed(), s.warmUsed(), s.warmDenied(), s.warmHelped(), s.graceReleases(),
          s.queued(), s.degraded(), s.rejected(), s.hookFailures(), m.reservedMemoryGibSeconds(),
          m.usedMemoryGibSeconds(), m.reservedThreadSeconds(), m.usedThreadSeconds(), m.samplerShareOfCore(),
          m.wallSeconds());
    }
  }

  /** One overhead run in the JSON document. */
  public record OverheadRun(String label, int tasks, int maxStride, double seconds, long ticks, long taskSteps,
      long fullSamples, double shareOfCore, double nanosPerTaskStep, double nanosPerFullSample) {

    static OverheadRun of(Overhead h) {
      return new OverheadRun(h.label(), h.tasks(), h.maxStride(), h.seconds(), h.ticks(), h.taskSteps(),
          h.fullSamples(), h.shareOfCore(), h.nanosPerTaskStep(), h.nanosPerFullSample());
    }
  }

  /** The run as the JSON document; {@code wallSeconds} is the whole command's time. */
  public static Json json(Result r, double wallSeconds) {
    return json(r, null, wallSeconds);
  }

  /** The run and its load sweep (null when none ran) as the JSON document. */
  public static Json json(Result r, TaskSweep.Result sweep, double wallSeconds) {
    TaskBench.Options o = r.options();
    Map<String, Mode> modes = new LinkedHashMap<>();
    r.modes().forEach(m -> modes.put(m.mode(), Mode.of(m)));
    Map<String, Target> targets = new LinkedHashMap<>();
    r.targets().forEach((name, t) -> targets.put(Keys.camel(name), t));
    return new Json(o.tasks(), o.warmup(), o.concurrency(), o.intervalMillis(), o.graceMillis(), o.horizonMillis(),
        o.priority().label(), o.seed(), wallSeconds, modes, r.overheads().stream().map(OverheadRun::of).toList(),
        r.modelStepNanos(), targets, Sweep.of(sweep));
  }

  /** The run as tables and one line per target. */
  public static void table(Result r, double wallSeconds, PrintStream out) {
    TaskBench.Options opt = r.options();
    out.printf(Locale.ROOT, "Task benchmark: %d %s tasks per mode, %d at once, sampling every %d ms, horizon %d ms,"
        + " grace %d ms, seed %d%n%n", opt.tasks(), opt.priority().label(), opt.concurrency(), opt.intervalMillis(),
        opt.horizonMillis(), opt.graceMillis(), opt.seed());
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"mode", "p50 ms", "p99 ms", "mean ms", "stall p50", "stall p99", "hits", "misses",
        "mem GiB*s res/used", "threads s res/used", "warmed", "warm used", "grace rel.", "queued", "failed",
        "sampler % core"});
    for (ModeResult m : r.modes()) {
      TaskStats s = m.stats();
      rows.add(new String[] {m.mode(), f1(m.p50Ms()), f1(m.p99Ms()), f1(m.meanMs()), f1(m.stallP50Ms()),
          f1(m.stallP99Ms()), Long.toString(s.hits()), Long.toString(s.misses()),
          String.format(Locale.ROOT, "%.2f / %.2f", m.reservedMemoryGibSeconds(), m.usedMemoryGibSeconds()),
          String.format(Locale.ROOT, "%.1f / %.1f", m.reservedThreadSeconds(), m.usedThreadSeconds()),
          Long.toString(s.warmed()), Long.toString(s.warmUsed()), Long.toString(s.graceReleases()),
          Long.toString(s.queued()), Integer.toString(m.failed()),
          String.format(Locale.ROOT, "%.3f", 100 * m.samplerShareOfCore())});
    }
    out.print(Tables.aligned(rows));
    out.println();
    if (!r.overheads().isEmpty()) {
      List<String[]> o = new ArrayList<>();
      o.add(new String[] {"overhead run", "tasks", "max stride", "ticks/s", "full samples/s", "% of one core",
          "ns per task-step", "ns per full sample"});
      for (Overhead h : r.overheads()) {
        o.add(new String[] {h.label(), Integer.toString(h.tasks()), Integer.toString(h.maxStride()),
            f1(h.tickRate()), f1(h.fullSamples() / h.seconds()),
            String.format(Locale.ROOT, "%.3f", 100 * h.shareOfCore()),
            String.format(Locale.ROOT, "%.0f", h.nanosPerTaskStep()),
            String.format(Locale.ROOT, "%.0f", h.nanosPerFullSample())});
      }
      out.print(Tables.aligned(o));
      out.println();
    }
    out.printf(Locale.ROOT, "model step (observe + forecast, 5 signals): %.0f ns%n", r.modelStepNanos());
    r.targets().forEach((name, v) -> out.printf(Locale.ROOT,
        "target: %s <= %s: %s (%s)%n", name, g(v.target()), g(v.value()), v.met() ? "met" : "not met"));
    out.printf(Locale.ROOT, "wall time: %.1f s%n", wallSeconds);
    out.flush();
  }

  /** The load sweep as a table and one line per target. */
  public static void sweepTable(TaskSweep.Result s, PrintStream out) {
    TaskSweep.Options o = s.options();
    out.printf(Locale.ROOT, "%nLoad sweep: node %s, %d %s tasks per level, seed and mode, queue timeout %d ms, seeds %s"
        + "%n%n", TaskSweep.NODE, o.tasks(), o.priority().label(), o.queueTimeoutMillis(), o.seeds());
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"seed", "load", "mode", "at once", "p50 ms", "p99 ms", "tasks/s", "stall p99", "stalls",
        "queued", "failed", "mem GiB*s res/used", "threads s res/used", "shadow % core", "acting", "admit p99",
        "mem wait p99", "tail admit/mem/rest ms"});
    for (TaskSweep.Point p : s.points()) {
      rows.add(new String[] {Long.toString(p.seed()), Double.toString(p.load()), p.mode(),
          Integer.toString(p.concurrency()), f1(p.p50Ms()),
          f1(p.p99Ms()), String.format(Locale.ROOT, "%.2f", p.throughputPerSecond()), f1(p.stallP99Ms()),
          Long.toString(p.stalls()), Long.toString(p.queued()), Integer.toString(p.failed()),
          String.format(Locale.ROOT, "%.2f / %.2f", p.reservedMemoryGibSeconds(), p.usedMemoryGibSeconds()),
          String.format(Locale.ROOT, "%.1f / %.1f", p.reservedThreadSeconds(), p.usedThreadSeconds()),
          String.format(Locale.ROOT, "%.3f", 100 * p.shadowShareOfCore()), p.acting(), f1(p.admissionP99Ms()),
          f1(p.memoryWaitP99Ms()), String.format(Locale.ROOT, "%.0f / %.0f / %.0f", p.tailAdmissionMs(),
              p.tailMemoryWaitMs(), p.tailRestMs())});
    }
    out.print(Tables.aligned(rows));
    out.println();
    List<String[]> ratios = new ArrayList<>();
    ratios.add(new String[] {"load", "p99 ratio", "bound's p99 ratio", "pooled p99 ratio", "bound's pooled",
        "throughput ratio", "reserved memory ratio"});
    for (double load : o.loads()) {
      ratios.add(new String[] {Double.toString(load), spread(s.ratio(load, TaskSweep.Point::p99Ms)),
          spread(s.ratio(load, "unconstrained", TaskSweep.Point::p99Ms)),
          String.format(Locale.ROOT, "%.2f", s.pooledRatio(load, "penumbra")),
          String.format(Locale.ROOT, "%.2f", s.pooledRatio(load, "unconstrained")),
          spread(s.ratio(load, TaskSweep.Point::throughputPerSecond)),
          spread(s.ratio(load, TaskSweep.Point::reservedMemoryGibSeconds))});
    }
    out.println("Penumbra / grant on request and the bound (unconstrained: no task waits for memory) / grant on"
        + " request: per-seed ratios as median over seeds [min, max]; pooled: the p99 of every seed's tasks together:");
    out.print(Tables.aligned(ratios));
    out.println();
    s.targets().forEach((name, v) -> out.printf(Locale.ROOT, "target: %s %s %s: %s (%s)%n", name,
        name.startsWith("throughput") ? ">=" : "<=", g(v.target()), g(v.value()), v.met() ? "met" : "not met"));
    out.flush();
  }

  /** A ratio over seeds as "median [min, max]". */
  static String spread(TaskSweep.Ratio r) {
    return String.format(Locale.ROOT, "%.2f [%.2f, %.2f]", r.median(), r.min(), r.max());
  }

  private static String f1(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  private static String g(double v) {
    return String.format(Locale.ROOT, "%.3g", v);
  }
}
