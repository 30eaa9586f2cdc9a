package dev.penumbra.eval.replay;

import static dev.penumbra.eval.replay.ReplayBench.BUDGET;
import static dev.penumbra.eval.replay.ReplayBench.LEAD;
import static dev.penumbra.eval.replay.ReplayBench.MIN_SCORED;
import static dev.penumbra.eval.replay.ReplayBench.RESOLVED;
import static dev.penumbra.eval.replay.ReplayBench.TARGET_RATIO;
import static dev.penumbra.eval.replay.ReplayBench.TARGET_SECONDS;
import static dev.penumbra.eval.replay.ReplayBench.TARGET_WIN_SHARE;

import dev.penumbra.eval.policy.Policies;
import dev.penumbra.eval.report.Tables;
import dev.penumbra.eval.report.Target;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What {@code penumbra bench replay} prints: a table for a person, or one JSON document ({@link #json}). */
public final class ReplayBenchReport {
  private ReplayBenchReport() {}

  /** The JSON document: the run, each column's summary by column name, the targets. */
  public record Json(int lead, double budget, int traces, int threads, double readSeconds, double wallSeconds,
      Map<String, Dataset> datasets, Map<String, Target> targets) {}

  /** One column's summary: medians over its traces, by policy. */
  public record Dataset(int traces, Map<String, Double> medianSlackAtBudget, Map<String, Double> medianOracleGap,
      Map<String, Double> seconds, double penumbraWinShare, double penumbraToBestBaselineMedianRatio) {}

  /** The targets, counted over the resolvable traces; {@code wallSeconds} is the whole run's. */
  public static Map<String, Target> targets(ReplayBench.Result r, double wallSeconds) {
    Summary all = r.summaries().get(RESOLVED);
    Map<String, Target> t = new LinkedHashMap<>();
    t.put("penumbraWinShare", Target.atLeast(TARGET_WIN_SHARE, all.penumbraWinShare()));
    t.put("penumbraToBestBaselineMedianRatio", Target.atMost(TARGET_RATIO, all.medianRatioToBestBaseline()));
    t.put("wallSeconds", new Target(TARGET_SECONDS, wallSeconds, wallSeconds < TARGET_SECONDS));
    return t;
  }

  public static Json json(ReplayBench.Result r, double readSeconds, double wallSeconds) {
    Map<String, Dataset> sets = new LinkedHashMap<>();
    r.summaries().forEach((name, s) -> sets.put(name, new Dataset(s.traces(), s.medianSlackAtBudget(),
        s.medianOracleGap(), s.seconds(), s.penumbraWinShare(), s.medianRatioToBestBaseline())));
    return new Json(LEAD, BUDGET, r.traces(), r.threads(), readSeconds, wallSeconds, sets,
        targets(r, wallSeconds));
  }

  public static void table(ReplayBench.Result r, double readSeconds, double wallSeconds, PrintStream out) {
    Map<String, Summary> summaries = r.summaries();
    Summary all = summaries.get(RESOLVED);
    out.printf(Locale.ROOT, "Replay benchmark: %d traces, %d policies, lead %d, budget %s, %d threads%n%n",
        r.traces(), Policies.names().size(), LEAD, Metric.SLACK.format(BUDGET), r.threads());
    List<String[]> rows = new ArrayList<>();
    List<String> header = new ArrayList<>(List.of("median slack at budget"));
    summaries.forEach((name, s) -> header.add(name + " (" + s.traces() + ")"));
    header.add("oracle gap");
    header.add("seconds");
    rows.add(header.toArray(String[]::new));
    for (String policy : Policies.names()) {
      List<String> row = new ArrayList<>(List.of(policy));
      summaries.values().forEach(s -> row.add(Metric.SLACK_AT_BUDGET.format(s.medianSlackAtBudget().get(policy))));
      row.add(Metric.ORACLE_GAP.format(all.medianOracleGap().get(policy)));
      row.add(String.format(Locale.ROOT, "%.1f", all.seconds().get(policy)));
      rows.add(row.toArray(String[]::new));
    }
    List<String> wins = new ArrayList<>(List.of("penumbra beats all"));
    summaries.values().forEach(s -> wins.add(Metric.SLACK.format(s.penumbraWinShare())));
    wins.add("");
    wins.add("");
    rows.add(wins.toArray(String[]::new));
    List<String> ratio = new ArrayList<>(List.of("penumbra / best"));
    summaries.values().forEach(s -> ratio.add(Metric.MARGIN_AT_BUDGET.format(s.medianRatioToBestBaseline())));
    ratio.add("");
    ratio.add("");
    rows.add(ratio.toArray(String[]::new));
    out.print(Tables.aligned(rows));
    out.println();
    out.printf(Locale.ROOT, "%s: the %d traces with >= %d scored intervals (enough to resolve a %s budget); "
        + "the datasets' columns and the targets count only those.%n", RESOLVED, all.traces(), MIN_SCORED,
        Metric.SLACK.format(BUDGET));
    out.println("oracle gap: median over resolvable traces; seconds: time in each policy, summed over traces.");
    Map<String, Target> t = targets(r, wallSeconds);
    out.printf(Locale.ROOT, "target: penumbra beats every baseline on >= %s of traces: %s (%s)%n",
        Metric.SLACK.format(TARGET_WIN_SHARE), Metric.SLACK.format(all.penumbraWinShare()),
        met(t.get("penumbraWinShare")));
    out.printf(Locale.ROOT, "target: penumbra / best baseline on the median trace <= %.2f: %s (%s)%n",
        TARGET_RATIO, Metric.MARGIN_AT_BUDGET.format(all.medianRatioToBestBaseline()),
        met(t.get("penumbraToBestBaselineMedianRatio")));
    out.printf(Locale.ROOT, "target: wall time < %.0f s: %.1f s, reading %.1f s (%s)%n",
        TARGET_SECONDS, wallSeconds, readSeconds, met(t.get("wallSeconds")));
    out.flush();
  }

  private static String met(Target t) {
    return t.met() ? "met" : "not met";
  }
}
