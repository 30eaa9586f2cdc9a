package dev.penumbra.core.forecast;

import dev.penumbra.core.feedback.ErrorStats;

/**
 * A forecaster that scores its own predictions: every h-step forecast it makes for a horizon it tracks is
 * compared with the actual when that arrives, and the residuals size its prediction intervals.
 */
public interface ScoredForecaster extends Forecaster {

  /** Error statistics of this model's 1-step forecasts over its recent window (upper bound at p90). */
  default ErrorStats stats() {
    return stats(1);
  }

  /**
   * Error statistics of this model's {@code horizon}-step forecasts; empty when that horizon has not been
   * asked for (a horizon is tracked from the first time it is asked for).
   */
  ErrorStats stats(int horizon);

  /** How many observations this forecaster has seen. */
  long observations();
}
