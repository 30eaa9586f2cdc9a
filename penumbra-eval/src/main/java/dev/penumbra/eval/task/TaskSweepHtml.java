package dev.penumbra.eval.task;

import dev.penumbra.eval.report.Target;
import dev.penumbra.eval.task.TaskSweep.Point;
import dev.penumbra.eval.task.TaskSweep.Result;
import java.io.IOException;
import java.io.Writer;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The task load sweep as a self-contained HTML page (inline SVG, no script, no network): latency, throughput and
 * reserved memory-time against load for every mode, then the figures and the targets as tables.
 */
public final class TaskSweepHtml {
  private TaskSweepHtml() {}

  private static final String[] COLORS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#7f7f7f"};
  private static final int W = 640;
  private static final int H = 260;
  private static final int PAD = 50;

  public static void write(Result r, Writer out) throws IOException {
    out.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Penumbra task sweep</title>\n"
        + "<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}"
        + "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
        + "svg{background:#fafafa;border:1px solid #ddd;margin:.3em 1em .3em 0}.legend span{margin-right:1em}"
        + "</style></head><body>\n<h1>Penumbra task load sweep</h1>\n");
    TaskSweep.Options o = r.options();
    out.write(String.format(Locale.ROOT, "<p>Node %s; %d %s tasks per level and mode; sampling every %d ms, "
        + "horizon %d ms, grace %d ms, queue timeout %d ms, seeds %s (the plots show the median over seeds).</p>\n",
        esc(TaskSweep.NODE.toString()), o.tasks(), o.priority().label(), o.intervalMillis(), o.horizonMillis(),
        o.graceMillis(), o.queueTimeoutMillis(), o.seeds()));
    out.write("<p class=\"legend\">");
    for (int i = 0; i < TaskSweep.MODES.size(); i++) {
      out.write("<span style=\"color:" + COLORS[i] + "\">&#9632; " + esc(TaskSweep.MODES.get(i)) + "</span>");
    }
    out.write("</p>\n");
    out.write(chart(r, "p99 latency (ms)", Point::p99Ms));
    out.write(chart(r, "p50 latency (ms)", Point::p50Ms));
    out.write(chart(r, "throughput (tasks/s)", Point::throughputPerSecond));
    out.write(chart(r, "reserved memory (GiB*s)", Point::reservedMemoryGibSeconds));
    out.write("\n<h2>Penumbra / grant on request</h2>\n<p>Median over seeds of the per-seed ratios [min, max]; the"
        + " bound: the unconstrained node (no task waits for memory) over grant on request, which no admission on the"
        + " contended node gets below; pooled: the p99 of every seed's tasks together.</p>\n<table><tr><th>load</th>"
        + "<th>p99</th><th>bound's p99</th><th>pooled p99</th><th>bound's pooled</th><th>throughput</th>"
        + "<th>reserved memory-time</th></tr>\n");
    for (double load : o.loads()) {
      out.write(String.format(Locale.ROOT, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%.2f</td><td>%.2f</td><td>%s</td>"
          + "<td>%s</td></tr>\n", load, TaskReport.spread(r.ratio(load, Point::p99Ms)),
          TaskReport.spread(r.ratio(load, "unconstrained", Point::p99Ms)), r.pooledRatio(load, "penumbra"),
          r.pooledRatio(load, "unconstrained"), TaskReport.spread(r.ratio(load, Point::throughputPerSecond)),
          TaskReport.spread(r.ratio(load, Point::reservedMemoryGibSeconds))));
    }
    out.write("</table>\n");
    out.write("\n<h2>Figures</h2>\n<table><tr><th>seed</th><th>load</th><th>mode</th><th>at once</th><th>p50 ms</th>"
        + "<th>p99 ms</th><th>tasks/s</th><th>stall p99 ms</th><th>stalls</th><th>failed</th>"
        + "<th>memory GiB*s res/used</th><th>threads s res/used</th><th>shadow % core</th><th>acting</th>"
        + "<th>admission p99 ms</th><th>memory wait p99 ms</th><th>tail admission / memory / rest ms</th></tr>\n");
    for (Point p : r.points()) {
      out.write(String.format(Locale.ROOT, "<tr><td>%d</td><td>%s</td><td>%s</td><td>%d</td><td>%.1f</td><td>%.1f</td>"
          + "<td>%.2f</td><td>%.1f</td><td>%d</td><td>%d</td><td>%.2f / %.2f</td><td>%.1f / %.1f</td><td>%.3f</td>"
          + "<td>%s</td><td>%.1f</td><td>%.1f</td><td>%.0f / %.0f / %.0f</td></tr>\n", p.seed(), p.load(),
          esc(p.mode()), p.concurrency(), p.p50Ms(), p.p99Ms(), p.throughputPerSecond(), p.stallP99Ms(), p.stalls(),
          p.failed(), p.reservedMemoryGibSeconds(), p.usedMemoryGibSeconds(), p.reservedThreadSeconds(),
          p.usedThreadSeconds(), 100 * p.shadowShareOfCore(), esc(p.acting()), p.admissionP99Ms(),
          p.memoryWaitP99Ms(), p.tailAdmissionMs(), p.tailMemoryWaitMs(), p.tailRestMs()));
    }
    out.write("</table>\n<h2>Targets</h2>\n<table><tr><th>target</th><th>bound</th><th>value</th><th>met</th></tr>\n");
    for (Map.Entry<String, Target> e : r.targets().entrySet()) {
      Target t = e.getValue();
      out.write(String.format(Locale.ROOT, "<tr><td>%s</td><td>%.3g</td><td>%.3g</td><td>%s</td></tr>\n",
          esc(e.getKey()), t.target(), t.value(), t.met() ? "met" : "not met"));
    }
    out.write("</table>\n</body></html>\n");
  }

  /** One line per mode of {@code f} against load. */
  private static String chart(Result r, String title, ToDoubleFunction<Point> f) {
    List<Double> loads = r.options().loads();
    double minX = loads.stream().mapToDouble(Double::doubleValue).min().orElse(0);
    double maxX = loads.stream().mapToDouble(Double::doubleValue).max().orElse(1);
    double maxY = loads.stream().flatMapToDouble(l -> TaskSweep.MODES.stream()
        .mapToDouble(m -> r.median(l, m, f))).filter(Double::isFinite).max().orElse(1);
    if (!(maxY > 0)) {
      maxY = 1;
    }
    double spanX = maxX > minX ? maxX - minX : 1;
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "<svg width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s\">", W, H,
        esc(title)));
    sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"16\" font-size=\"13\">%s against load</text>", PAD,
        esc(title)));
    sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", PAD,
        H - PAD, W - 10, H - PAD));
    sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"30\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", PAD, PAD,
        H - PAD));
    sb.append(String.format(Locale.ROOT, "<text x=\"4\" y=\"34\" font-size=\"11\">%.4g</text>", maxY));
    sb.append(String.format(Locale.ROOT, "<text x=\"4\" y=\"%d\" font-size=\"11\">0</text>", H - PAD));
    for (double l : loads) {
      double x = PAD + (l - minX) / spanX * (W - PAD - 30);
      sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s"
          + "</text>", x, H - PAD + 16, l));
    }
    for (int m = 0; m < TaskSweep.MODES.size(); m++) {
      StringBuilder pts = new StringBuilder();
      for (double l : loads) {
        double v = r.median(l, TaskSweep.MODES.get(m), f);
        if (!Double.isFinite(v)) {
          continue;
        }
        double x = PAD + (l - minX) / spanX * (W - PAD - 30);
        double y = (H - PAD) - v / maxY * (H - PAD - 30);
        pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
        sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>", x, y,
            COLORS[m]));
      }
      sb.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>",
          COLORS[m], pts.toString().trim()));
    }
    sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\">load (share of the node's memory"
        + " at the tasks' peaks)</text>", W / 2 - 120, H - 8));
    return sb.append("</svg>\n").toString();
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
