package dev.penumbra.eval.failover;

import dev.penumbra.failover.FailoverEvent;
import dev.penumbra.server.Json;
import java.io.IOException;
import java.util.List;
import java.util.Locale;

/** Table, JSON and HTML forms of a {@link FailoverBench.Result}. */
public final class FailoverReports {

  private FailoverReports() {}

  /** The result as indented JSON, through the product's one mapper (NaN as null, days and instants as ISO text). */
  public static String json(FailoverBench.Result r) throws IOException {
    return Json.pretty(r);
  }

  public static String table(FailoverBench.Result r) {
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT,
        "model trained on %s, drives replayed from %s; %d nodes, %.2f s per day, %d commits/s per node%n",
        r.trainPeriod(), r.testPeriod(), r.nodes(), r.secondsPerDay(), r.commitsPerSecond()));
    s.append(String.format(Locale.ROOT, "penumbra: provision >= %.4f, promote >= %.4f, decommission < %.4f%s, "
        + "budget %d%n%n", r.thresholds().provision(), r.thresholds().promote(), r.thresholds().decommission(),
        r.tuned() ? " (by alarm rate on the training days, the product's default)" : " (calibrated, fixed)", r.budget()));
    s.append(String.format(Locale.ROOT, "%-9s %8s %11s %11s %9s %6s %13s %14s %12s %10s %7s %11s%n", "policy",
        "failures", "down p50 s", "down max s", "acked", "lost", "standby-days", "healthy stby", "moved early",
        "stall s", "wall s", "load"));
    double alwaysDays = r.policies().stream().filter(p -> p.policy().equals("always"))
        .mapToDouble(FailoverBench.PolicyResult::standbyDays).findFirst().orElse(Double.NaN);
    for (FailoverBench.PolicyResult p : r.policies()) {
      s.append(String.format(Locale.ROOT, "%-9s %8d %11s %11s %9d %6d %13.2f %14d %12d %10s %7.0f %5.1f-%-5.1f%n",
          p.policy(), p.failures(), num(p.downtimeP50()), num(p.downtimeMax()), p.acknowledged(), p.lost(),
          p.standbyDays(), p.standbysForHealthyNodes(), p.movedBeforeKill(), num(p.longestStallSeconds()),
          p.wallSeconds(), p.loadAtStart(), p.loadAtEnd()));
    }
    for (FailoverBench.PolicyResult p : r.policies()) {
      if (p.policy().equals("penumbra") && alwaysDays > 0) {
        s.append(String.format(Locale.ROOT, "%npenumbra standby-days / always: %.1f%%%n",
            100 * p.standbyDays() / alwaysDays));
      }
    }
    s.append("\n");
    for (FailoverBench.PolicyResult p : r.policies()) {
      if (p.policy().startsWith("penumbra")) {
        // What a new standby right after a move costs (its standby time) and buys (time at risk without a standby).
        s.append(String.format(Locale.ROOT, "%s after moves: standby-days %.2f, at risk without a standby %.1f s%n",
            p.policy(), p.standbyDaysAfterMoves(), p.exposedSecondsAfterMoves()));
      }
    }
    s.append(String.format(Locale.ROOT, "%n%-9s %-5s %-18s %-26s %-10s %6s %6s %9s %7s %7s %7s %-26s %s%n",
        "policy", "node", "drive", "why", "fails on", "max p", "killed", "down s", "detect", "stall s", "lost",
        "ack>hold>redir>ack ms", "moves"));
    for (FailoverBench.PolicyResult p : r.policies()) {
      for (FailoverBench.NodeResult n : p.nodes()) {
        StringBuilder moves = new StringBuilder();
        for (FailoverEvent e : n.moves()) {
          moves.append(e.cause().name().toLowerCase(Locale.ROOT)).append(e.withStandby() ? "/promote " : "/restore ")
              .append(e.millis()).append(" ms").append(e.error() == null ? "" : " ERROR " + e.error()).append("; ");
        }
        FailoverBench.MoveTimeline t = n.firstMove();
        String timeline = t == null ? "-" : String.format(Locale.ROOT, "%.0f/%.0f/%.0f w%d g%+.0f",
            t.lastAckToHoldMillis(), t.holdToRedirectMillis(), t.redirectToFirstAckMillis(), t.warmConnections(),
            t.longestGapStartMillis());
        s.append(String.format(Locale.ROOT, "%-9s %-5s %-18s %-26s %-10s %6.3f %6s %9s %7s %7s %7d %-26s %s%n",
            p.policy(), n.node(), n.drive(), n.why(), n.failsOn() == null ? "-" : n.failsOn().toString(),
            n.maxRisk(), n.killed() ? "yes" : "no", num(n.downtimeSeconds()), num(n.detectionSeconds()),
            num(n.longestStallSeconds()), n.lost(), timeline, moves));
      }
    }
    s.append("\ndown: from the last commit before the kill or the move to the first on the new primary; stall: the"
        + " longest time without a commit over the whole replay, any cause.\nack>hold>redir>ack: the first move's last commit before the hold, hold to redirect, redirect to the"
        + " first commit on the new primary (ms); wN: connections opened to the standby in advance; g: where the stall started, ms from the hold.\n");
    return s.toString();
  }

  /**
   * Each node's risk per replayed day under {@code p} (log scale, with the provision and promote thresholds), the
   * days its standby was provisioning (light) or ready (darker), its drive's failure (red line) and its moves
   * (black triangle).
   */
  static String riskPlot(FailoverBench.PolicyResult p, dev.penumbra.failover.Thresholds th) {
    int w = 640;
    int rowH = 100;
    int left = 200;
    int plotW = w - left - 20;
    StringBuilder s = new StringBuilder("<h2>Risk per node over the replayed days (").append(Svg.esc(p.policy()))
        .append(")</h2>\n<p>Log scale from 1e-4 to 1; dashed: provision (orange) and promote (red) thresholds; band:"
            + " standby provisioning (light) or ready (dark); red line: the drive's failure; triangle: a move.</p>\n");
    s.append(String.format(Locale.ROOT, "<svg width=\"%d\" height=\"%d\">", w, rowH * p.nodes().size() + 10));
    // One day axis for every node: the replayed days any node was observed on, and the failure days.
    java.util.TreeSet<java.time.LocalDate> daySet = new java.util.TreeSet<>();
    for (FailoverBench.NodeResult n : p.nodes()) {
      n.risks().forEach(r -> daySet.add(r.day()));
      if (n.failsOn() != null) {
        daySet.add(n.failsOn());
      }
    }
    // Every day between the first and the last, observed or not (a node is no longer observed once it moved).
    List<java.time.LocalDate> days = daySet.isEmpty() ? List.of()
        : daySet.first().datesUntil(daySet.last().plusDays(1)).toList();
    double dx = days.size() <= 1 ? plotW : (double) plotW / (days.size() - 1);
    for (int k = 0; k < p.nodes().size(); k++) {
      FailoverBench.NodeResult n = p.nodes().get(k);
      List<FailoverBench.RiskPoint> pts = n.risks();
      int top = 5 + k * rowH;
      int h = rowH - 30;
      s.append(String.format(Locale.ROOT, "<text x=\"4\" y=\"%d\" font-size=\"11\">%s %s</text>"
          + "<text x=\"4\" y=\"%d\" font-size=\"10\" fill=\"#666\">%s</text>", top + 14, Svg.esc(n.node()),
          Svg.esc(n.drive()), top + 28, Svg.esc(n.why())));
      s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\""
          + " stroke=\"#bbb\"/>", left, top, plotW, h));
      if (pts.isEmpty()) {
        continue;
      }
      for (FailoverBench.RiskPoint pt : pts) {
        dev.penumbra.failover.StandbyState st = pt.standby();
        if (st == dev.penumbra.failover.StandbyState.READY || st == dev.penumbra.failover.StandbyState.PROVISIONING) {
          double x = left + days.indexOf(pt.day()) * dx;
          double x0 = Math.max(left, x - dx / 2);
          double x1 = Math.min(left + plotW, x + dx / 2);
          s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\""
              + " fill=\"%s\"/>", x0, top, x1 - x0, h,
              st == dev.penumbra.failover.StandbyState.READY ? "#9ecae1" : "#deebf7"));
        }
      }
      for (double[] line : new double[][] {{th.provision(), 0}, {th.promote(), 1}}) {
        double y = ry(line[0], top, h);
        s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\""
            + " stroke-dasharray=\"4\"/>", left, y, left + plotW, y, line[1] == 0 ? "#ff7f0e" : "#d62728"));
      }
      StringBuilder poly = new StringBuilder();
      for (FailoverBench.RiskPoint pt : pts) {
        poly.append(String.format(Locale.ROOT, "%.1f,%.1f ", left + days.indexOf(pt.day()) * dx,
            ry(pt.risk(), top, h)));
      }
      s.append("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"").append(poly)
          .append("\"/>");
      if (n.failsOn() != null) {
        // The drive fails mid-day.
        double x = Math.min(left + plotW, left + (days.indexOf(n.failsOn()) + 0.5) * dx);
        s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#d62728\""
            + " stroke-width=\"2\"/>", x, top, x, top + h));
      }
      if (!n.moves().isEmpty()) {
        // A planned move follows the last observed day's risk; a detected one, the failure.
        double x = n.moves().get(0).cause() == dev.penumbra.failover.FailoverEvent.Cause.PLANNED || n.failsOn() == null
            ? left + days.indexOf(pts.get(pts.size() - 1).day()) * dx
            : Math.min(left + plotW, left + (days.indexOf(n.failsOn()) + 0.5) * dx);
        s.append(String.format(Locale.ROOT, "<polygon points=\"%.1f,%d %.1f,%d %.1f,%d\" fill=\"#000\"/>"
            + "<text x=\"%.1f\" y=\"%d\" font-size=\"10\">%s</text>", x - 5, top + h + 12, x + 5, top + h + 12, x,
            top + h + 3, Math.min(x + 8, left + plotW - 110.0), top + h + 22, Svg.esc(n.moves().get(0).cause().name().toLowerCase(
                Locale.ROOT) + (n.moves().get(0).withStandby() ? " promotion" : " restore"))));
      }
      s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"10\">%s</text>"
          + "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%s</text>", left + 2, top + h + 12,
          Svg.esc(days.get(0).toString()), left + plotW, top + h + 12, Svg.esc(days.get(days.size() - 1).toString())));
    }
    return s.append("</svg>\n").toString();
  }

  private static double ry(double risk, int top, int h) {
    double v = (Math.log10(Math.max(1e-4, risk)) + 4) / 4;
    return top + h - Math.max(0, Math.min(1, v)) * h;
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
    for (FailoverBench.PolicyResult p : r.policies()) {
      if (p.policy().equals("penumbra")) {
        s.append(riskPlot(p, r.thresholds()));
      }
    }
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
