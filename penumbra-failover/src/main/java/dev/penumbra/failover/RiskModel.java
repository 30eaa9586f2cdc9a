package dev.penumbra.failover;

import dev.penumbra.core.predict.Features;

/**
 * A node's failure probability within the model's horizon, from its features ({@link FailureFeatures}).
 * Calibrated models mean it: of the nodes scored 0.7, about 70% fail within the horizon. Thread-safe.
 */
public interface RiskModel {

  /** The model's name in reports and metrics. */
  String name();

  /** The horizon the probability is for, in days of the telemetry's time. */
  int horizonDays();

  /**
   * The probability, in [0, 1].
   *
   * @throws IllegalArgumentException naming the feature when one the model reads is missing
   */
  double probability(Features features);
}
