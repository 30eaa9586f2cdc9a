package dev.penumbra.core.forecast;

/** Simple exponential smoothing: level = alpha * value + (1 - alpha) * level; flat at every horizon. */
final class Ewma extends BaseForecaster {
  private final double alpha;
  private double level;
  private boolean started;

  Ewma(double alpha) {
    super("ewma(" + alpha + ")");
    this.alpha = alpha;
  }

  @Override
  void update(long timeMillis, double value) {
    if (!started) {
      level = value;
      started = true;
    } else {
      level += alpha * (value - level);
    }
  }

  @Override
  double predict(int horizon) {
    return level;
  }
}
