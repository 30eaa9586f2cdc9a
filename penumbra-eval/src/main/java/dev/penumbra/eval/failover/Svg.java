package dev.penumbra.eval.failover;

import java.util.List;
import java.util.Locale;

/** Minimal inline-SVG line plots for the failover reports: no script, no network. */
final class Svg {

  static final String[] COLORS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};
  private static final int W = 420;
  private static final int H = 320;
  private static final int PAD = 40;

  private Svg() {}

  static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }

  static String legend(List<String> names) {
    StringBuilder s = new StringBuilder("<p class=\"legend\">");
    for (int i = 0; i < names.size(); i++) {
      s.append("<span style=\"color:").append(COLORS[i % COLORS.length]).append("\">&#9632; ")
          .append(esc(names.get(i))).append("</span>");
    }
    return s.append("</p>\n").toString();
  }

  /** Series on [0,1] x [0,1] (y on a log scale from 1e-4 when {@code logY}); a diagonal when asked. */
  static String xy(String title, List<List<FailureBench.Point>> series, boolean diagonal, boolean logY) {
    StringBuilder s = new StringBuilder();
    s.append("<h2>").append(esc(title)).append("</h2>\n");
    s.append(String.format(Locale.ROOT, "<svg width=\"%d\" height=\"%d\">", W, H));
    s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
        + "stroke=\"#999\"/>", PAD, PAD / 2, W - PAD - 10, H - PAD - PAD / 2));
    if (diagonal) {
      s.append(line(0, 0, 1, 1, logY, "#bbb"));
    }
    for (int k = 0; k < series.size(); k++) {
      StringBuilder pts = new StringBuilder();
      for (FailureBench.Point p : series.get(k)) {
        if (Double.isNaN(p.x()) || Double.isNaN(p.y())) {
          continue;
        }
        pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px(p.x()), py(p.y(), logY)));
      }
      s.append("<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"").append(COLORS[k % COLORS.length])
          .append("\" points=\"").append(pts).append("\"/>");
    }
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\">0</text>", PAD - 12, H - PAD + 4));
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\">1</text>", W - 16, H - PAD + 16));
    s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\">1</text>", PAD - 12, PAD / 2 + 8));
    if (logY) {
      s.append(String.format(Locale.ROOT, "<text x=\"2\" y=\"%d\" font-size=\"11\">1e-4</text>", H - PAD));
    }
    return s.append("</svg>\n").toString();
  }

  private static String line(double x0, double y0, double x1, double y1, boolean logY, String color) {
    return String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
        + "stroke-dasharray=\"4\"/>", px(x0), py(y0, logY), px(x1), py(y1, logY), color);
  }

  private static double px(double x) {
    return PAD + Math.max(0, Math.min(1, x)) * (W - PAD - 10);
  }

  private static double py(double y, boolean logY) {
    double v = y;
    if (logY) {
      v = (Math.log10(Math.max(1e-4, y)) + 4) / 4;
    }
    return H - PAD - Math.max(0, Math.min(1, v)) * (H - PAD - PAD / 2);
  }
}
