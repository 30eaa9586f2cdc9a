package dev.penumbra.eval.replay;

import java.util.Arrays;

/**
 * The scores of allocations against use over the scored range {@code [from, alloc.length)}. Pure functions
 * of the two arrays, so every policy is scored by the same rules.
 */
public final class Scoring {

  /** Violation rates at which the slack-versus-violation curve is drawn. */
  public static final double[] CURVE_BUDGETS = {0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2};

  private Scoring() {}

  /** sum(max(alloc - used, 0)) / sum(alloc); 0 when nothing is allocated. */
  public static double slack(double[] alloc, double[] used, int from) {
    return slack(alloc, used, from, 1);
  }

  static double slack(double[] alloc, double[] used, int from, double margin) {
    double idle = 0;
    double total = 0;
    for (int i = from; i < alloc.length; i++) {
      double a = alloc[i] * margin;
      idle += Math.max(a - used[i], 0);
      total += a;
    }
    return total > 0 ? idle / total : 0;
  }

  /** The share of scored intervals with used > alloc. */
  public static double violationRate(double[] alloc, double[] used, int from) {
    return violationRate(alloc, used, from, 1);
  }

  static double violationRate(double[] alloc, double[] used, int from, double margin) {
    int n = alloc.length - from;
    if (n <= 0) {
      return 0;
    }
    int violated = 0;
    for (int i = from; i < alloc.length; i++) {
      if (used[i] > alloc[i] * margin) {
        violated++;
      }
    }
    return (double) violated / n;
  }

  /** sum(max(used - alloc, 0)) / sum(used); 0 when nothing is used. */
  public static double shortfall(double[] alloc, double[] used, int from) {
    double missing = 0;
    double total = 0;
    for (int i = from; i < alloc.length; i++) {
      missing += Math.max(used[i] - alloc[i], 0);
      total += used[i];
    }
    return total > 0 ? missing / total : 0;
  }

  /** How many scored intervals have a different allocation from the interval before them. */
  public static int actuations(double[] alloc, int from) {
    int changes = 0;
    for (int i = Math.max(from, 1); i < alloc.length; i++) {
      if (alloc[i] != alloc[i - 1]) {
        changes++;
      }
    }
    return changes;
  }

  /**
   * The smallest factor {@code m} such that the allocations {@code m * alloc} violate at most
   * {@code floor(budget * n)} of the {@code n} scored intervals. Exact: with the ratios {@code used/alloc}
   * sorted descending, it is the ratio ranked just after the tolerated violations (a violation needs
   * used > m * alloc, so intervals at exactly m are met). Infinite when an interval that must be met has
   * use but no allocation; 0 when the remaining intervals use nothing.
   */
  public static double marginAtBudget(double[] alloc, double[] used, int from, double budget) {
    int n = alloc.length - from;
    if (n <= 0) {
      return 1;
    }
    double[] ratios = new double[n];
    for (int i = 0; i < n; i++) {
      double a = alloc[from + i];
      double u = used[from + i];
      ratios[i] = u <= 0 ? 0 : (a > 0 ? u / a : Double.POSITIVE_INFINITY);
    }
    Arrays.sort(ratios);
    int tolerated = (int) Math.floor(budget * n + 1e-9);
    if (tolerated >= n) {
      return 0;
    }
    double m = ratios[n - 1 - tolerated];
    // u / a * a can round below u; nudging up keeps the interval at the threshold met.
    return m * (1 + 1e-12);
  }

  /** The slack of {@code m * alloc} with {@code m} the margin at the budget; NaN when no margin meets it. */
  public static double slackAtBudget(double[] alloc, double[] used, int from, double budget) {
    double m = marginAtBudget(alloc, used, from, budget);
    return Double.isInfinite(m) ? Double.NaN : slack(alloc, used, from, m);
  }

  /** sum(m * alloc) / sum(used) - 1 at the budget's margin; NaN when no margin meets it or nothing is used. */
  public static double oracleGap(double[] alloc, double[] used, int from, double budget) {
    double m = marginAtBudget(alloc, used, from, budget);
    double a = 0;
    double u = 0;
    for (int i = from; i < alloc.length; i++) {
      a += alloc[i];
      u += used[i];
    }
    if (Double.isInfinite(m) || u <= 0) {
      return Double.NaN;
    }
    return m * a / u - 1;
  }
}
