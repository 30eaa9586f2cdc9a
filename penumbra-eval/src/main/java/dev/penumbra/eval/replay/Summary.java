package dev.penumbra.eval.replay;

import dev.penumbra.eval.policy.Policies;
import dev.penumbra.eval.trace.Trace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Across traces: each policy's median slack-at-budget, median gap to the oracle and replay time; and, when
 * penumbra and at least one baseline ran, the share of traces where penumbra's slack-at-budget is below every
 * baseline's (ties are not below), and the median over traces of penumbra's slack-at-budget divided by the
 * best baseline's. A NaN slack-at-budget or gap (budget unreachable) counts as worse than any number.
 *
 * @param medianSlackAtBudget per policy, in option order
 * @param medianOracleGap per policy, in option order
 * @param seconds per policy, the time its replays took, summed over traces (thread time, not wall time)
 * @param traces how many traces
 * @param penumbraWinShare share of traces where penumbra beats every baseline, NaN when not comparable
 * @param medianRatioToBestBaseline median over traces of penumbra / best baseline, NaN when not comparable
 */
public record Summary(
    Map<String, Double> medianSlackAtBudget,
    Map<String, Double> medianOracleGap,
    Map<String, Double> seconds,
    int traces,
    double penumbraWinShare,
    double medianRatioToBestBaseline) {

  public Summary {
    medianSlackAtBudget = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(medianSlackAtBudget));
    medianOracleGap = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(medianOracleGap));
    seconds = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(seconds));
  }

  static Summary of(ReplayResult result) {
    Map<String, Double> medians = new LinkedHashMap<>();
    Map<String, Double> gaps = new LinkedHashMap<>();
    Map<String, Double> seconds = new LinkedHashMap<>();
    for (String policy : result.options().policies()) {
      List<PolicyRun> runs = result.runs().stream().filter(r -> r.policy().equals(policy)).toList();
      medians.put(policy, median(runs.stream().mapToDouble(r -> orWorst(r.metric(Metric.SLACK_AT_BUDGET))).toArray()));
      gaps.put(policy, median(runs.stream().mapToDouble(r -> orWorst(r.metric(Metric.ORACLE_GAP))).toArray()));
      seconds.put(policy, runs.stream().mapToLong(PolicyRun::nanos).sum() / 1e9);
    }
    boolean comparable = result.options().policies().contains(Policies.PENUMBRA)
        && result.options().policies().stream().anyMatch(Policies::isBaseline);
    if (!comparable || result.traces().isEmpty()) {
      return new Summary(medians, gaps, seconds, result.traces().size(), Double.NaN, Double.NaN);
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
      ratios.add(ratio(ours, best));
    }
    double[] r = ratios.stream().mapToDouble(Double::doubleValue).toArray();
    return new Summary(medians, gaps, seconds, result.traces().size(), (double) wins / result.traces().size(), median(r));
  }

  /** ours / best, with 0 / 0 and infinity / infinity (both exact, or both unreachable) as 1. */
  static double ratio(double ours, double best) {
    if (ours == best) {
      return 1;
    }
    return best > 0 ? ours / best : Double.POSITIVE_INFINITY;
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
    if (n % 2 == 1) {
      return s[n / 2];
    }
    // Infinity stands for "no slack meets the budget". With half the traces reachable, the mean of the middle
    // pair was infinite (reported as null); the reachable middle value says more: the lower median.
    if (Double.isInfinite(s[n / 2]) && !Double.isInfinite(s[n / 2 - 1])) {
      return s[n / 2 - 1];
    }
    return (s[n / 2 - 1] + s[n / 2]) / 2;
  }
}
