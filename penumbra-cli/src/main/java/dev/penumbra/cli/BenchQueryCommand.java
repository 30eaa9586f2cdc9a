package dev.penumbra.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.query.QueryGateway;
import dev.penumbra.query.bench.QueryBench;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code penumbra bench query}: prediction accuracy on unseen queries, the shadow's overhead, and Penumbra vs
 * FIFO fixed slots vs no admission control on one concurrent mixed-priority burst.
 */
@Command(
    name = "query",
    mixinStandardHelpOptions = true,
    description =
      "Query shadowing benchmark on TPC-H: q-error of predicted peak memory and wall time on queries the model "
      + "did not train on, shadow time / primary time, and a concurrent mixed-priority burst under a fixed "
      + "budget with Penumbra, FIFO with equal fixed slots, and no admission control.")
final class BenchQueryCommand implements Callable<Integer> {
  static final double TARGET_QERROR_MEDIAN = 1.5;
  static final double TARGET_QERROR_P90 = 3;
  static final double TARGET_OVERHEAD = 0.05;
  static final double TARGET_CRITICAL_GAIN = 0.3;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--scale", paramLabel = "SF", defaultValue = "1",
      description = "TPC-H scale factor. Default: ${DEFAULT-VALUE}.")
  String scale;

  @Option(names = "--queries", paramLabel = "FILE",
      description = "Extra SQL statements over the TPC-H schema, separated by ';', tested as unseen queries.")
  Path queries;

  @Option(names = "--format", paramLabel = "table|json", defaultValue = "table",
      description = "Output on stdout. Default: ${DEFAULT-VALUE}.")
  String format;

  @Option(names = "--engine", paramLabel = "duckdb|postgres", defaultValue = "duckdb",
      description = "Primary engine. Default: ${DEFAULT-VALUE}.")
  String engine;

  @Option(names = "--cache-dir", paramLabel = "DIR", description = "Where the database file is kept. Default: ~/.cache/penumbra.")
  Path cacheDir;

  @Option(names = "--train", paramLabel = "N", defaultValue = "80", description = "Training queries. Default: ${DEFAULT-VALUE}.")
  int train;

  @Option(names = "--test", paramLabel = "N", defaultValue = "40", description = "Test queries. Default: ${DEFAULT-VALUE}.")
  int test;

  @Option(names = "--burst", paramLabel = "N", defaultValue = "60",
      description = "Queries of the end-to-end burst. Default: ${DEFAULT-VALUE}.")
  int burst;

  @Override
  public Integer call() throws Exception {
    if (!List.of("table", "json").contains(format)) {
      throw QueryCommand.invalid(spec, "--format", format, "not one of table, json");
    }
    if (!List.of("duckdb", "postgres").contains(engine)) {
      throw QueryCommand.invalid(spec, "--engine", engine, "not one of duckdb, postgres");
    }
    double sf = QueryCommand.parseScale(spec, scale);
    if (train < 30) {
      throw QueryCommand.invalid(spec, "--train", Integer.toString(train), "must be >= 30 (the model's minimum)");
    }
    if (test < 2) {
      throw QueryCommand.invalid(spec, "--test", Integer.toString(test), "must be >= 2");
    }
    if (burst < 4) {
      throw QueryCommand.invalid(spec, "--burst", Integer.toString(burst), "must be >= 4");
    }
    List<String> extra = List.of();
    if (queries != null) {
      String text;
      try {
        text = Files.readString(queries, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw QueryCommand.invalid(spec, "--queries", queries.toString(), "cannot read: " + e.getMessage());
      }
      try {
        extra = QueryBench.parseStatements(text);
      } catch (IllegalArgumentException e) {
        throw QueryCommand.invalid(spec, "--queries", queries.toString(), e.getMessage());
      }
    }
    PrintStream err = System.err;
    QueryBench.Options d = QueryBench.Options.defaults(cacheDir != null ? cacheDir : QueryGateway.defaultCacheDir());
    QueryBench.Options o = new QueryBench.Options(sf, d.seed(), engine, d.cacheDir(), extra, train, test, burst,
        d.memoryBudget(), d.fifoSlots());
    QueryBench.Result r;
    try {
      r = QueryBench.run(o, m -> err.println("bench query: " + m));
    } catch (IllegalArgumentException e) {
      if (e.getMessage() != null && e.getMessage().startsWith("--queries")) {
        throw QueryCommand.invalid(spec, "--queries", queries.toString(), e.getMessage().substring(10));
      }
      throw e;
    }
    if (format.equals("json")) {
      System.out.println(QueryCommand.JSON.writeValueAsString(json(r)));
    } else {
      table(r, System.out);
    }
    return 0;
  }

  static ObjectNode json(QueryBench.Result r) {
    ObjectNode root = QueryCommand.JSON.createObjectNode();
    ArrayNode qs = root.putArray("queries");
    for (QueryBench.QueryRow q : r.queries()) {
      ObjectNode o = qs.addObject();
      o.put("source", q.source());
      o.put("heldOut", q.heldOut());
      o.put("sql", q.sql());
      o.put("tier", q.tier());
      o.put("outcome", q.outcome());
      o.put("predictedPeakMemoryBytes", q.predictedMemoryBytes());
      o.put("actualPeakMemoryBytes", q.actualMemoryBytes());
      o.put("predictedCpuNanos", q.predictedCpuNanos());
      o.put("actualCpuNanos", q.actualCpuNanos());
      o.put("predictedWallNanos", q.predictedWallNanos());
      o.put("actualWallNanos", q.actualWallNanos());
      o.put("shadowWallNanos", q.shadowWallNanos());
      o.put("shadowSkipped", q.shadowSkipped());
      o.put("threads", q.threads());
    }
    ObjectNode s = root.putObject("summary");
    s.put("scale", r.options().scale());
    s.put("engine", r.options().engine());
    s.put("cores", Runtime.getRuntime().availableProcessors());
    s.put("memoryBudgetBytes", r.options().memoryBudget());
    s.put("seconds", r.seconds());
    ObjectNode a = s.putObject("accuracy");
    a.put("queries", r.accuracy().queries());
    a.put("memoryQErrorMedian", r.accuracy().memoryMedian());
    a.put("memoryQErrorP90", r.accuracy().memoryP90());
    a.put("wallQErrorMedian", r.accuracy().wallMedian());
    a.put("wallQErrorP90", r.accuracy().wallP90());
    a.put("cpuQErrorMedian", r.accuracy().cpuMedian());
    a.put("cpuQErrorP90", r.accuracy().cpuP90());
    s.put("shadowOverheadMedian", r.shadowOverhead().allMedian());
    s.put("shadowOverheadShadowedMedian", r.shadowOverhead().shadowedMedian());
    s.put("shadowSkipped", r.shadowOverhead().all() - r.shadowOverhead().shadowed());
    ArrayNode modes = s.putArray("endToEnd");
    for (QueryBench.Mode m : r.endToEnd()) {
      ObjectNode o = modes.addObject();
      o.put("mode", m.name());
      o.put("throughputPerSecond", m.throughputPerSecond());
      o.put("makespanSeconds", m.makespanSeconds());
      o.put("completed", m.completed());
      o.put("spilled", m.spilled());
      o.put("failedMemory", m.failedMemory());
      o.put("otherFailures", m.otherFailures());
      ObjectNode lat = o.putObject("latencyMillis");
      m.latency().forEach((p, l) -> {
        ObjectNode x = lat.putObject(p.label());
        x.put("queries", l.queries());
        x.put("p50", l.p50Millis());
        x.put("p95", l.p95Millis());
      });
    }
    ObjectNode t = s.putObject("targets");
    targets(r).forEach(t::put);
    return root;
  }

  static java.util.Map<String, Boolean> targets(QueryBench.Result r) {
    java.util.Map<String, Boolean> t = new java.util.LinkedHashMap<>();
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
    return r.endToEnd().stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
  }

  static void table(QueryBench.Result r, PrintStream out) {
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
