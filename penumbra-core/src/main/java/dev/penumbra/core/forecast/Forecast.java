package dev.penumbra.core.forecast;

import dev.penumbra.core.Checks;
/**
 * A forecast of one series: the point estimate, the upper bound at quantile {@code level}, how far ahead,
 * which model made it, and whether it rests on too little history to be trusted (cold start).
 *
 * @param point the expected value (>= 0)
 * @param upper the value not exceeded with probability {@code level}
 * @param level the quantile of {@code upper}, in (0, 1)
 * @param horizon steps ahead, >= 1
 * @param model the name of the model that made it
 * @param lowConfidence true while the model has too little history for its interval to mean much
 */
public record Forecast(double point, double upper, double level, int horizon, String model, boolean lowConfidence) {

  public Forecast {
    if (!Double.isFinite(point) || !Double.isFinite(upper)) {
      throw new IllegalArgumentException("forecast of " + model + " is not finite: point=" + point + ", upper=" + upper);
    }
    if (!(level > 0 && level < 1)) {
      throw new IllegalArgumentException("level must be in (0, 1), was " + level);
    }
    Checks.atLeast("horizon", horizon, 1);
  }
}
