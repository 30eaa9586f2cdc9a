package dev.penumbra.eval.failover;

import dev.penumbra.server.Json;
import java.io.IOException;
import java.util.List;
import java.util.Locale;

/** Table, JSON and HTML forms of a {@link FailureBench.Result}. */
public final class FailureReports {

  private FailureReports() {}

  public static String json(FailureBench.Result r) throws IOException {
    return Json.pretty(r);
  }

  public static String table(FailureBench.Result r) {
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT, "train %s (%d labelled drive-days, %d positive, %d failures)%n",
        r.trainPeriod(), r.trainRows(), r.trainPositives(), r.trainFailures()));
    s.append(String.format(Locale.ROOT,
        "test  %s (%d drive-days, %d positive, %d failures), horizon %d day(s), base rate %.5f%n", r.testPeriod(),
        r.testRows(), r.testPositives(), r.testFailures(), r.horizonDays(), r.baseRate()));
    FailureBench.ShippedDefaults d = r.shippedDefaults();
    s.append(String.format(Locale.ROOT, "%nshipped defaults (serve, demo, bench failover): thresholds by alarm rate on"
        + " the training days: %s%n", d.thresholds()));
    for (int k = 0; k < 2; k++) {
      FailureBench.AtThreshold a = k == 0 ? d.atProvision() : d.atPromote();
      s.append(String.format(Locale.ROOT, "  %-9s >= %.4f: aimed at %.2f%% of drive-days, held-out %.2f%%; precision"
          + " %s, recall %d/%d, median lead %s days, %.1f false alarms/day%n", k == 0 ? "provision" : "promote",
          a.threshold(), 100 * (k == 0 ? d.provisionShare() : d.promoteShare()),
          100 * (k == 0 ? d.heldOutProvisionShare() : d.heldOutPromoteShare()), pct(a.precision()), a.caught(),
          a.failures(), num(a.medianLeadDays()), a.falseAlarmsPerDay()));
    }
    s.append("  (0.7 / 0.9 as fixed calibrated risks are scored below: no model of this data reaches them)\n\n");
    s.append(String.format(Locale.ROOT, "%-18s %8s %8s %8s %8s%n", "model", "brier", "roc-auc", "pr-auc", "max p"));
    for (FailureBench.ModelResult m : r.models()) {
      s.append(String.format(Locale.ROOT, "%-18s %8.5f %8.3f %8.4f %8.3f%n", m.model(), m.brier(), m.rocAuc(),
          m.prAuc(), m.maxProbability()));
    }
    s.append(String.format(Locale.ROOT, "%-15s %8.5f (base rate for every drive-day)%n", "climatology",
        r.climatologyBrier()));
    s.append(String.format(Locale.ROOT, "%n%-18s %7s %7s %6s %9s %9s %9s %10s %12s%n", "model", "thr", "alarms",
        "true", "precision", "recall", "lead d", "FA/day", "FA drives"));
    for (FailureBench.ModelResult m : r.models()) {
      for (FailureBench.AtThreshold a : m.thresholds()) {
        s.append(String.format(Locale.ROOT, "%-18s %7.4f %7d %6d %9s %9s %9s %10.1f %12d%n", m.model(),
            a.threshold(), a.alarms(), a.trueAlarms(), pct(a.precision()),
            a.caught() + "/" + a.failures(), num(a.medianLeadDays()), a.falseAlarmsPerDay(),
            a.falselyAlarmedDrives()));
      }
    }
    s.append(String.format(Locale.ROOT, "%n%-18s %-12s %9s %8s %10s %9s%n", "model", "scored in", "drive-days",
        "failing", "mean pred", "observed"));
    for (FailureBench.ModelResult m : r.models()) {
      for (FailureBench.Band b : m.bands()) {
        s.append(String.format(Locale.ROOT, "%-18s [%.2f, %.2f%s %9d %8d %10s %9s%n", m.model(), b.low(), b.high(),
            b.high() >= 1 ? "]" : ")", b.count(), b.failing(), num3(b.meanPredicted()), pct(b.observed())));
      }
    }
    s.append(String.format(Locale.ROOT, "%nreliability (%s): predicted bin -> drive-days, mean predicted, observed%n",
        FailureBench.PENUMBRA));
    for (FailureBench.Bin b : r.models().get(0).reliability()) {
      if (b.count() > 0) {
        s.append(String.format(Locale.ROOT, "  [%.1f, %.1f) %8d %8.4f %8.4f%n", b.low(), b.high(), b.count(),
            b.meanPredicted(), b.observed()));
      }
    }
    return s.toString();
  }

  private static String pct(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f%%", v * 100);
  }

  private static String num3(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3f", v);
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f", v);
  }

  /** A self-contained page: the tables, the reliability diagram, ROC and PR curves as inline SVG. */
  public static String html(FailureBench.Result r) {
    StringBuilder s = new StringBuilder();
    s.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Penumbra failure prediction"
        + "</title>\n<style>body{font-family:sans-serif;margin:2em;color:#222}pre{background:#f6f6f6;padding:1em}"
        + "svg{background:#fafafa;border:1px solid #ddd;margin:.3em}.legend span{margin-right:1em}</style>"
        + "</head><body>\n<h1>Failure prediction on Backblaze SMART data</h1>\n");
    s.append("<pre>").append(Svg.esc(table(r))).append("</pre>\n");
    s.append(Svg.legend(r.models().stream().map(FailureBench.ModelResult::model).toList()));
    List<List<FailureBench.Point>> roc = r.models().stream().map(FailureBench.ModelResult::roc).toList();
    List<List<FailureBench.Point>> pr = r.models().stream().map(FailureBench.ModelResult::pr).toList();
    s.append(Svg.xy("ROC (false positive rate vs true positive rate)", roc, true, false));
    s.append(Svg.xy("Precision-recall (recall vs precision, log precision)", pr, false, true));
    List<List<FailureBench.Point>> rel = r.models().stream().limit(3)
        .map(m -> m.reliability().stream().filter(b -> b.count() > 0)
            .map(b -> new FailureBench.Point(b.meanPredicted(), b.observed())).toList()).toList();
    s.append(Svg.xy("Reliability (mean predicted vs observed failure share, per 0.1 bin; diagonal = calibrated)",
        rel, true, false));
    s.append("</body></html>\n");
    return s.toString();
  }
}
