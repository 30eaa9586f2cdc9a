package dev.penumbra.core.forecast;

/**
 * Finds the period of a series by autocorrelation: removes the least-squares line from the history, computes
 * the (biased) autocorrelation r(L) for lags 2..n/3, and returns the lag of the highest local peak with
 * r(L) >= {@value #THRESHOLD}, or 0 when there is none. The biased estimator shrinks long lags, so the
 * fundamental period wins over its multiples. Reuses its buffers: no allocation per call.
 */
final class SeasonDetector {
  static final double THRESHOLD = 0.3;

  private final double[] detrended;
  private final double[] acf;

  SeasonDetector(int capacity) {
    detrended = new double[capacity];
    acf = new double[capacity / 3 + 2];
  }

  /** The period of the {@code size} values of {@code ring} ending just before {@code next}, or 0. */
  int detect(double[] ring, int next, int size) {
    int n = size;
    int start = next - size;
    if (start < 0) {
      start += ring.length;
    }
    double sumX = 0;
    double sumY = 0;
    double sumXY = 0;
    double sumXX = 0;
    for (int k = 0; k < n; k++) {
      double y = ring[(start + k) % ring.length];
      detrended[k] = y;
      sumX += k;
      sumY += y;
      sumXY += k * y;
      sumXX += (double) k * k;
    }
    double denominator = n * sumXX - sumX * sumX;
    double slope = denominator == 0 ? 0 : (n * sumXY - sumX * sumY) / denominator;
    double intercept = (sumY - slope * sumX) / n;
    double variance = 0;
    double scale = 0;
    for (int k = 0; k < n; k++) {
      scale = Math.max(scale, Math.abs(detrended[k]));
      double r = detrended[k] - (intercept + slope * k);
      detrended[k] = r;
      variance += r * r;
    }
    if (variance <= 1e-18 * n * Math.max(scale * scale, 1e-300)) {
      return 0;
    }
    int maxLag = n / 3;
    if (maxLag < 2) {
      return 0;
    }
    int top = Math.min(maxLag + 1, n - 1);
    for (int lag = 1; lag <= top; lag++) {
      double s = 0;
      for (int k = 0; k + lag < n; k++) {
        s += detrended[k] * detrended[k + lag];
      }
      acf[lag] = s / variance;
    }
    int best = 0;
    double bestValue = THRESHOLD;
    for (int lag = 2; lag <= maxLag; lag++) {
      double r = acf[lag];
      boolean peak = r > acf[lag - 1] && (lag + 1 > top || r >= acf[lag + 1]);
      if (peak && r >= bestValue) {
        if (best == 0 || r > bestValue) {
          best = lag;
          bestValue = r;
        }
      }
    }
    return best;
  }
}
