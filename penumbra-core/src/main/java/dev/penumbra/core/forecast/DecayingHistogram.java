package dev.penumbra.core.forecast;

/**
 * A VPA-style exponentially decaying histogram. Bucket 0 holds values below {@value #SMALLEST}; bucket i >= 1
 * holds [SMALLEST * 1.05^(i-1), SMALLEST * 1.05^i), up to about 1e15 (larger values go to the last bucket).
 * Observation n is added with weight 2^(n / halfLife), so older ones count half as much every halfLife
 * observations (weights are rescaled now and then to stay finite). The forecast, at every horizon, is the
 * {@code percentile} of the weighted distribution: the weighted mean of the values in the bucket where the
 * cumulative weight reaches percentile * total (so a constant series is forecast exactly).
 */
final class DecayingHistogram extends BaseForecaster {
  static final double SMALLEST = 1e-6;
  static final double RATIO = 1.05;
  static final int BUCKETS = 1024;
  private static final double LOG_RATIO = Math.log(RATIO);
  /** Rescale all weights once the newest weight exceeds 2^this. */
  private static final int RESCALE_EXPONENT = 64;

  private final int halfLife;
  private final double percentile;
  private final double[] weight = new double[BUCKETS];
  private final double[] weightedSum = new double[BUCKETS];
  private double total;
  private int lowest = BUCKETS;
  private int highest = -1;
  private long sinceRescale;

  DecayingHistogram(int halfLife, double percentile) {
    super("histogram(" + halfLife + "," + percentile + ")");
    this.halfLife = halfLife;
    this.percentile = percentile;
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
    double exponent = (double) sinceRescale / halfLife;
    if (exponent > RESCALE_EXPONENT) {
      double factor = Math.scalb(1.0, -RESCALE_EXPONENT);
      for (int i = lowest; i <= highest; i++) {
        weight[i] *= factor;
        weightedSum[i] *= factor;
      }
      total *= factor;
      sinceRescale -= (long) RESCALE_EXPONENT * halfLife;
      exponent = (double) sinceRescale / halfLife;
    }
    double w = Math.pow(2, exponent);
    int b = bucket(value);
    weight[b] += w;
    weightedSum[b] += w * value;
    total += w;
    lowest = Math.min(lowest, b);
    highest = Math.max(highest, b);
    sinceRescale++;
  }

  @Override
  double predict(int horizon) {
    double target = percentile * total;
    double cumulative = 0;
    for (int i = lowest; i <= highest; i++) {
      cumulative += weight[i];
      if (cumulative >= target && weight[i] > 0) {
        return weightedSum[i] / weight[i];
      }
    }
    return weightedSum[highest] / weight[highest];
  }
}
