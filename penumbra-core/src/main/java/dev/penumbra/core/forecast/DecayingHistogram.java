package dev.penumbra.core.forecast;

import dev.penumbra.core.Checks;
import java.util.Arrays;

/**
 * An exponentially decaying histogram as the Kubernetes VPA recommender keeps one: a sample added at tick {@code t}
 * weighs {@code 2^(t / halfLife)}, so older samples count half as much every {@code halfLife} ticks (observations,
 * or milliseconds of trace time), and a percentile of the weighted distribution is what is asked. How values map to
 * buckets is the caller's (the bucket boundaries differ between the forecaster and the VPA baseline); this class
 * holds the weights, each bucket's weighted sum of values, and rescales all of them now and then so weights stay
 * finite without changing any percentile.
 */
public final class DecayingHistogram {
  /** Rescale all weights once the newest weight would exceed 2^this. */
  private static final int RESCALE_EXPONENT = 64;

  private final long halfLife;
  private double[] weight = new double[16];
  private double[] weightedSum = new double[16];
  private double total;
  private int lowest = Integer.MAX_VALUE;
  private int highest = -1;
  /** Ticks already folded into the weights by rescaling. */
  private long base;

  /** A histogram whose samples' weights halve every {@code halfLife} ticks (>= 1). */
  public DecayingHistogram(long halfLife) {
    Checks.atLeast("halfLife", halfLife, 1);
    this.halfLife = halfLife;
  }

  /** The weight a sample added at {@code tick} gets (ticks never go back). */
  public double weightAt(long tick) {
    double exponent = (double) (tick - base) / halfLife;
    if (exponent > RESCALE_EXPONENT) {
      double factor = Math.scalb(1.0, -RESCALE_EXPONENT);
      for (int i = lowest; i <= highest; i++) {
        weight[i] *= factor;
        weightedSum[i] *= factor;
      }
      total *= factor;
      base += (long) RESCALE_EXPONENT * halfLife;
      exponent = (double) (tick - base) / halfLife;
    }
    return Math.pow(2, exponent);
  }

  /** Adds {@code value} in {@code bucket} (>= 0) at {@code tick}. */
  public void add(int bucket, double value, long tick) {
    double w = weightAt(tick);
    if (bucket >= weight.length) {
      int n = Math.max(bucket + 1, weight.length * 2);
      weight = Arrays.copyOf(weight, n);
      weightedSum = Arrays.copyOf(weightedSum, n);
    }
    weight[bucket] += w;
    weightedSum[bucket] += w * value;
    total += w;
    lowest = Math.min(lowest, bucket);
    highest = Math.max(highest, bucket);
  }

  /** True before the first sample. */
  public boolean isEmpty() {
    return highest < 0;
  }

  /**
   * The first bucket holding weight at which the cumulative weight reaches {@code percentile} of the total, counting
   * one more transient sample of {@code extraWeight} in {@code extraBucket} (-1: none); -1 when empty.
   */
  public int bucketAt(double percentile, int extraBucket, double extraWeight) {
    boolean extra = extraBucket >= 0;
    double sum = total + (extra ? extraWeight : 0);
    if (!(sum > 0)) {
      return -1;
    }
    double target = percentile * sum;
    int from = extra ? Math.min(lowest, extraBucket) : lowest;
    int to = extra ? Math.max(highest, extraBucket) : highest;
    double cumulative = 0;
    for (int i = from; i <= to; i++) {
      double w = (i < weight.length ? weight[i] : 0) + (i == extraBucket ? extraWeight : 0);
      cumulative += w;
      if (cumulative >= target && w > 0) {
        return i;
      }
    }
    return to;
  }

  /** The first bucket at which the cumulative weight reaches {@code percentile} of the total; -1 when empty. */
  public int bucketAt(double percentile) {
    return bucketAt(percentile, -1, 0);
  }

  /** The weighted mean of the values in {@code bucket} (NaN when it holds none). */
  public double meanIn(int bucket) {
    return bucket >= 0 && bucket < weight.length && weight[bucket] > 0 ? weightedSum[bucket] / weight[bucket] : Double.NaN;
  }
}
