package dev.penumbra.sim.policy;

import dev.penumbra.core.forecast.Forecast;
import dev.penumbra.core.forecast.Forecaster;

/**
 * Penumbra's own policy: allocate the forecaster's upper bound {@code lead} steps ahead, so the prediction
 * interval sizes the headroom, times a feedback factor {@code k} that holds the realised violation rate at the
 * budget. Each time the use of an interval it allocated for becomes known, {@code k} is multiplied by
 * {@code exp(gain * (1 - budget))} after a violation and by {@code exp(-gain * budget)} otherwise, whose
 * fixed point is a violation rate equal to the budget. Only already observed values enter either step.
 */
final class PenumbraPolicy implements Policy {

  static final double GAIN = 0.05;
  static final double MIN_LEVEL = 0.5;
  static final double MAX_LEVEL = 0.995;

  private final Forecaster forecaster;
  private final PolicyContext context;
  private final double level;
  private final double budget;
  private final double[] issued;
  private int seen;
  private double factor = 1;
  private double peak;

  PenumbraPolicy(PolicyContext context, Forecaster forecaster) {
    this.context = context;
    this.forecaster = forecaster;
    this.budget = context.budget();
    this.level = Math.min(MAX_LEVEL, Math.max(MIN_LEVEL, 1 - context.budget()));
    this.issued = new double[context.lead() + 1];
    java.util.Arrays.fill(issued, Double.NaN);
  }

  @Override
  public String name() {
    return "penumbra";
  }

  @Override
  public void observe(double used) {
    double allocated = issued[seen % issued.length];
    if (!Double.isNaN(allocated)) {
      boolean violated = used > allocated;
      factor *= Math.exp(violated ? GAIN * (1 - budget) : -GAIN * budget);
      issued[seen % issued.length] = Double.NaN;
    }
    peak = Math.max(peak, used);
    forecaster.observe(context.trace().timeMillis(seen++), used);
  }

  @Override
  public double allocate(int interval) {
    double allocation;
    if (seen == 0) {
      allocation = 0;
    } else {
      Forecast f = forecaster.forecast(context.lead(), level);
      // Until the model has history enough for its interval, the peak seen so far is the safer bound.
      double upper = f.lowConfidence() ? Math.max(f.upper(), peak) : f.upper();
      allocation = Math.max(0, upper) * factor;
    }
    issued[interval % issued.length] = allocation;
    return allocation;
  }
}
