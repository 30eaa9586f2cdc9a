package dev.penumbra.eval.cluster;

import java.io.IOException;
import java.io.Writer;
import java.util.List;
import java.util.Locale;

/**
 * The cluster benchmark as a self-contained HTML page (inline SVG, no script): throughput and p99 commit
 * latency against the number of clients for each system, the failover time of every leader kill cut into
 * its parts (detect, election, leader ready, client), and tables.
 */
public final class ClusterReport {

  private static final String[] COLORS = {"#7f7f7f", "#ff7f0e", "#1f77b4"};
  /** The parts of a failover, bottom to top in each bar. */
  private static final String[] PARTS = {"detect", "election", "leader ready", "client"};
  private static final String[] PART_COLORS = {"#9467bd", "#ff7f0e", "#2ca02c", "#1f77b4"};
  private static final int W = 760;
  private static final int H = 260;
  private static final int PAD = 55;

  private ClusterReport() {}

  public static void write(ClusterBench.Result r, List<Integer> clients, Writer out) throws IOException {
    out.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Penumbra cluster bench</title>"
        + "<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}"
        + "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
        + "svg{background:#fafafa;border:1px solid #ddd;margin:.3em 0}.legend span{margin-right:1em}</style>"
        + "</head><body>\n<h1>Replicated ledger: 3 replica processes on 127.0.0.1</h1>\n");
    out.write("<p>Replica log fsync " + (r.fsync() ? "on" : "off") + ". Machine load before " + r.loadBefore() + ", after " + r.loadAfter() + ".</p>\n");
    out.write(String.format(Locale.ROOT, "<p>The disk: an fsync of a small append takes %.2f ms at the median and "
        + "%.2f ms at p99 (measured before the levels).</p>%n", r.diskFsyncP50Ms(), r.diskFsyncP99Ms()));
    out.write("<p class=\"legend\">");
    String[] systems = ClusterBench.systems();
    for (int i = 0; i < systems.length; i++) {
      out.write("<span style=\"color:" + COLORS[i] + "\">&#9632; " + systems[i] + "</span>");
    }
    out.write("</p>\n<h2>Committed operations per second (log scale) against clients</h2>\n");
    out.write(plot(r, clients, true));
    out.write("<h2>p99 commit latency in ms (log scale) against clients</h2>\n");
    out.write(plot(r, clients, false));
    out.write("<table><tr><th>system</th><th>clients</th><th>ops/s</th><th>pairs/s</th><th>p50 ms</th>"
        + "<th>p99 ms</th><th>max ms</th><th>errors</th><th>ops/entry</th><th>CPU &micro;s/op</th>"
        + "<th>idle-machine ops/s</th></tr>\n");
    for (ClusterBench.Level l : r.levels()) {
      out.write(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td><td>%.0f</td><td>%.0f</td><td>%.2f</td>"
          + "<td>%.2f</td><td>%.1f</td><td>%d</td><td>%.1f</td><td>%.1f</td><td>%.0f</td></tr>%n", l.system(),
          l.clients(), l.opsPerSec(), l.pairsPerSec(), l.p50Ms(), l.p99Ms(), l.maxMs(), l.errors(),
          l.opsPerBatch(), l.cpuMicrosPerOp(), l.idleMachineOpsPerSec()));
    }
    out.write("</table>\n<h2>Failover: kill -9 of the leader, time until a write commits again</h2>\n");
    out.write(bars(r.failovers()));
    out.write(String.format(Locale.ROOT, "<p>p50 %.0f ms, p99 %.0f ms, max %.0f ms over %d kills. "
        + "Acknowledged operations %d, outcome unknown %d, lost %d, duplicated %d.</p>%n",
        r.failoverP50Ms(), r.failoverP99Ms(), r.failoverMaxMs(), r.failovers().size(), r.acknowledged(),
        r.unknown(), r.lost(), r.duplicated()));
    out.write(String.format(Locale.ROOT, "<p>Without a kill (the warm-up and the load levels): %d follower(s) stood "
        + "for election, %d new leader(s).</p>%n", r.standsWithoutKill(), r.leaderChangesWithoutKill()));
    out.write("<table><tr><th>kill</th><th>killed</th><th>new leader</th><th>total ms</th><th>detect ms</th>"
        + "<th>election ms</th><th>stands</th><th>leader ready ms</th><th>client ms</th></tr>\n");
    for (ClusterBench.Failover f : r.failovers()) {
      out.write(String.format(Locale.ROOT, "<tr><td>%d</td><td>%s</td><td>%s</td><td>%.0f</td><td>%.0f</td>"
          + "<td>%.0f</td><td>%d</td><td>%.0f</td><td>%.0f</td></tr>%n", f.round(), f.killed(), f.newLeader(),
          f.millisToCommit(), f.detectMs(), f.electionMs(), f.stands(), f.readyMs(), f.clientMs()));
    }
    out.write("</table>\n");
    out.write("</body></html>\n");
    out.flush();
  }

  private static String plot(ClusterBench.Result r, List<Integer> clients, boolean throughput) {
    double lo = Double.MAX_VALUE;
    double hi = 0;
    for (ClusterBench.Level l : r.levels()) {
      double v = throughput ? l.opsPerSec() : l.p99Ms();
      if (v > 0) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    if (hi <= 0) {
      return "<p>no data</p>";
    }
    double llo = Math.floor(Math.log10(lo));
    double lhi = Math.ceil(Math.log10(hi));
    if (lhi <= llo) {
      lhi = llo + 1;
    }
    StringBuilder b = new StringBuilder();
    b.append("<svg width=\"").append(W).append("\" height=\"").append(H).append("\">");
    for (double e = llo; e <= lhi; e++) {
      double y = y(e, llo, lhi);
      b.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
          + "<text x=\"4\" y=\"%.1f\" font-size=\"11\">%s</text>", PAD, W - 10, y, y, y + 4, fmt(Math.pow(10, e))));
    }
    int n = clients.size();
    for (int i = 0; i < n; i++) {
      b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\">%d</text>", x(i, n) - 6,
          H - 8, clients.get(i)));
    }
    String[] systems = ClusterBench.systems();
    for (int s = 0; s < systems.length; s++) {
      StringBuilder pts = new StringBuilder();
      for (int i = 0; i < n; i++) {
        ClusterBench.Level l = ClusterBench.find(r.levels(), systems[s], clients.get(i));
        double v = throughput ? l.opsPerSec() : l.p99Ms();
        if (v > 0) {
          double px = x(i, n);
          double py = y(Math.log10(v), llo, lhi);
          pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
          b.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>", px, py,
              COLORS[s]));
        }
      }
      b.append("<polyline fill=\"none\" stroke-width=\"2\" stroke=\"").append(COLORS[s]).append("\" points=\"")
          .append(pts).append("\"/>");
    }
    return b.append("</svg>\n").toString();
  }

  private static String bars(List<ClusterBench.Failover> fs) {
    if (fs.isEmpty()) {
      return "<p>no kills</p>";
    }
    double max = fs.stream().mapToDouble(ClusterBench.Failover::millisToCommit).max().orElse(1);
    max = Math.max(max, 1000);
    StringBuilder b = new StringBuilder("<svg width=\"" + W + "\" height=\"" + H + "\">");
    double bw = (W - PAD - 10.0) / fs.size();
    b.append("<text x=\"60\" y=\"12\" font-size=\"11\">");
    for (int p = 0; p < PARTS.length; p++) {
      b.append("<tspan fill=\"").append(PART_COLORS[p]).append("\">&#9632; ").append(PARTS[p]).append(" </tspan>");
    }
    b.append("</text>");
    double y1s = H - 20 - (H - 40) * 1000 / max;
    b.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\" "
        + "stroke-dasharray=\"4\"/><text x=\"4\" y=\"%.1f\" font-size=\"11\" fill=\"#d62728\">1 s</text>", PAD,
        W - 10, y1s, y1s, y1s + 4));
    for (int i = 0; i < fs.size(); i++) {
      ClusterBench.Failover f = fs.get(i);
      double v = f.millisToCommit();
      double h = (H - 40) * v / max;
      double[] parts = {f.detectMs(), f.electionMs(), f.readyMs(), f.clientMs()};
      if (Double.isNaN(parts[0])) {
        parts = new double[] {v, 0, 0, 0};
      }
      double base = H - 20;
      for (int p = 0; p < parts.length; p++) {
        double ph = (H - 40) * Math.max(0, parts[p]) / max;
        base -= ph;
        b.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
            + "fill=\"%s\"/>", PAD + i * bw + 2, base, bw - 4, ph, PART_COLORS[p]));
      }
      b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">%.0f</text>",
          PAD + i * bw + 4, H - 24 - h, v));
    }
    return b.append("</svg>\n").toString();
  }

  private static double x(int i, int n) {
    return n == 1 ? (PAD + W) / 2.0 : PAD + 10 + i * (W - PAD - 40.0) / (n - 1);
  }

  private static double y(double logValue, double llo, double lhi) {
    return H - 25 - (H - 40) * (logValue - llo) / (lhi - llo);
  }

  private static String fmt(double v) {
    return v >= 1 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2g", v);
  }
}
