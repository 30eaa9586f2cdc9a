package dev.penumbra.eval.report;

import dev.penumbra.eval.replay.Metric;
import dev.penumbra.eval.replay.PolicyRun;
import dev.penumbra.eval.replay.ReplayResult;
import dev.penumbra.eval.replay.Summary;
import dev.penumbra.eval.trace.Trace;
import java.io.IOException;
import java.io.Writer;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A self-contained HTML page (inline SVG and CSS, no script, no network): the summary, then per trace a plot
 * of use and every policy's allocation over time, the slack-versus-violation curve of every policy and the
 * metrics table. Series longer than {@link #MAX_POINTS} are drawn at the maximum of each bucket of intervals,
 * so peaks stay visible; plots are drawn for the first {@link #MAX_PLOTTED_TRACES} traces, the tables for all.
 */
final class HtmlReporter implements Reporter {

  static final int MAX_POINTS = 600;
  static final int MAX_PLOTTED_TRACES = 100;
  private static final String[] COLORS = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"
  };
  private static final int W = 900;
  private static final int H = 260;
  private static final int PAD = 45;

  @Override
  public void write(ReplayResult result, Writer out) throws IOException {
    List<String> policies = result.options().policies();
    out.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Penumbra replay</title>\n"
        + "<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}"
        + "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
        + "svg{background:#fafafa;border:1px solid #ddd;margin:.3em 0}.legend span{margin-right:1em}"
        + "h2{margin-top:2em;font-size:1.1em}</style></head><body>\n");
    out.write("<h1>Penumbra replay</h1>\n");
    out.write(String.format(Locale.ROOT, "<p>Lead %d interval(s), violation budget %s, %d trace(s).</p>\n",
        result.options().lead(), Metric.SLACK.format(result.options().budget()), result.traces().size()));
    Summary s = result.summary();
    out.write("<h2>Summary</h2>\n<table><tr><th>policy</th><th>median slack at budget</th>"
        + "<th>median oracle gap</th></tr>\n");
    for (Map.Entry<String, Double> e : s.medianSlackAtBudget().entrySet()) {
      out.write("<tr><td>" + esc(e.getKey()) + "</td><td>" + Metric.SLACK_AT_BUDGET.format(e.getValue()) + "</td><td>"
          + Metric.ORACLE_GAP.format(s.medianOracleGap().get(e.getKey())) + "</td></tr>\n");
    }
    out.write("</table>\n");
    if (!Double.isNaN(s.penumbraWinShare())) {
      out.write("<p>penumbra beats every baseline on " + Metric.SLACK.format(s.penumbraWinShare())
          + " of traces; penumbra / best baseline on the median trace: "
          + Metric.MARGIN_AT_BUDGET.format(s.medianRatioToBestBaseline()) + "</p>\n");
    }
    out.write(legend(policies));
    int plotted = 0;
    for (Trace trace : result.traces()) {
      List<PolicyRun> runs = result.runs(trace);
      out.write("<h2>" + esc(trace.name()) + " (" + trace.resource().label() + ", " + esc(trace.unit()) + ")</h2>\n");
      if (plotted++ < MAX_PLOTTED_TRACES) {
        out.write(timePlot(trace, runs, policies));
        out.write(curvePlot(runs, policies));
      }
      out.write(metricsTable(runs));
    }
    if (result.traces().size() > MAX_PLOTTED_TRACES) {
      out.write("<p>Plots drawn for the first " + MAX_PLOTTED_TRACES + " traces; tables for all.</p>\n");
    }
    out.write("</body></html>\n");
    out.flush();
  }

  private static String legend(List<String> policies) {
    StringBuilder b = new StringBuilder("<p class=\"legend\"><span style=\"color:#000\">&#9632; used</span>");
    for (int i = 0; i < policies.size(); i++) {
      b.append("<span style=\"color:").append(color(i)).append("\">&#9632; ").append(esc(policies.get(i))).append("</span>");
    }
    return b.append("</p>\n").toString();
  }

  private static String metricsTable(List<PolicyRun> runs) {
    StringBuilder b = new StringBuilder("<table><tr><th>policy</th>");
    for (Metric m : Metric.values()) {
      b.append("<th title=\"").append(esc(m.description())).append("\">").append(m.label()).append("</th>");
    }
    b.append("</tr>\n");
    for (PolicyRun run : runs) {
      b.append("<tr><td>").append(esc(run.policy())).append("</td>");
      for (Metric m : Metric.values()) {
        b.append("<td>").append(m.format(run.metric(m))).append("</td>");
      }
      b.append("</tr>\n");
    }
    return b.append("</table>\n").toString();
  }

  private static String timePlot(Trace trace, List<PolicyRun> runs, List<String> policies) {
    double max = 0;
    for (int i = 0; i < trace.length(); i++) {
      max = Math.max(max, trace.value(i));
    }
    for (PolicyRun run : runs) {
      for (double a : run.allocations()) {
        max = Math.max(max, a);
      }
    }
    max = max > 0 ? max : 1;
    StringBuilder b = svgOpen("use and allocation over time (interval index; shaded: warm-up, not scored)");
    int warmup = runs.isEmpty() ? 0 : runs.get(0).warmup();
    int n = Math.max(1, trace.length() - 1);
    b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#eee\"/>",
        PAD, PAD / 2, (double) warmup / n * (W - 2 * PAD), H - PAD - PAD / 2));
    axes(b, max, "0", Integer.toString(trace.length()));
    for (PolicyRun run : runs) {
      b.append(polyline(run.allocations(), max, color(policies.indexOf(run.policy())), 1.2));
    }
    b.append(polyline(trace.values(), max, "#000", 1.0));
    return b.append("</svg>\n").toString();
  }

  private static String curvePlot(List<PolicyRun> runs, List<String> policies) {
    double maxX = 0;
    double maxY = 0;
    for (PolicyRun run : runs) {
      for (double[] p : run.curve()) {
        maxX = Math.max(maxX, p[0]);
        if (Double.isFinite(p[1])) {
          maxY = Math.max(maxY, p[1]);
        }
      }
    }
    maxX = maxX > 0 ? maxX : 1;
    maxY = maxY > 0 ? maxY : 1;
    StringBuilder b = svgOpen("slack (y) at each violation rate (x): lower is better");
    axes(b, maxY, "0%", Metric.SLACK.format(maxX));
    for (PolicyRun run : runs) {
      StringBuilder pts = new StringBuilder();
      for (double[] p : run.curve()) {
        if (Double.isFinite(p[1])) {
          pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x(p[0] / maxX), y(p[1], maxY)));
        }
      }
      String c = color(policies.indexOf(run.policy()));
      b.append("<polyline fill=\"none\" stroke=\"").append(c).append("\" stroke-width=\"1.5\" points=\"")
          .append(pts).append("\"><title>").append(esc(run.policy())).append("</title></polyline>");
    }
    b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>", 2, PAD / 2 + 4,
        Metric.SLACK.format(maxY)));
    return b.append("</svg>\n").toString();
  }

  private static StringBuilder svgOpen(String title) {
    StringBuilder b = new StringBuilder();
    b.append("<div><small>").append(esc(title)).append("</small><br>");
    b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">", W, H, W, H));
    return b;
  }

  private static void axes(StringBuilder b, double maxY, String xStart, String xEnd) {
    b.append(String.format(Locale.ROOT,
        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>",
        PAD, H - PAD, W - PAD, H - PAD, PAD, PAD / 2, PAD, H - PAD));
    b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>", PAD, H - PAD + 15, esc(xStart)));
    b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%s</text>", W - PAD, H - PAD + 15, esc(xEnd)));
    b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%.4g</text>", 2, PAD / 2 + 4, maxY));
  }

  private static String polyline(double[] values, double max, String color, double width) {
    int n = values.length;
    int buckets = Math.min(n, MAX_POINTS);
    StringBuilder pts = new StringBuilder();
    for (int k = 0; k < buckets; k++) {
      int from = (int) ((long) k * n / buckets);
      int to = (int) ((long) (k + 1) * n / buckets);
      double v = 0;
      for (int i = from; i < to; i++) {
        v = Math.max(v, values[i]);
      }
      pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x(buckets == 1 ? 0 : (double) k / (buckets - 1)), y(v, max)));
    }
    return "<polyline fill=\"none\" stroke=\"" + color + "\" stroke-width=\"" + width + "\" points=\"" + pts + "\"/>";
  }

  private static double x(double fraction) {
    return PAD + fraction * (W - 2 * PAD);
  }

  private static double y(double v, double max) {
    return H - PAD - v / max * (H - PAD - PAD / 2.0);
  }

  private static String color(int i) {
    return COLORS[Math.floorMod(i, COLORS.length)];
  }

  static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
