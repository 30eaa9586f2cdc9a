package dev.penumbra.eval.replay;

import dev.penumbra.eval.trace.Trace;
import java.util.EnumMap;
import java.util.Map;

/**
 * One policy replayed on one trace: its allocation per interval, the scored range and its scores.
 *
 * @param trace the trace
 * @param policy the policy's registered name
 * @param allocations one allocation per interval of the trace
 * @param warmup the number of leading intervals not scored
 * @param metrics every {@link Metric}'s value
 * @param curve pairs (violation budget, slack at that budget) for {@link Scoring#CURVE_BUDGETS}
 * @param nanos how long the policy took to replay the trace (its observe and allocate calls), in nanoseconds
 */
public record PolicyRun(
    Trace trace, String policy, double[] allocations, int warmup, Map<Metric, Double> metrics, double[][] curve, long nanos) {

  public PolicyRun {
    metrics = java.util.Collections.unmodifiableMap(new EnumMap<>(metrics));
  }

  public double metric(Metric m) {
    return metrics.get(m);
  }

  /** Scores {@code allocations} against the trace. */
  static PolicyRun score(Trace trace, String policy, double[] allocations, int warmup, double budget, long nanos) {
    double[] used = trace.values();
    Map<Metric, Double> m = new EnumMap<>(Metric.class);
    m.put(Metric.SLACK, Scoring.slack(allocations, used, warmup));
    m.put(Metric.VIOLATION_RATE, Scoring.violationRate(allocations, used, warmup));
    m.put(Metric.SHORTFALL, Scoring.shortfall(allocations, used, warmup));
    m.put(Metric.ACTUATIONS, (double) Scoring.actuations(allocations, warmup));
    m.put(Metric.MARGIN_AT_BUDGET, Scoring.marginAtBudget(allocations, used, warmup, budget));
    m.put(Metric.SLACK_AT_BUDGET, Scoring.slackAtBudget(allocations, used, warmup, budget));
    m.put(Metric.ORACLE_GAP, Scoring.oracleGap(allocations, used, warmup, budget));
    double[][] curve = new double[Scoring.CURVE_BUDGETS.length][];
    for (int i = 0; i < curve.length; i++) {
      double b = Scoring.CURVE_BUDGETS[i];
      curve[i] = new double[] {b, Scoring.slackAtBudget(allocations, used, warmup, b)};
    }
    return new PolicyRun(trace, policy, allocations, warmup, m, curve, nanos);
  }
}
