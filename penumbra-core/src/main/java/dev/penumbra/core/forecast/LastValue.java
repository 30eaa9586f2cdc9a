package dev.penumbra.core.forecast;

/** Forecasts the last observed value at every horizon (the naive baseline). */
final class LastValue extends BaseForecaster {
  private double last;

  LastValue() {
    super("last-value");
  }

  @Override
  void update(long timeMillis, double value) {
    last = value;
  }

  @Override
  double predict(int horizon) {
    return last;
  }
}
