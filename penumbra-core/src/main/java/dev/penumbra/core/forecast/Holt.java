package dev.penumbra.core.forecast;

/**
 * Holt's linear method: a level and a trend, each exponentially smoothed; the h-step forecast is
 * level + h * trend. Starts from the first value with no trend, and from the first difference as the trend.
 */
final class Holt extends BaseForecaster {
  private final HoltState state;

  Holt(double alpha, double beta) {
    super("holt(" + alpha + "," + beta + ")");
    state = new HoltState(alpha, beta);
  }

  @Override
  void update(long timeMillis, double value) {
    state.update(value);
  }

  @Override
  double predict(int horizon) {
    return state.level + horizon * state.trend;
  }

  /** Level and trend, shared with Holt-Winters (which runs as Holt while it has no season). */
  static final class HoltState {
    final double alpha;
    final double beta;
    double level;
    double trend;
    long n;

    HoltState(double alpha, double beta) {
      this.alpha = alpha;
      this.beta = beta;
    }

    void update(double value) {
      if (n == 0) {
        level = value;
        trend = 0;
      } else if (n == 1) {
        trend = value - level;
        level = value;
      } else {
        double previous = level;
        level = alpha * value + (1 - alpha) * (level + trend);
        trend = beta * (level - previous) + (1 - beta) * trend;
      }
      n++;
    }
  }
}
