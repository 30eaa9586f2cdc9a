package dev.penumbra.eval.shard;

import dev.penumbra.server.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** Writes a {@link ShardBench.Report} as a table, JSON, or a self-contained HTML page with SVG plots. */
public final class ShardBenchReport {

  private ShardBenchReport() {}

  public static void table(ShardBench.Report r, PrintStream out) {
    ShardBench.Options o = r.options();
    out.printf(Locale.ROOT, "Shard benchmark: %s, %d history / %d tuning / %d scored jobs, %d backends x %d cores,"
            + " uniform N = %d, Penumbra at most %d, backend killed: %s%n", o.trace().getFileName(), r.historyJobs(),
        r.tuningJobs(), r.scoredJobs(), o.backends(), o.coresPerBackend(), o.shards(), o.maxShards(),
        o.killBackend() ? "yes" : "no");
    out.printf(Locale.ROOT, "Penumbra tuned on the tuning part at load %.1f: longest shard %.0f s, %d shards in flight"
        + " per job%n%n", ShardBench.TUNING_LOAD, r.targetShardSeconds(), r.window());
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"load", "policy", "done", "p50 s", "p99 s", "p99/unif", "straggler p50", "p90",
        "reserved core-s", "res/unif", "used core-s", "queue s", "shards", "retries", "failures inj.", "lost att.",
        "timeouts", "splits", "dup. dropped", "keys lost+dup"});
    Map<Double, ShardSimulation.Result> uniform = new LinkedHashMap<>();
    for (ShardSimulation.Result x : r.results()) {
      if (x.policy().equals("uniform")) {
        uniform.put(x.load(), x);
      }
    }
    for (ShardSimulation.Result x : r.results()) {
      ShardSimulation.Result u = uniform.get(x.load());
      rows.add(new String[] {f(x.load(), 2), x.policy(), x.completed() + "/" + x.requests() + (x.complete() ? "" : "*"),
          f(x.p50Seconds(), 0), f(x.p99Seconds(), 0), f(x.p99Seconds() / u.p99Seconds(), 3), f(x.stragglerMedian(), 2),
          f(x.stragglerP90(), 2), g(x.reservedCoreSeconds()), f(x.reservedCoreSeconds() / u.reservedCoreSeconds(), 3),
          g(x.usedCoreSeconds()), f(x.queueMeanSeconds(), 0), Long.toString(x.shards()), Long.toString(x.retries()),
          Long.toString(x.injectedFailures()), Long.toString(x.lostAttempts()), Long.toString(x.timeouts()),
          Long.toString(x.splits()), Long.toString(x.duplicatesDropped()), Long.toString(x.keysLost() + x.keysDuplicated())});
    }
    out.print(aligned(rows));
    if (!r.sql().isEmpty()) {
      out.println();
      for (TpchShardCheck.Outcome s : r.sql()) {
        out.printf(Locale.ROOT, "TPC-H %s: %d shards, %d groups, retries %d, lost %d: merged answer %s%n", s.run(),
            s.shards(), s.groups(), s.retries(), s.lost(), s.identical() ? "identical to unsharded" : "DIFFERS");
      }
    }
    out.println();
    for (ShardBench.Target t : r.targets()) {
      out.printf(Locale.ROOT, "target%s: %s <= %s: %s (%s)%n", Double.isNaN(t.load()) ? "" : " at load " + f(t.load(), 2),
          t.name(), g(t.target()), g(t.value()), t.met() ? "met" : "not met");
    }
    out.printf(Locale.ROOT, "wall time: %.1f s%n", r.wallSeconds());
    out.flush();
  }

  /** The report as JSON: the product's one mapper (camelCase keys, NaN as null, like every other bench). */
  public static void json(ShardBench.Report r, PrintStream out) throws IOException {
    ShardBench.Options o = r.options();
    out.println(Json.pretty(new JsonReport(o.trace().toString(), o.backends(), o.coresPerBackend(), o.shards(),
        o.maxShards(), o.killBackend(), r.historyJobs(), r.tuningJobs(), r.scoredJobs(), r.skippedTasks(),
        r.targetShardSeconds(), r.window(), r.tuning(), r.results(), r.sql(), r.targets(), r.wallSeconds())));
    out.flush();
  }

  /** What {@link #json} writes, in this order. */
  record JsonReport(String trace, int backends, int coresPerBackend, int shards, int maxShards, boolean backendKilled,
      int historyJobs, int tuningJobs, int scoredJobs, int skippedTasks, double targetShardSeconds, int window,
      List<ShardBench.Tuning> tuning, List<ShardSimulation.Result> results, List<TpchShardCheck.Outcome> tpch, List<ShardBench.Target> targets,
      double wallSeconds) {}

  private static final String[] COLORS = {"#7f7f7f", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"};

  public static void html(ShardBench.Report r, Writer out) throws IOException {
    out.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Penumbra shard benchmark</title>"
        + "<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}"
        + "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
        + "svg{background:#fafafa;border:1px solid #ddd;margin:.3em 0}.legend span{margin-right:1em}</style></head><body>\n");
    out.write("<h1>Penumbra shard benchmark</h1>\n");
    out.write(String.format(Locale.ROOT, "<p>%s: %d history, %d tuning, %d scored jobs; %d backends x %d cores; uniform N = %d;"
            + " Penumbra at most %d; backend killed: %s; longest shard %.0f s (tuned).</p>\n",
        esc(r.options().trace().getFileName().toString()), r.historyJobs(), r.tuningJobs(), r.scoredJobs(),
        r.options().backends(), r.options().coresPerBackend(), r.options().shards(), r.options().maxShards(), r.options().killBackend() ? "yes" : "no", r.targetShardSeconds()));
    out.write("<div class=\"legend\">");
    for (int i = 0; i < ShardSimulation.POLICIES.size(); i++) {
      out.write("<span style=\"color:" + COLORS[i] + "\">&#9632; " + ShardSimulation.POLICIES.get(i) + "</span>");
    }
    out.write("</div>\n");
    chart(out, r, "p99 request latency (s, log scale)", ShardSimulation.Result::p99Seconds, true);
    chart(out, r, "p50 request latency (s, log scale)", ShardSimulation.Result::p50Seconds, true);
    chart(out, r, "median straggler ratio (slowest / median shard)", ShardSimulation.Result::stragglerMedian, false);
    chart(out, r, "reserved core-seconds", ShardSimulation.Result::reservedCoreSeconds, false);
    out.write("<h2>Targets</h2>\n<table><tr><th>target</th><th>load</th><th>bound</th><th>value</th><th>met</th></tr>\n");
    for (ShardBench.Target t : r.targets()) {
      out.write("<tr><td>" + t.name() + "</td><td>" + (Double.isNaN(t.load()) ? "" : f(t.load(), 2)) + "</td><td>"
          + g(t.target()) + "</td><td>" + g(t.value()) + "</td><td>" + (t.met() ? "met" : "not met") + "</td></tr>\n");
    }
    out.write("</table>\n");
    if (!r.sql().isEmpty()) {
      out.write("<h2>TPC-H merged answers</h2>\n<table><tr><th>run</th><th>shards</th><th>identical</th></tr>\n");
      for (TpchShardCheck.Outcome s : r.sql()) {
        out.write("<tr><td>" + esc(s.run()) + "</td><td>" + s.shards() + "</td><td>" + s.identical() + "</td></tr>\n");
      }
      out.write("</table>\n");
    }
    out.write("</body></html>\n");
  }

  /** Grouped bars: one group per load level, one bar per policy. */
  private static void chart(Writer out, ShardBench.Report r, String title, ToDoubleFunction<ShardSimulation.Result> v,
      boolean log) throws IOException {
    int w = 900;
    int h = 260;
    int pad = 50;
    List<Double> loads = r.options().loads();
    double max = 0;
    double min = Double.POSITIVE_INFINITY;
    for (ShardSimulation.Result x : r.results()) {
      double y = v.applyAsDouble(x);
      if (Double.isFinite(y) && y > 0) {
        max = Math.max(max, y);
        min = Math.min(min, y);
      }
    }
    if (max <= 0) {
      return;
    }
    double lo = log ? Math.log10(min) - 0.2 : 0;
    double hi = log ? Math.log10(max) + 0.1 : max * 1.05;
    StringBuilder s = new StringBuilder();
    s.append("<h2>").append(esc(title)).append("</h2>\n<svg width=\"").append(w).append("\" height=\"").append(h)
        .append("\" xmlns=\"http://www.w3.org/2000/svg\">");
    int groups = loads.size();
    double gw = (double) (w - 2 * pad) / groups;
    int n = ShardSimulation.POLICIES.size();
    double bw = gw * 0.8 / n;
    for (int gi = 0; gi < groups; gi++) {
      double load = loads.get(gi);
      double gx = pad + gi * gw + gw * 0.1;
      s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">load %.2f</text>",
          pad + gi * gw + gw / 2, h - 8, load));
      for (int pi = 0; pi < n; pi++) {
        String policy = ShardSimulation.POLICIES.get(pi);
        for (ShardSimulation.Result x : r.results()) {
          if (x.load() == load && x.policy().equals(policy)) {
            double y = v.applyAsDouble(x);
            if (!Double.isFinite(y) || y <= 0) {
              continue;
            }
            double t = ((log ? Math.log10(y) : y) - lo) / (hi - lo);
            double bh = Math.max(1, t * (h - 2 * pad));
            s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                    + "<title>%s at load %.2f: %s</title></rect>", gx + pi * bw, h - pad - bh, bw * 0.9, bh, COLORS[pi],
                policy, load, g(y)));
          }
        }
      }
    }
    s.append(String.format(Locale.ROOT, "<text x=\"5\" y=\"%d\" font-size=\"11\">%s</text>", pad - 10, g(max)));
    s.append("</svg>\n");
    out.write(s.toString());
  }

  static String aligned(List<String[]> rows) {
    int cols = rows.get(0).length;
    int[] width = new int[cols];
    for (String[] r : rows) {
      for (int i = 0; i < cols; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String[] r : rows) {
      for (int i = 0; i < cols; i++) {
        sb.append(i == 0 ? "" : "  ").append(i <= 1 ? pad(r[i], width[i], false) : pad(r[i], width[i], true));
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  private static String pad(String s, int w, boolean right) {
    String sp = " ".repeat(w - s.length());
    return right ? sp + s : s + sp;
  }

  private static String f(double v, int digits) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + digits + "f", v) : "-";
  }

  private static String g(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4g", v) : "-";
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
