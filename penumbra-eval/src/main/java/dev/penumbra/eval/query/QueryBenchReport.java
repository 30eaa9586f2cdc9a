package dev.penumbra.eval.query;

import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What {@code penumbra bench query} prints: a table for a person, or one JSON document ({@link #json}). */
public final class QueryBenchReport {
  private QueryBenchReport() {}

  public static final double TARGET_QERROR_MEDIAN = 1.5;
  public static final double TARGET_QERROR_P90 = 3;
  public static final double TARGET_OVERHEAD = 0.05;
  public static final double TARGET_CRITICAL_GAIN = 0.3;

  /** The JSON document: every test query, then the summary. */
  public record Json(List<Query> queries, Summary summary) {}

  /** One test query: predicted (model frozen) vs actual. */
  public record Query(String source, boolean heldOut, String sql, String tier, String outcome,
      long predictedPeakMemoryBytes, long actualPeakMemoryBytes, long predictedCpuNanos, long actualCpuNanos,
      long predictedWallNanos, long actualWallNanos, long shadowWallNanos, boolean shadowSkipped, int threads) {

    static Query of(QueryBench.QueryRow q) {
      return new Query(q.source(), q.heldOut(), q.sql(), q.tier(), q.outcome(), q.predictedMemoryBytes(),
          q.actualMemoryBytes(), q.predictedCpuNanos(), q.actualCpuNanos(), q.predictedWallNanos(),
          q.actualWallNanos(), q.shadowWallNanos(), q.shadowSkipped(), q.threads());
    }
  }

  public record Summary(double scale, String engine, int cores, long memoryBudgetBytes, double seconds,
      Accuracy accuracy, double shadowOverheadMedian, double shadowOverheadShadowedMedian, int shadowSkipped,
      List<Mode> endToEnd, Map<String, Boolean> targets) {}

  public record Accuracy(int queries, double memoryQErrorMedian, double memoryQErrorP90, double wallQErrorMedian,
      double wallQErrorP90, double cpuQErrorMedian, double cpuQErrorP90) {}

  public record Mode(String mode, double throughputPerSecond, double makespanSeconds, int completed, int spilled,
      int failedMemory, int otherFailures, Map<String, Latency> latencyMillis) {}

  public record Latency(int queries, double p50, double p95) {}

  public static Json json(QueryBench.Result r) {
    QueryBench.Accuracy a = r.accuracy();
    QueryBench.Overhead o = r.shadowOverhead();
    List<Mode> modes = r.endToEnd().stream().map(m -> {
      Map<String, Latency> lat = new LinkedHashMap<>();
      m.latency().forEach((p, l) -> lat.put(p.label(), new Latency(l.queries(), l.p50Millis(), l.p95Millis())));
      return new Mode(m.name(), m.throughputPerSecond(), m.makespanSeconds(), m.completed(), m.spilled(),
          m.failedMemory(), m.otherFailures(), lat);
    }).toList();
    Summary s = new Summary(r.options().scale(), r.options().engine(), Runtime.getRuntime().availableProcessors(),
        r.options().memoryBudget(), r.seconds(), new Accuracy(a.queries(), a.memoryMedian(), a.memoryP90(),
            a.wallMedian(), a.wallP90(), a.cpuMedian(), a.cpuP90()),
        o.allMedian(), o.shadowedMedian(), o.all() - o.shadowed(), modes, targets(r));
    return new Json(r.queries().stream().map(Query::of).toList(), s);
  }

  /** Each target, met or not, by name. */
  public static Map<String, Boolean> targets(QueryBench.Result r) {
    Map<String, Boolean> t = new LinkedHashMap<>();
    QueryBench.Accuracy a = r.accuracy();
    t.put("qErrorMedianAtMost1.5", a.memoryMedian() <= TARGET_QERROR_MEDIAN && a.wallMedian() <= TARGET_QERROR_MEDIAN);
    t.put("qErrorP90AtMost3", a.memoryP90() <= TARGET_QERROR_P90 && a.wallP90() <= TARGET_QERROR_P90);
    t.put("shadowOverheadAtMost5%", r.shadowOverhead().allMedian() <= TARGET_OVERHEAD);
    QueryBench.Mode pen = mode(r, "penumbra");
    QueryBench.Mode fifo = mode(r, "fifo");
    t.put("noMemoryFailures", pen.failedMemory() == 0);
    QueryBench.Latency pc = pen.latency().get(Priority.CRITICAL);
    QueryBench.Latency fc = fifo.latency().get(Priority.CRITICAL);
    t.put("criticalP95AtLeast30%BelowFifo", pc != null && fc != null
        && pc.p95Millis() <= (1 - TARGET_CRITICAL_GAIN) * fc.p95Millis());
    t.put("throughputNoWorseThanFifo", pen.throughputPerSecond() >= fifo.throughputPerSecond());
    return t;
  }

  private static QueryBench.Mode mode(QueryBench.Result r, String name) {
    return r.endToEnd().stream().filter(m -> m.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no mode '" + name + "' in this run"));
  }

  public static void table(QueryBench.Result r, PrintStream out) {
    QueryBench.Accuracy a = r.accuracy();
    out.printf(Locale.ROOT, "TPC-H SF %s on %s, %d cores, %s budget; %d test queries; %.1f s%n%n",
        r.options().scale(), r.options().engine(), Runtime.getRuntime().availableProcessors(),
        Resources.formatBytes(r.options().memoryBudget()), a.queries(), r.seconds());
    out.println("accuracy (q-error)      median     p90   target");
    out.printf(Locale.ROOT, "  peak memory          %6.2f  %6.2f   <= 1.5 / <= 3%n", a.memoryMedian(), a.memoryP90());
    out.printf(Locale.ROOT, "  wall time            %6.2f  %6.2f   <= 1.5 / <= 3%n", a.wallMedian(), a.wallP90());
    out.printf(Locale.ROOT, "  CPU time             %6.2f  %6.2f%n", a.cpuMedian(), a.cpuP90());
    QueryBench.Overhead o = r.shadowOverhead();
    out.printf(Locale.ROOT, "shadow overhead (median shadow/primary time): %.1f%% of all %d (target <= 5%% at SF 1),"
        + " %.1f%% of the %d sampled (%d skipped: settled)%n%n", o.allMedian() * 100, o.all(),
        o.shadowedMedian() * 100, o.shadowed(), o.all() - o.shadowed());
    out.println("end to end       crit p50/p95 ms    std p50/p95 ms  batch p50/p95 ms    q/s  spilled  failed-mem  other");
    for (QueryBench.Mode m : r.endToEnd()) {
      StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "  %-10s", m.name()));
      for (Priority p : Priority.values()) {
        QueryBench.Latency l = m.latency().get(p);
        sb.append(l == null ? String.format(Locale.ROOT, "%18s", "-")
            : String.format(Locale.ROOT, "  %7.0f / %7.0f", l.p50Millis(), l.p95Millis()));
      }
      sb.append(String.format(Locale.ROOT, "  %5.2f  %7d  %10d  %5d", m.throughputPerSecond(), m.spilled(),
          m.failedMemory(), m.otherFailures()));
      out.println(sb);
    }
    out.println();
    targets(r).forEach((k, v) -> out.printf(Locale.ROOT, "  %-34s %s%n", k, v ? "met" : "NOT met"));
  }
}
