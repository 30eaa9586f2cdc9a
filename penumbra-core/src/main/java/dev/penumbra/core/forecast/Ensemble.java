package dev.penumbra.core.forecast;

import dev.penumbra.core.feedback.ErrorStats;
import java.util.List;
import java.util.Map;

/**
 * A forecaster combining member forecasters, weighted by their recent 1-step errors. Its own prediction
 * interval comes from its own residuals, like any other {@link ScoredForecaster}.
 */
public interface Ensemble extends ScoredForecaster {

  /** The members' names, in member order (made unique with a {@code #n} suffix where they repeat). */
  List<String> members();

  /** The current weight of each member (they sum to 1), in member order. */
  Map<String, Double> weights();

  /** The error statistics of each member's 1-step forecasts, in member order. */
  List<ErrorStats> memberStats();

  /**
   * Member {@code member}'s (0-based, in member order) point forecast {@code horizon} steps ahead, finite and
   * >= 0; 0 before the first observation.
   */
  double memberPoint(int member, int horizon);
}
