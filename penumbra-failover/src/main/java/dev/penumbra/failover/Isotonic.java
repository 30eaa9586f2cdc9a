package dev.penumbra.failover;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Isotonic calibration: the non-decreasing step function of the raw score that best fits the held-out outcomes
 * (pool-adjacent-violators). Unlike {@link Platt} it assumes no shape, so a group of scores that fails at 80% maps
 * to 0.8 whatever the scores in between do; it needs enough positives per step to be stable, and it never
 * extrapolates beyond the highest block's observed rate.
 */
final class Isotonic {

  private final double[] upper;
  private final double[] value;

  private Isotonic(double[] upper, double[] value) {
    this.upper = upper;
    this.value = value;
  }

  static Isotonic fit(double[] scores, boolean[] positive) {
    if (scores.length == 0) {
      throw new IllegalArgumentException("isotonic calibration needs at least one held-out score");
    }
    Integer[] order = new Integer[scores.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingDouble(i -> scores[i]));
    // Blocks of equal scores first, then pooled while a block's rate is below the one before it.
    List<double[]> blocks = new ArrayList<>(); // {upper score, positives, count}
    for (int k = 0; k < order.length; k++) {
      int i = order[k];
      double[] last = blocks.isEmpty() ? null : blocks.get(blocks.size() - 1);
      if (last != null && last[0] == scores[i]) {
        last[1] += positive[i] ? 1 : 0;
        last[2]++;
      } else {
        blocks.add(new double[] {scores[i], positive[i] ? 1 : 0, 1});
      }
      while (blocks.size() > 1) {
        double[] b = blocks.get(blocks.size() - 1);
        double[] a = blocks.get(blocks.size() - 2);
        if (a[1] / a[2] <= b[1] / b[2]) {
          break;
        }
        a[0] = b[0];
        a[1] += b[1];
        a[2] += b[2];
        blocks.remove(blocks.size() - 1);
      }
    }
    double[] upper = new double[blocks.size()];
    double[] value = new double[blocks.size()];
    for (int j = 0; j < blocks.size(); j++) {
      upper[j] = blocks.get(j)[0];
      value[j] = blocks.get(j)[1] / blocks.get(j)[2];
    }
    return new Isotonic(upper, value);
  }

  /** The calibrated probability of a raw score: the rate of the first block whose scores reach it. */
  double apply(double score) {
    int i = Arrays.binarySearch(upper, score);
    int j = i >= 0 ? i : Math.min(upper.length - 1, -i - 1);
    return value[j];
  }

  /** The highest probability it can give. */
  double max() {
    return value[value.length - 1];
  }
}
