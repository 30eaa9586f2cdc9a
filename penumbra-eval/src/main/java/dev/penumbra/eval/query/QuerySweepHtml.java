package dev.penumbra.eval.query;

import dev.penumbra.core.Priority;
import java.io.IOException;
import java.io.Writer;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The load sweep as a self-contained HTML page (inline SVG, no script, no network): latency per priority,
 * throughput, reserved and used memory-time and the shadow's share against load, one line per mode.
 */
final class QuerySweepHtml {
  private QuerySweepHtml() {}

  private static final String[] MODES = {"penumbra", "fifo", "none", "priority"};
  private static final String[] COLORS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"};
  private static final int W = 420;
  private static final int H = 240;
  private static final int PAD = 48;

  static void write(QueryBench.Result r, Writer out) throws IOException {
    List<QuerySweep.Level> levels = r.sweep();
    out.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Penumbra bench query</title>\n"
        + "<style>body{font-family:sans-serif;margin:2em;color:#222}svg{background:#fafafa;border:1px solid #ddd;"
        + "margin:.3em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
        + ".legend span{margin-right:1em}</style></head><body>\n");
    out.write(String.format(Locale.ROOT, "<h1>Query load sweep: TPC-H SF %s, %s</h1>\n<p>%d queries per level and "
        + "mode, Poisson arrivals at the given share of capacity (%.2f queries/s).</p>\n", r.options().scale(),
        r.options().engine(), r.options().sweepQueries(), r.capacityPerSecond()));
    StringBuilder legend = new StringBuilder("<p class=\"legend\">");
    for (int i = 0; i < MODES.length; i++) {
      String mode = MODES[i];
      if (levels.stream().noneMatch(l -> l.mode().equals(mode))) {
        continue;
      }
      legend.append("<span style=\"color:").append(COLORS[i]).append("\">&#9632; ").append(MODES[i]).append("</span>");
    }
    out.write(legend.append("</p>\n").toString());
    for (Priority p : Priority.values()) {
      out.write(plot(levels, p.label() + " p99 latency (ms)", l -> {
        QuerySweep.Pct x = l.latency().get(p);
        return x == null ? Double.NaN : x.p99();
      }));
    }
    out.write(plot(levels, "throughput (queries/s)", QuerySweep.Level::throughputPerSecond));
    out.write(plot(levels, "memory reserved (GiB·s)", QuerySweep.Level::reservedGibSeconds));
    out.write(plot(levels, "memory used (GiB·s)", QuerySweep.Level::usedGibSeconds));
    out.write(plot(levels, "shadow time / primary time", QuerySweep.Level::shadowShare));
    out.write("\n</body></html>\n");
    out.flush();
  }

  private static String plot(List<QuerySweep.Level> levels, String title, ToDoubleFunction<QuerySweep.Level> y) {
    double[] loads = levels.stream().mapToDouble(QuerySweep.Level::load).distinct().sorted().toArray();
    double max = levels.stream().mapToDouble(y).filter(Double::isFinite).max().orElse(1);
    max = max > 0 ? max * 1.1 : 1;
    double minX = loads.length == 0 ? 0 : loads[0];
    double maxX = loads.length == 0 ? 1 : Math.max(minX + 1e-9, loads[loads.length - 1]);
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
        "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">", W, H));
    b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"16\" font-size=\"13\">%s</text>", PAD, title));
    b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", PAD, H - PAD,
        W - 10, H - PAD));
    b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", PAD, 24, PAD,
        H - PAD));
    b.append(String.format(Locale.ROOT, "<text x=\"4\" y=\"30\" font-size=\"10\">%.3g</text>", max));
    b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"10\">load (share of capacity)</text>",
        W / 2 - 50, H - 8));
    for (double l : loads) {
      b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\">%.2f</text>",
          x(l, minX, maxX) - 10, H - PAD + 14, l));
    }
    for (int m = 0; m < MODES.length; m++) {
      String mode = MODES[m];
      StringBuilder pts = new StringBuilder();
      for (QuerySweep.Level l : levels) {
        double v = y.applyAsDouble(l);
        if (l.mode().equals(mode) && Double.isFinite(v)) {
          double px = x(l.load(), minX, maxX);
          double py = (H - PAD) - v / max * (H - PAD - 24);
          pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
          b.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>", px, py,
              COLORS[m]));
        }
      }
      b.append("<polyline fill=\"none\" stroke=\"").append(COLORS[m]).append("\" points=\"").append(pts).append("\"/>");
    }
    return b.append("</svg>\n").toString();
  }

  private static double x(double load, double min, double max) {
    return PAD + (load - min) / (max - min) * (W - PAD - 30);
  }
}
