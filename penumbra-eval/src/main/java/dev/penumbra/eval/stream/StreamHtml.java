package dev.penumbra.eval.stream;

import dev.penumbra.eval.stream.StreamBenchmark.Level;
import dev.penumbra.eval.stream.StreamBenchmark.ScalerResult;
import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The stream sweep as a self-contained HTML page (inline SVG and CSS, no script, no network): p99 latency (log
 * scale), worker-seconds and scaling actions against the load level, one line per scaler, then the figures.
 */
public final class StreamHtml {

  private static final String[] COLORS = {"#1f77b4", "#d62728", "#7f7f7f", "#8c564b", "#2ca02c"};
  private static final int W = 640;
  private static final int H = 280;
  private static final int PAD = 55;

  private StreamHtml() {}

  public static void write(List<Level> levels, Writer out) throws IOException {
    if (levels.isEmpty()) {
      throw new IllegalArgumentException("no load level to report");
    }
    List<String> scalers = new ArrayList<>();
    for (ScalerResult s : levels.get(0).result().scalers()) {
      scalers.add(s.name());
    }
    out.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Penumbra stream benchmark"
        + "</title>\n<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
        + "margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,"
        + "th:first-child{text-align:left}svg{background:#fafafa;border:1px solid #ddd;margin:.3em .3em 0 0}"
        + ".legend span{margin-right:1em}</style></head><body>\n<h1>Penumbra stream benchmark: load sweep</h1>\n");
    StreamBenchmark.Options o = levels.get(0).result().options();
    out.write(String.format(Locale.ROOT, "<p>%d partition(s): %s. Load = the traces' peak rate over the nominal "
        + "capacity (%d workers per partition). Start delay %s s, cost %s us per record.</p>\n",
        o.partitions().size(), esc(String.join(", ", o.partitions().stream().map(StreamBenchmark.RateSeries::name)
            .toList())), o.peakWorkers(), StreamReport.fmt(o.startDelaySeconds()),
        StreamReport.fmt(o.costMicros())));
    out.write("<p class=\"legend\">");
    for (int i = 0; i < scalers.size(); i++) {
      out.write("<span style=\"color:" + COLORS[i % COLORS.length] + "\">&#9632; " + esc(scalers.get(i)) + "</span>");
    }
    out.write("</p>\n");
    out.write(plot(levels, scalers, "p99 latency (ms, log scale)", ScalerResult::p99Millis, true));
    out.write(plot(levels, scalers, "worker-seconds", ScalerResult::workerSeconds, false));
    out.write(plot(levels, scalers, "scaling actions", s -> s.scalingActions(), false));
    out.write("\n<table><tr><th>load</th><th>scaler</th><th>p50 ms</th><th>p99 ms</th><th>worker-s</th>"
        + "<th>scalings</th><th>max backlog</th></tr>\n");
    for (Level l : levels) {
      for (ScalerResult s : l.result().scalers()) {
        out.write(String.format(Locale.ROOT, "<tr><td>%s</td><td>%s</td><td>%.1f</td><td>%.1f</td><td>%.0f</td>"
            + "<td>%d</td><td>%d</td></tr>%n", StreamReport.fmt(l.load()), esc(s.name()), s.p50Millis(),
            s.p99Millis(), s.workerSeconds(), s.scalingActions(), s.maxBacklog()));
      }
    }
    out.write("</table>\n<table><tr><th>load</th><th>penumbra's acting rule</th><th>reserved/used CPU</th>"
        + "<th>shadow CPU / primary</th><th>p99 gap closed</th><th>worker-s gap closed</th></tr>\n");
    for (Level l : levels) {
      StreamBenchmark.Loop loop = l.result().loop();
      var g = StreamReport.gapClosed(l.result());
      out.write(String.format(Locale.ROOT, "<tr><td>%s</td><td>%s</td><td>%.2f</td><td>%.2f%%</td><td>%s</td>"
          + "<td>%s</td></tr>%n", StreamReport.fmt(l.load()), esc(loop.acting()), loop.reservedPerUsed(),
          loop.shadowCost() * 100, share(g.get("p99")), share(g.get("workerSeconds"))));
    }
    out.write("</table>\n</body></html>\n");
    out.flush();
  }

  private static String share(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.0f%%", v * 100);
  }

  private static String plot(List<Level> levels, List<String> scalers, String title,
      ToDoubleFunction<ScalerResult> metric, boolean log) {
    double xMin = levels.stream().mapToDouble(Level::load).min().orElse(0);
    double xMax = levels.stream().mapToDouble(Level::load).max().orElse(1);
    if (xMax - xMin < 1e-9) {
      xMin -= 0.5;
      xMax += 0.5;
    }
    double yMin = Double.POSITIVE_INFINITY;
    double yMax = Double.NEGATIVE_INFINITY;
    for (Level l : levels) {
      for (ScalerResult s : l.result().scalers()) {
        double v = y(metric.applyAsDouble(s), log);
        yMin = Math.min(yMin, v);
        yMax = Math.max(yMax, v);
      }
    }
    if (!log) {
      yMin = Math.min(0, yMin);
    }
    if (yMax - yMin < 1e-9) {
      yMax = yMin + 1;
    }
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">",
        W, H, W, H));
    b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"16\" font-size=\"13\">%s</text>", PAD, esc(title)));
    b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", PAD,
        H - PAD, W - 10, H - PAD));
    b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"25\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>", PAD, PAD,
        H - PAD));
    for (Level l : levels) {
      double x = sx(l.load(), xMin, xMax);
      b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s"
          + "</text>", x, H - PAD + 15, StreamReport.fmt(l.load())));
    }
    b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">load"
        + "</text>", W / 2, H - 12));
    for (double f : new double[] {0, 0.5, 1}) {
      double v = yMin + f * (yMax - yMin);
      double label = log ? Math.pow(10, v) : v;
      b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>",
          PAD - 4, sy(v, yMin, yMax) + 4, label >= 100 ? String.format(Locale.ROOT, "%.0f", label)
              : String.format(Locale.ROOT, "%.2g", label)));
    }
    for (int k = 0; k < scalers.size(); k++) {
      StringBuilder pts = new StringBuilder();
      for (Level l : levels) {
        ScalerResult s = l.result().scaler(scalers.get(k));
        pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", sx(l.load(), xMin, xMax),
            sy(y(metric.applyAsDouble(s), log), yMin, yMax)));
      }
      String c = COLORS[k % COLORS.length];
      b.append("<polyline fill=\"none\" stroke-width=\"2\" stroke=\"").append(c).append("\" points=\"")
          .append(pts.toString().trim()).append("\"><title>").append(esc(scalers.get(k))).append("</title></polyline>");
    }
    b.append("</svg>\n");
    return b.toString();
  }

  private static double y(double v, boolean log) {
    return log ? Math.log10(Math.max(0.1, v)) : v;
  }

  private static double sx(double x, double min, double max) {
    return PAD + (x - min) / (max - min) * (W - PAD - 20);
  }

  private static double sy(double y, double min, double max) {
    return H - PAD - (y - min) / (max - min) * (H - PAD - 30);
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
