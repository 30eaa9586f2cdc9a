package dev.penumbra.sim.replay;

import dev.penumbra.sim.policy.Policies;
import dev.penumbra.sim.trace.Trace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Across traces: each policy's median slack-at-budget; and, when penumbra and at least one baseline ran, the
 * share of traces where penumbra's slack-at-budget is below every baseline's, and the median over traces of
 * penumbra's slack-at-budget divided by the best baseline's. A NaN slack-at-budget (budget unreachable) counts
 * as worse than any number.
 *
 * @param medianSlackAtBudget per policy, in option order
 * @param traces how many traces
 * @param penumbraWinShare share of traces where penumbra beats every baseline, NaN when not comparable
 * @param medianRatioToBestBaseline median over traces of penumbra / best baseline, NaN when not comparable
 */
public record Summary(
    Map<String, Double> medianSlackAtBudget, int traces, double penumbraWinShare, double medianRatioToBestBaseline) {

  static Summary of(ReplayResult result) {
    Map<String, Double> medians = new LinkedHashMap<>();
    for (String policy : result.options().policies()) {
      double[] values = result.runs().stream()
          .filter(r -> r.policy().equals(policy))
          .mapToDouble(r -> orWorst(r.metric(Metric.SLACK_AT_BUDGET)))
          .toArray();
      medians.put(policy, median(values));
    }
    boolean comparable = result.options().policies().contains(Policies.PENUMBRA)
        && result.options().policies().stream().anyMatch(Policies::isBaseline);
    if (!comparable || result.traces().isEmpty()) {
      return new Summary(medians, result.traces().size(), Double.NaN, Double.NaN);
    }
    int wins = 0;
    List<Double> ratios = new ArrayList<>();
    for (Trace trace : result.traces()) {
      double ours = Double.NaN;
      double best = Double.POSITIVE_INFINITY;
      for (PolicyRun run : result.runs(trace)) {
        double s = orWorst(run.metric(Metric.SLACK_AT_BUDGET));
        if (run.policy().equals(Policies.PENUMBRA)) {
          ours = s;
        } else if (Policies.isBaseline(run.policy())) {
          best = Math.min(best, s);
        }
      }
      if (ours < best) {
        wins++;
      }
      ratios.add(best > 0 ? ours / best : (ours > 0 ? Double.POSITIVE_INFINITY : 1));
    }
    double[] r = ratios.stream().mapToDouble(Double::doubleValue).toArray();
    return new Summary(medians, result.traces().size(), (double) wins / result.traces().size(), median(r));
  }

  private static double orWorst(double v) {
    return Double.isNaN(v) ? Double.POSITIVE_INFINITY : v;
  }

  static double median(double[] values) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] s = values.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
}
