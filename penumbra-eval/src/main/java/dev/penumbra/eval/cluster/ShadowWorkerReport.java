package dev.penumbra.eval.cluster;

import java.io.IOException;
import java.io.Writer;
import java.util.Locale;

/** The shadow-worker benchmark as a self-contained HTML page (inline SVG): shadows/s per level, tables. */
public final class ShadowWorkerReport {
  private static final int W = 760;
  private static final int H = 240;
  private static final int PAD = 55;

  private ShadowWorkerReport() {}

  public static void write(ShadowWorkerBench.Result r, Writer out) throws IOException {
    out.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Penumbra shadow workers</title>"
        + "<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}"
        + "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
        + "svg{background:#fafafa;border:1px solid #ddd;margin:.3em 0}</style></head><body>\n");
    out.write(String.format(Locale.ROOT, "<h1>Query shadows through shadow workers (TPC-H SF %s, %d clients)</h1>%n"
        + "<p>Machine: %d cores. Load before %s, after %s.</p>%n", r.scale(), r.clients(), r.cores(), r.loadBefore(),
        r.loadAfter()));
    out.write("<h2>Shadows per second against the workers up</h2>\n");
    out.write(bars(r));
    out.write("<table><tr><th>workers</th><th>kill -9</th><th>shadows/s</th><th>p50 ms</th><th>p99 ms</th>"
        + "<th>control CPU ms/shadow</th><th>worker CPU ms/shadow</th><th>remote</th><th>local</th>"
        + "<th>fell back</th><th>lost</th><th>before / after kill /s</th></tr>\n");
    for (ShadowWorkerBench.Level l : r.levels()) {
      out.write(String.format(Locale.ROOT, "<tr><td>%d</td><td>%s</td><td>%.1f</td><td>%.1f</td><td>%.1f</td>"
          + "<td>%.2f</td><td>%.2f</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%s</td></tr>%n",
          l.workers(), l.killed() ? "one, halfway" : "", l.perSecond(), l.p50Ms(), l.p99Ms(),
          l.controlCpuMsPerShadow(), l.workerCpuMsPerShadow(), l.remote(), l.local(), l.fellBack(), l.lost(),
          l.killed() ? String.format(Locale.ROOT, "%.1f / %.1f", l.beforeKillPerSecond(), l.afterKillPerSecond())
              : ""));
    }
    out.write("</table>\n<h2>On N machines (projected from the measured CPU per shadow)</h2>\n<ul>\n");
    for (String line : r.projection()) {
      out.write("<li>" + line.strip().replace("&", "&amp;").replace("<", "&lt;") + "</li>\n");
    }
    out.write("</ul>\n</body></html>\n");
    out.flush();
  }

  private static String bars(ShadowWorkerBench.Result r) {
    double hi = r.levels().stream().mapToDouble(ShadowWorkerBench.Level::perSecond).max().orElse(1);
    hi = hi > 0 ? hi * 1.1 : 1;
    int n = r.levels().size();
    double slot = (W - 2.0 * PAD) / Math.max(1, n);
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT,
        "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">", W, H, W, H));
    s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", PAD,
        H - PAD, W - PAD, H - PAD));
    for (int i = 0; i < n; i++) {
      ShadowWorkerBench.Level l = r.levels().get(i);
      double h = (H - 2.0 * PAD) * l.perSecond() / hi;
      double x = PAD + i * slot + slot * 0.2;
      s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
          x, H - PAD - h, slot * 0.6, h, l.killed() ? "#d62728" : "#1f77b4"));
      s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">"
          + "%.1f/s</text>", x + slot * 0.3, H - PAD - h - 4, l.perSecond()));
      s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">%d%s"
          + "</text>", x + slot * 0.3, H - PAD + 16, l.workers(), l.killed() ? " (1 killed)" : ""));
    }
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\">workers</text>", W / 2, H - 12));
    return s.append("</svg>\n").toString();
  }
}
