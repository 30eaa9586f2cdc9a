package dev.penumbra.eval.stream;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.penumbra.eval.report.Tables;
import dev.penumbra.eval.report.Target;
import dev.penumbra.eval.stream.StreamBenchmark.Options;
import dev.penumbra.eval.stream.StreamBenchmark.PartitionInfo;
import dev.penumbra.eval.stream.StreamBenchmark.Result;
import dev.penumbra.eval.stream.StreamBenchmark.ScalerResult;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What {@code penumbra bench stream} prints: a table for a person, or one JSON document ({@link #json}). */
public final class StreamReport {
  private StreamReport() {}

  /** p99 latency at most this share of the reactive scaler's. */
  public static final double TARGET_P99_RATIO = 0.5;
  /** Shadow overhead on primary throughput at most this. */
  public static final double TARGET_OVERHEAD = 0.02;

  /** The JSON document. */
  public record Json(JsonOptions options, List<PartitionInfo> partitions, Map<String, Scaler> scalers,
      Shadow shadow, Map<String, Target> targets, double wallSeconds) {}

  /** The run's options in the JSON document. */
  public record JsonOptions(double speedup, double durationSeconds, double warmupSeconds, int peakWorkers,
      double peakRate, double costMicros, double startDelaySeconds, double samplingRate, long seed) {}

  /** One scaler in the JSON document. */
  public record Scaler(long records, double p50Ms, double p99Ms, long maxBacklog, double workerSeconds,
      long scalingActions, long recordsLost) {}

  /** The shadow's figures; the throughput fields are left out when the overhead run was skipped. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Shadow(long sampled, long dropped, double measuredCostMicros, Double baselineRecordsPerSecond,
      Double withShadowRecordsPerSecond, Double overhead) {}

  /** The targets by name, as the table names them. */
  public static Map<String, Target> targets(Result r) {
    ScalerResult pen = r.scaler(StreamBenchmark.PENUMBRA);
    ScalerResult rea = r.scaler(StreamBenchmark.REACTIVE);
    Map<String, Target> t = new LinkedHashMap<>();
    t.put("p99RatioToReactive", Target.atMost(TARGET_P99_RATIO, pen.p99Millis() / rea.p99Millis()));
    t.put("workerSecondsVsReactive", Target.atMost(rea.workerSeconds(), pen.workerSeconds()));
    long lost = r.scalers().stream().mapToLong(ScalerResult::lost).sum();
    t.put("recordsLost", Target.atMost(0, lost));
    if (r.overhead() != null) {
      t.put("shadowOverhead", Target.atMost(TARGET_OVERHEAD, r.overhead().overhead()));
    }
    return t;
  }

  public static Json json(Result r) {
    Options o = r.options();
    JsonOptions opts = new JsonOptions(o.speedup(), o.durationSeconds(), o.warmupSeconds(), o.peakWorkers(),
        o.peakRate(), o.costMicros(), o.startDelaySeconds(), o.samplingRate(), o.seed());
    Map<String, Scaler> scalers = new LinkedHashMap<>();
    for (ScalerResult s : r.scalers()) {
      scalers.put(s.name(), new Scaler(s.records(), s.p50Millis(), s.p99Millis(), s.maxBacklog(), s.workerSeconds(),
          s.scalingActions(), s.lost()));
    }
    StreamBenchmark.Overhead oh = r.overhead();
    Shadow shadow = new Shadow(r.shadowSampled(), r.shadowDropped(), r.measuredCostMicros(),
        oh == null ? null : oh.baselineRecordsPerSecond(), oh == null ? null : oh.shadowRecordsPerSecond(),
        oh == null ? null : oh.overhead());
    return new Json(opts, r.partitions(), scalers, shadow, targets(r), r.wallSeconds());
  }

  public static void table(Result r, PrintStream out) {
    Options o = r.options();
    out.printf(Locale.ROOT, "Stream scaling benchmark: %d partitions, speedup %s, %s s replayed (%s s warm-up), "
        + "cost %s us/record, start delay %s s, shadow %s%n%n", r.partitions().size(), fmt(o.speedup()),
        fmt(o.durationSeconds()), fmt(o.warmupSeconds()), fmt(o.costMicros()), fmt(o.startDelaySeconds()),
        pct(o.samplingRate()));
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"partition", "steps", "mean rec/s", "peak rec/s", "offset", "mean workers", "peak workers"});
    for (PartitionInfo p : r.partitions()) {
      rows.add(new String[] {p.name(), Integer.toString(p.steps()), fmt1(p.meanRate()), fmt1(p.peakRate()),
          fmt1(p.offset()), Integer.toString(p.meanWorkers()), Integer.toString(p.peakWorkers())});
    }
    out.print(Tables.aligned(rows));
    out.println();
    rows = new ArrayList<>();
    rows.add(new String[] {"scaler", "records", "p50 ms", "p99 ms", "max backlog", "worker-s", "scalings", "lost"});
    for (ScalerResult s : r.scalers()) {
      rows.add(new String[] {s.name(), Long.toString(s.records()), fmt1(s.p50Millis()), fmt1(s.p99Millis()),
          Long.toString(s.maxBacklog()), fmt1(s.workerSeconds()), Long.toString(s.scalingActions()),
          Long.toString(s.lost())});
    }
    out.print(Tables.aligned(rows));
    out.println();
    out.printf(Locale.ROOT, "shadow: %d records sampled, %d dropped, measured %.1f us CPU/record%n",
        r.shadowSampled(), r.shadowDropped(), r.measuredCostMicros());
    if (r.overhead() != null) {
      StreamBenchmark.Overhead oh = r.overhead();
      out.printf(Locale.ROOT, "shadow overhead at %s: %.0f rec/s without, %.0f rec/s with (%s)%n",
          pct(oh.samplingRate()), oh.baselineRecordsPerSecond(), oh.shadowRecordsPerSecond(), pct(oh.overhead()));
    }
    Map<String, Target> t = targets(r);
    Target p99 = t.get("p99RatioToReactive");
    out.printf(Locale.ROOT, "target: penumbra p99 <= %.0f%% of reactive's: %s (%s)%n", TARGET_P99_RATIO * 100,
        pct(p99.value()), met(p99));
    Target ws = t.get("workerSecondsVsReactive");
    out.printf(Locale.ROOT, "target: penumbra worker-seconds <= reactive's: %s vs %s (%s)%n",
        fmt1(ws.value()), fmt1(ws.target()), met(ws));
    Target lost = t.get("recordsLost");
    out.printf(Locale.ROOT, "target: no record lost: %d (%s)%n", (long) lost.value(), met(lost));
    if (r.overhead() != null) {
      Target oh = t.get("shadowOverhead");
      out.printf(Locale.ROOT, "target: shadow overhead <= %s: %s (%s)%n", pct(TARGET_OVERHEAD), pct(oh.value()),
          met(oh));
    }
    out.printf(Locale.ROOT, "wall time: %.1f s%n", r.wallSeconds());
    out.flush();
  }

  private static String met(Target t) {
    return t.met() ? "met" : "not met";
  }

  /** A whole number without a fraction, else as Java prints it. */
  static String fmt(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }

  private static String fmt1(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  private static String pct(double v) {
    return String.format(Locale.ROOT, "%.1f%%", v * 100);
  }
}
