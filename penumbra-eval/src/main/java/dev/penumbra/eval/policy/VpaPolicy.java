package dev.penumbra.eval.policy;

import dev.penumbra.core.Resources.Dimension;

/**
 * The Kubernetes Vertical Pod Autoscaler recommender's target estimate, applied at every interval (as an
 * in-place resize would). Usage samples go into an exponentially decaying histogram whose bucket boundaries
 * grow by 5% (bucket {@code i} starts at {@code b0 * (1.05^i - 1) / 0.05}, {@code b0} = one thousandth of
 * the first positive sample) and whose sample weights halve every 24 hours of trace time. The target is the
 * histogram's 90th percentile (the end of the bucket holding it) times 1.15 (the 15% safety margin).
 *
 * <p>For memory, as the VPA does, the histogram holds one sample per 24-hour aggregation window, that
 * window's peak; the still-open window contributes its running peak.
 */
final class VpaPolicy implements Policy {

  static final double GROWTH = 0.05;
  static final long HALF_LIFE_MILLIS = 24L * 3600 * 1000;
  static final long MEMORY_WINDOW_MILLIS = 24L * 3600 * 1000;
  static final double PERCENTILE = 0.9;
  static final double MARGIN = 0.15;

  private final long stepMillis;
  private final boolean peakPerWindow;
  private final int windowIntervals;
  private double[] weights = new double[64];
  private double total;
  private double b0 = Double.NaN;
  private int seen;
  private double windowPeak;
  private double allocation;

  VpaPolicy(PolicyContext context) {
    this.stepMillis = context.stepMillis();
    this.peakPerWindow = context.trace().resource() == Dimension.MEMORY;
    this.windowIntervals = context.intervals(MEMORY_WINDOW_MILLIS);
  }

  @Override
  public String name() {
    return "vpa";
  }

  @Override
  public void observe(double used) {
    if (Double.isNaN(b0) && used > 0) {
      b0 = used / 1000;
    }
    double weight = Math.pow(2, (double) seen * stepMillis / HALF_LIFE_MILLIS);
    if (peakPerWindow) {
      windowPeak = Math.max(windowPeak, used);
      boolean windowEnds = (seen + 1) % windowIntervals == 0;
      if (windowEnds) {
        add(windowPeak, weight);
        allocation = target(Double.NaN, 0);
        windowPeak = 0;
      } else {
        allocation = target(windowPeak, weight);
      }
    } else {
      add(used, weight);
      allocation = target(Double.NaN, 0);
    }
    seen++;
  }

  @Override
  public double allocate(int interval) {
    return allocation;
  }

  private int bucket(double value) {
    if (value <= 0 || Double.isNaN(b0)) {
      return 0;
    }
    return (int) Math.floor(Math.log1p(value * GROWTH / b0) / Math.log1p(GROWTH));
  }

  private double bucketStart(int i) {
    return b0 * (Math.pow(1 + GROWTH, i) - 1) / GROWTH;
  }

  private void add(double value, double weight) {
    int i = bucket(value);
    if (i >= weights.length) {
      weights = java.util.Arrays.copyOf(weights, Math.max(i + 1, weights.length * 2));
    }
    weights[i] += weight;
    total += weight;
    if (total > 1e200) {
      // Weights grow as 2^(t / half-life); rescaling all of them keeps the percentiles unchanged.
      for (int k = 0; k < weights.length; k++) {
        weights[k] *= 1e-200;
      }
      total *= 1e-200;
    }
  }

  /** The target with an optional extra (transient) sample. */
  private double target(double extraValue, double extraWeight) {
    int extraBucket = Double.isNaN(extraValue) ? -1 : bucket(extraValue);
    double sum = total + (extraBucket >= 0 ? extraWeight : 0);
    if (sum <= 0 || Double.isNaN(b0)) {
      return 0;
    }
    double threshold = PERCENTILE * sum;
    double cumulative = 0;
    int last = Math.max(weights.length, extraBucket + 1);
    for (int i = 0; i < last; i++) {
      cumulative += (i < weights.length ? weights[i] : 0) + (i == extraBucket ? extraWeight : 0);
      if (cumulative >= threshold) {
        return bucketStart(i + 1) * (1 + MARGIN);
      }
    }
    return bucketStart(last) * (1 + MARGIN);
  }
}
