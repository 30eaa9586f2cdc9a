package dev.penumbra.eval.failover;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import dev.penumbra.failover.FailoverEvent;
import java.io.IOException;
import java.util.List;
import java.util.Locale;

/** Table, JSON and HTML forms of a {@link FailoverBench.Result}. */
public final class FailoverReports {

  private FailoverReports() {}

  public static String json(FailoverBench.Result r) throws IOException {
    // Dates and instants as ISO text.
    SimpleModule time = new SimpleModule();
    time.addSerializer(java.time.LocalDate.class, ToStringSerializer.instance);
    time.addSerializer(java.time.Instant.class, ToStringSerializer.instance);
    ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).registerModule(time);
    return m.writeValueAsString(r);
  }

  public static String table(FailoverBench.Result r) {
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT,
        "model trained on %s, drives replayed from %s; %d nodes, %.2f s per day, %d commits/s per node%n",
        r.trainPeriod(), r.testPeriod(), r.nodes(), r.secondsPerDay(), r.commitsPerSecond()));
    s.append(String.format(Locale.ROOT, "penumbra: provision >= %.4f, promote >= %.4f, decommission < %.4f%s, "
        + "budget %d%n%n", r.thresholds().provision(), r.thresholds().promote(), r.thresholds().decommission(),
        r.tuned() ? " (tuned on the training days)" : "", r.budget()));
    s.append(String.format(Locale.ROOT, "%-9s %8s %11s %11s %9s %6s %13s %14s %12s %7s%n", "policy", "failures",
        "down p50 s", "down max s", "acked", "lost", "standby-days", "healthy stby", "moved early", "wall s"));
    double alwaysDays = r.policies().stream().filter(p -> p.policy().equals("always"))
        .mapToDouble(FailoverBench.PolicyResult::standbyDays).findFirst().orElse(Double.NaN);
    for (FailoverBench.PolicyResult p : r.policies()) {
      s.append(String.format(Locale.ROOT, "%-9s %8d %11s %11s %9d %6d %13.2f %14d %12d %7.0f%n", p.policy(),
          p.failures(), num(p.downtimeP50()), num(p.downtimeMax()), p.acknowledged(), p.lost(), p.standbyDays(),
          p.standbysForHealthyNodes(), p.movedBeforeKill(), p.wallSeconds()));
    }
    for (FailoverBench.PolicyResult p : r.policies()) {
      if (p.policy().equals("penumbra") && alwaysDays > 0) {
        s.append(String.format(Locale.ROOT, "%npenumbra standby-days / always: %.1f%%%n",
            100 * p.standbyDays() / alwaysDays));
      }
    }
    s.append(String.format(Locale.ROOT, "%n%-9s %-5s %-18s %-26s %-10s %6s %6s %9s %7s %7s %s%n", "policy", "node",
        "drive", "why", "fails on", "max p", "killed", "down s", "detect", "lost", "moves"));
    for (FailoverBench.PolicyResult p : r.policies()) {
      for (FailoverBench.NodeResult n : p.nodes()) {
        StringBuilder moves = new StringBuilder();
        for (FailoverEvent e : n.moves()) {
          moves.append(e.cause().name().toLowerCase(Locale.ROOT)).append(e.withStandby() ? "/promote " : "/restore ")
              .append(e.millis()).append(" ms").append(e.error() == null ? "" : " ERROR " + e.error()).append("; ");
        }
        s.append(String.format(Locale.ROOT, "%-9s %-5s %-18s %-26s %-10s %6.3f %6s %9s %7s %7d %s%n", p.policy(),
            n.node(), n.drive(), n.why(), n.failsOn() == null ? "-" : n.failsOn().toString(), n.maxRisk(),
            n.killed() ? "yes" : "no", num(n.downtimeSeconds()), num(n.detectionSeconds()), n.lost(), moves));
      }
    }
    return s.toString();
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3f", v);
  }

  /** The table and a bar chart of downtime and standby-days per policy (inline SVG). */
  public static String html(FailoverBench.Result r) {
    StringBuilder s = new StringBuilder();
    s.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Penumbra failover</title>\n"
        + "<style>body{font-family:sans-serif;margin:2em;color:#222}pre{background:#f6f6f6;padding:1em}"
        + "svg{background:#fafafa;border:1px solid #ddd;margin:.3em}</style></head><body>\n"
        + "<h1>Failover on live PostgreSQL nodes, drives replayed from Backblaze SMART data</h1>\n");
    s.append("<pre>").append(Svg.esc(table(r))).append("</pre>\n");
    s.append(bars("Downtime per failure, max (s)", r.policies().stream().map(FailoverBench.PolicyResult::policy)
        .toList(), r.policies().stream().map(FailoverBench.PolicyResult::downtimeMax).toList()));
    s.append(bars("Standby-days (data time)", r.policies().stream().map(FailoverBench.PolicyResult::policy).toList(),
        r.policies().stream().map(FailoverBench.PolicyResult::standbyDays).toList()));
    s.append("</body></html>\n");
    return s.toString();
  }

  private static String bars(String title, List<String> names, List<Double> values) {
    double max = values.stream().filter(v -> !v.isNaN()).mapToDouble(Double::doubleValue).max().orElse(1);
    if (max <= 0) {
      max = 1;
    }
    StringBuilder s = new StringBuilder("<h2>").append(Svg.esc(title)).append("</h2>\n<svg width=\"520\" height=\"")
        .append(30 * names.size() + 10).append("\">");
    for (int i = 0; i < names.size(); i++) {
      double v = values.get(i);
      double w = Double.isNaN(v) ? 0 : 360 * v / max;
      s.append(String.format(Locale.ROOT, "<text x=\"5\" y=\"%d\" font-size=\"12\">%s</text>"
          + "<rect x=\"90\" y=\"%d\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>"
          + "<text x=\"%.1f\" y=\"%d\" font-size=\"12\">%s</text>", 22 + 30 * i, Svg.esc(names.get(i)), 8 + 30 * i, w,
          Svg.COLORS[i % Svg.COLORS.length], 95 + w, 22 + 30 * i, num(v)));
    }
    return s.append("</svg>\n").toString();
  }
}
