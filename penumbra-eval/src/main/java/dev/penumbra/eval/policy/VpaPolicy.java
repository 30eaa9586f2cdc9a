package dev.penumbra.eval.policy;

import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.core.forecast.DecayingHistogram;

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
  private final DecayingHistogram histogram = new DecayingHistogram(HALF_LIFE_MILLIS);
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
    long tick = seen * stepMillis;
    if (peakPerWindow) {
      windowPeak = Math.max(windowPeak, used);
      boolean windowEnds = (seen + 1) % windowIntervals == 0;
      if (windowEnds) {
        histogram.add(bucket(windowPeak), windowPeak, tick);
        allocation = target(-1, 0);
        windowPeak = 0;
      } else {
        allocation = target(bucket(windowPeak), histogram.weightAt(tick));
      }
    } else {
      histogram.add(bucket(used), used, tick);
      allocation = target(-1, 0);
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

  /** The target with an optional extra (transient) sample in {@code extraBucket} (-1: none). */
  private double target(int extraBucket, double extraWeight) {
    int i = histogram.bucketAt(PERCENTILE, extraBucket, extraWeight);
    if (i < 0 || Double.isNaN(b0)) {
      return 0;
    }
    return bucketStart(i + 1) * (1 + MARGIN);
  }
}
