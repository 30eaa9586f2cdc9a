package dev.penumbra.core.forecast;

/**
 * A one-dimensional time-series forecaster: fed observations in time order, asked for the value some steps
 * ahead with an upper quantile from its own recent errors. Implementations are not thread-safe: one
 * forecaster per series, driven by one thread (the shadow that observes it).
 */
public interface Forecaster {

  /** The model's name as reported in forecasts and error statistics, e.g. "ewma", "ensemble". */
  String name();

  /**
   * Adds an observation. {@code timeMillis} must not go backwards; {@code value} must be finite and >= 0.
   *
   * @throws IllegalArgumentException naming the value when it is NaN, infinite, negative or out of order;
   *     the forecaster's state is then unchanged
   */
  void observe(long timeMillis, double value);

  /**
   * The forecast {@code horizon} steps ahead (>= 1), with the upper bound at quantile {@code level}
   * (in (0, 1)) taken from this model's recent residuals at that horizon.
   */
  Forecast forecast(int horizon, double level);

  /** The forecast {@code horizon} steps ahead with the default p90 upper bound. */
  default Forecast forecast(int horizon) {
    return forecast(horizon, 0.9);
  }
}
