package dev.penumbra.core.forecast;

import org.apache.commons.math3.exception.MathIllegalArgumentException;
import org.apache.commons.math3.stat.regression.OLSMultipleLinearRegression;

/**
 * AR(p) with intercept, x(t) = c + phi1 x(t-1) + ... + phip x(t-p), fitted by ordinary least squares
 * (commons-math3, QR) on a sliding window of recent values and refitted every few observations, not every
 * step. Multi-step forecasts iterate the recursion on its own forecasts, kept within the window's range
 * widened by that range on each side (an explosive fit cannot run away). Until the first fit succeeds, and
 * when the window is degenerate (e.g. constant), it forecasts the last value.
 */
final class Autoregressive extends BaseForecaster {
  static final int MAX_ORDER = 64;
  static final int WINDOW = 256;
  static final int REFIT_EVERY = 128;
  /** Rank-deficiency threshold of the QR decomposition. */
  private static final double SINGULARITY = 1e-10;

  private final int p;
  private final int refitEvery;
  private final double[] history;
  private int historySize;
  private int historyNext;
  private long sinceFit;

  private boolean fitted;
  private boolean attempted;
  private double intercept;
  private final double[] phi;
  private double low;
  private double high;
  private double[] scratch;

  Autoregressive(int p, int window, int refitEvery) {
    super("ar(" + p + ")");
    this.p = p;
    this.refitEvery = refitEvery;
    this.history = new double[Math.max(window, 4 * (p + 1) + p)];
    this.phi = new double[p];
    this.scratch = new double[p + 16];
  }

  /** The fitted coefficients [c, phi1..phip], or null before the first fit. */
  double[] coefficients() {
    if (!fitted) {
      return null;
    }
    double[] all = new double[p + 1];
    all[0] = intercept;
    System.arraycopy(phi, 0, all, 1, p);
    return all;
  }

  @Override
  void update(long timeMillis, double value) {
    history[historyNext] = value;
    historyNext = (historyNext + 1) % history.length;
    historySize = Math.min(historySize + 1, history.length);
    sinceFit++;
    int rows = historySize - p;
    if (rows >= 3 * (p + 1) && (!attempted || sinceFit >= refitEvery)) {
      fit(rows);
    }
  }

  private void fit(int rows) {
    // A failed fit (degenerate window) waits for the next period too, so it cannot cost every step.
    attempted = true;
    sinceFit = 0;
    double[] y = new double[rows];
    double[][] x = new double[rows][p];
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (int r = 0; r < rows; r++) {
      // Row r predicts the value r + p positions after the oldest kept one.
      y[r] = oldest(r + p);
      for (int j = 0; j < p; j++) {
        x[r][j] = oldest(r + p - 1 - j);
      }
    }
    for (int k = 0; k < historySize; k++) {
      double v = oldest(k);
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    if (max - min <= 0) {
      return;
    }
    try {
      OLSMultipleLinearRegression ols = new OLSMultipleLinearRegression(SINGULARITY);
      ols.newSampleData(y, x);
      double[] beta = ols.estimateRegressionParameters();
      for (double b : beta) {
        if (!Double.isFinite(b)) {
          return;
        }
      }
      intercept = beta[0];
      System.arraycopy(beta, 1, phi, 0, p);
      double range = max - min;
      low = min - range;
      high = max + range;
      fitted = true;
    } catch (MathIllegalArgumentException e) {
      // A singular (degenerate) window, e.g. a step function, keeps the previous fit.
    }
  }

  private double oldest(int k) {
    int start = historyNext - historySize;
    if (start < 0) {
      start += history.length;
    }
    return history[(start + k) % history.length];
  }

  private double newest(int back) {
    int i = historyNext - 1 - back;
    return history[i < 0 ? i + history.length : i];
  }

  @Override
  double predict(int horizon) {
    if (!fitted) {
      return newest(0);
    }
    if (scratch.length < p + horizon) {
      scratch = new double[p + horizon];
    }
    for (int j = 0; j < p; j++) {
      scratch[j] = newest(p - 1 - j);
    }
    double x = 0;
    for (int step = 0; step < horizon; step++) {
      x = intercept;
      int at = p + step;
      for (int j = 0; j < p; j++) {
        x += phi[j] * scratch[at - 1 - j];
      }
      x = Math.max(low, Math.min(high, x));
      scratch[at] = x;
    }
    return x;
  }
}
