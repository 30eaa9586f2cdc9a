package dev.penumbra.eval.replay;

import static dev.penumbra.eval.replay.ReplayBench.BUDGET;
import static dev.penumbra.eval.replay.ReplayBench.LEAD;
import static dev.penumbra.eval.replay.ReplayBench.MIN_SCORED;
import static dev.penumbra.eval.replay.ReplayBench.RESOLVED;
import static dev.penumbra.eval.replay.ReplayBench.TARGET_RATIO;
import static dev.penumbra.eval.replay.ReplayBench.TARGET_SECONDS;
import static dev.penumbra.eval.replay.ReplayBench.TARGET_WIN_SHARE;
import static dev.penumbra.eval.replay.ReplayBench.TUNING;
import static dev.penumbra.eval.replay.ReplayBench.VALIDATION;

import dev.penumbra.core.Resources.Dimension;

import dev.penumbra.eval.policy.Policies;
import dev.penumbra.eval.report.BenchReport;
import dev.penumbra.eval.report.Tables;
import dev.penumbra.eval.report.Target;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code penumbra bench replay} prints: a table for a person, or one JSON document ({@link #json}).
 *
 * @param readSeconds time spent reading the traces
 * @param wallSeconds the whole run's time, reading included
 */
public record ReplayBenchReport(ReplayBench.Result result, double readSeconds, double wallSeconds)
    implements BenchReport {

  /** The JSON document: the run, each column's summary by column name, the targets. */
  public record Json(int lead, double budget, int traces, int threads, double readSeconds, double wallSeconds,
      Map<String, Dataset> datasets, Map<String, Target> targets) {}

  /** One column's summary: medians over its traces, by policy. */
  public record Dataset(int traces, Map<String, Double> medianSlackAtBudget, Map<String, Double> medianOracleGap,
      Map<String, Double> seconds, double penumbraWinShare, double penumbraToBestBaselineMedianRatio) {}

  /** The columns of the first table: every trace, resolvable, the two parts, then validation per resource. */
  static List<String> mainColumns() {
    List<String> c = new ArrayList<>(List.of(ReplayBench.EVERY, RESOLVED, TUNING, VALIDATION));
    ReplayBench.RESOURCES.forEach(r -> c.add(VALIDATION + " " + r.label()));
    return c;
  }

  /**
   * The targets, judged on the validation part's resolvable traces: overall ({@code penumbraWinShare},
   * {@code penumbraToBestBaselineMedianRatio}) and per resource (the same keys suffixed {@code Cpu},
   * {@code Memory}, {@code Io}, {@code Network}); and the wall time.
   */
  public Map<String, Target> targets() {
    Map<String, Target> t = new LinkedHashMap<>();
    addTargets(t, "", result.summaries().get(VALIDATION));
    for (Dimension r : ReplayBench.RESOURCES) {
      String suffix = Character.toUpperCase(r.label().charAt(0)) + r.label().substring(1);
      addTargets(t, suffix, result.summaries().get(VALIDATION + " " + r.label()));
    }
    t.put("wallSeconds", new Target(TARGET_SECONDS, wallSeconds, wallSeconds < TARGET_SECONDS));
    return t;
  }

  private static void addTargets(Map<String, Target> t, String suffix, Summary s) {
    t.put("penumbraWinShare" + suffix, Target.atLeast(TARGET_WIN_SHARE, s.penumbraWinShare()));
    t.put("penumbraToBestBaselineMedianRatio" + suffix, Target.atMost(TARGET_RATIO, s.medianRatioToBestBaseline()));
  }

  @Override
  public Json json() {
    ReplayBench.Result r = result;
    Map<String, Dataset> sets = new LinkedHashMap<>();
    r.summaries().forEach((name, s) -> sets.put(name, new Dataset(s.traces(), s.medianSlackAtBudget(),
        s.medianOracleGap(), s.seconds(), s.penumbraWinShare(), s.medianRatioToBestBaseline())));
    return new Json(LEAD, BUDGET, r.traces(), r.threads(), readSeconds, wallSeconds, sets,
        targets());
  }

  @Override
  public void table(PrintStream out) {
    ReplayBench.Result r = result;
    Map<String, Summary> summaries = r.summaries();
    Summary all = summaries.get(RESOLVED);
    out.printf(Locale.ROOT, "Replay benchmark: %d traces, %d policies, lead %d, budget %s, %d threads%n%n",
        r.traces(), Policies.names().size(), LEAD, Metric.SLACK.format(BUDGET), r.threads());
    List<String[]> rows = new ArrayList<>();
    List<String> header = new ArrayList<>(List.of("median slack at budget"));
    for (String c : mainColumns()) {
      header.add(c + " (" + summaries.get(c).traces() + ")");
    }
    header.add("oracle gap");
    header.add("seconds");
    rows.add(header.toArray(String[]::new));
    for (String policy : Policies.names()) {
      List<String> row = new ArrayList<>(List.of(policy));
      mainColumns().forEach(c ->
          row.add(Metric.SLACK_AT_BUDGET.format(summaries.get(c).medianSlackAtBudget().get(policy))));
      row.add(Metric.ORACLE_GAP.format(all.medianOracleGap().get(policy)));
      row.add(String.format(Locale.ROOT, "%.1f", all.seconds().get(policy)));
      rows.add(row.toArray(String[]::new));
    }
    List<String> wins = new ArrayList<>(List.of("penumbra beats all"));
    mainColumns().forEach(c -> wins.add(Metric.SLACK.format(summaries.get(c).penumbraWinShare())));
    wins.add("");
    wins.add("");
    rows.add(wins.toArray(String[]::new));
    List<String> ratio = new ArrayList<>(List.of("penumbra / best"));
    mainColumns().forEach(c -> ratio.add(Metric.MARGIN_AT_BUDGET.format(summaries.get(c).medianRatioToBestBaseline())));
    ratio.add("");
    ratio.add("");
    rows.add(ratio.toArray(String[]::new));
    out.print(Tables.aligned(rows));
    out.println();

    List<String[]> sets = new ArrayList<>();
    sets.add(new String[] {"dataset", "traces tuning / validation", "penumbra beats all: tuning", "validation",
        "penumbra / best: tuning", "validation", "median slack at budget (validation): penumbra", "best baseline"});
    for (ReplayBench.Dataset d : ReplayBench.DATASETS) {
      Summary tu = summaries.get(d.name() + " " + TUNING);
      Summary va = summaries.get(d.name() + " " + VALIDATION);
      double bestBaseline = va.medianSlackAtBudget().entrySet().stream()
          .filter(e -> Policies.isBaseline(e.getKey())).mapToDouble(Map.Entry::getValue).min().orElse(Double.NaN);
      sets.add(new String[] {d.name(), tu.traces() + " / " + va.traces(),
          Metric.SLACK.format(tu.penumbraWinShare()), Metric.SLACK.format(va.penumbraWinShare()),
          Metric.MARGIN_AT_BUDGET.format(tu.medianRatioToBestBaseline()),
          Metric.MARGIN_AT_BUDGET.format(va.medianRatioToBestBaseline()),
          Metric.SLACK_AT_BUDGET.format(va.medianSlackAtBudget().get(Policies.PENUMBRA)),
          Metric.SLACK_AT_BUDGET.format(bestBaseline)});
    }
    out.print(Tables.aligned(sets));
    out.println();
    out.printf(Locale.ROOT, "%s: the %d traces with >= %d scored intervals (enough to resolve a %s budget); "
        + "every other column counts only those.%n", RESOLVED, all.traces(), MIN_SCORED, Metric.SLACK.format(BUDGET));
    out.println("tuning / validation: the forecaster's constants were chosen on the tuning part (Bitbrains 2013-7; "
        + "of the other datasets' series sorted by name, the 1st, 3rd, ...); the targets are judged on validation "
        + "(Bitbrains 2013-8; the 2nd, 4th, ... series).");
    out.println("oracle gap: median over resolvable traces; seconds: time in each policy, summed over traces.");
    Map<String, Target> t = targets();
    targetLine(out, VALIDATION, t, "");
    for (Dimension resource : ReplayBench.RESOURCES) {
      targetLine(out, VALIDATION + " " + resource.label(), t,
          Character.toUpperCase(resource.label().charAt(0)) + resource.label().substring(1));
    }
    out.printf(Locale.ROOT, "target: wall time < %.0f s: %.1f s, reading %.1f s (%s)%n",
        TARGET_SECONDS, wallSeconds, readSeconds, met(t.get("wallSeconds")));
    out.flush();
  }

  private static void targetLine(PrintStream out, String column, Map<String, Target> t, String suffix) {
    Target win = t.get("penumbraWinShare" + suffix);
    Target ratio = t.get("penumbraToBestBaselineMedianRatio" + suffix);
    out.printf(Locale.ROOT, "target (%s): penumbra beats every baseline on >= %s of traces: %s (%s); "
        + "penumbra / best baseline on the median trace <= %.2f: %s (%s)%n", column,
        Metric.SLACK.format(TARGET_WIN_SHARE), Metric.SLACK.format(win.value()), met(win),
        TARGET_RATIO, Metric.MARGIN_AT_BUDGET.format(ratio.value()), met(ratio));
  }

  private static String met(Target t) {
    return t.met() ? "met" : "not met";
  }
}
