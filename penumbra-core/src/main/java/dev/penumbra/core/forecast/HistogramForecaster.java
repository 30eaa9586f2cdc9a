package dev.penumbra.core.forecast;

/**
 * A VPA-style exponentially decaying histogram as a forecaster. Bucket 0 holds values below {@value #SMALLEST};
 * bucket i >= 1 holds [SMALLEST * 1.05^(i-1), SMALLEST * 1.05^i), up to about 1e15 (larger values go to the last
 * bucket). Observation n is added with weight 2^(n / halfLife) ({@link DecayingHistogram}). The forecast, at every
 * horizon, is the {@code percentile} of the weighted distribution: the weighted mean of the values in the bucket where
 * the cumulative weight reaches percentile * total (so a constant series is forecast exactly).
 */
final class HistogramForecaster extends BaseForecaster {
  static final double SMALLEST = 1e-6;
  static final double RATIO = 1.05;
  static final int BUCKETS = 1024;
  private static final double LOG_RATIO = Math.log(RATIO);

  private final double percentile;
  private final DecayingHistogram histogram;
  private long observed;

  HistogramForecaster(int halfLife, double percentile) {
    super("histogram(" + halfLife + "," + percentile + ")");
    this.percentile = percentile;
    this.histogram = new DecayingHistogram(halfLife);
  }

  static int bucket(double value) {
    if (value < SMALLEST) {
      return 0;
    }
    int i = 1 + (int) Math.floor(Math.log(value / SMALLEST) / LOG_RATIO);
    return Math.min(BUCKETS - 1, i);
  }

  @Override
  void update(long timeMillis, double value) {
    histogram.add(bucket(value), value, observed++);
  }

  @Override
  double predict(int horizon) {
    return histogram.meanIn(histogram.bucketAt(percentile));
  }
}
