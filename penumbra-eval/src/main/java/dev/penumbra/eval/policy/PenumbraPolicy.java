package dev.penumbra.eval.policy;

import dev.penumbra.core.forecast.Forecast;
import dev.penumbra.core.forecast.Forecaster;
import java.util.Arrays;
import org.apache.commons.math3.special.Erf;

/**
 * Penumbra's own policy: the forecaster's point {@code lead} steps ahead plus a headroom sized by the recent
 * volatility of its own errors at that lead, never below the peak of the last {@value #PEAK_WINDOW} values.
 *
 * <p>Volatility is an exponentially weighted mean of {@code |used - point|} over the points this policy
 * allocated from (half-life {@value #VOLATILITY_HALF_LIFE} intervals), so the headroom widens within a few
 * intervals when the series turns noisy and narrows again when it calms down; the headroom is
 * {@code z(1 - budget)} such volatilities (about 2.3 at a 1% budget). The short peak covers the step changes
 * a smoothed point lags behind. Until the forecaster has history enough for its own interval, its upper bound
 * at level {@code 1 - budget} or the peak so far, whichever is larger, is used. Only observed values enter.
 */
final class PenumbraPolicy implements Policy {

  static final int VOLATILITY_HALF_LIFE = 12;
  static final int PEAK_WINDOW = 2;
  static final double MIN_LEVEL = 0.5;
  static final double MAX_LEVEL = 0.995;

  private static final double VOLATILITY_RATE = 1 - Math.pow(0.5, 1.0 / VOLATILITY_HALF_LIFE);

  private final Forecaster forecaster;
  private final PolicyContext context;
  private final double level;
  private final double headroom;
  // Slot i % (lead + 1) holds the point allocated from for interval i, NaN once scored.
  private final double[] issuedPoint;
  private final double[] recent = new double[PEAK_WINDOW];
  private int seen;
  private double peak;
  private double volatility = Double.NaN;

  PenumbraPolicy(PolicyContext context, Forecaster forecaster) {
    this.context = context;
    this.forecaster = forecaster;
    this.level = Math.min(MAX_LEVEL, Math.max(MIN_LEVEL, 1 - context.budget()));
    this.headroom = Math.sqrt(2) * Erf.erfInv(2 * level - 1);
    this.issuedPoint = new double[context.lead() + 1];
    Arrays.fill(issuedPoint, Double.NaN);
  }

  @Override
  public String name() {
    return "penumbra";
  }

  @Override
  public void observe(double used) {
    int slot = seen % issuedPoint.length;
    double point = issuedPoint[slot];
    if (!Double.isNaN(point)) {
      double error = Math.abs(used - point);
      volatility = Double.isNaN(volatility) ? error : volatility + VOLATILITY_RATE * (error - volatility);
      issuedPoint[slot] = Double.NaN;
    }
    peak = Math.max(peak, used);
    recent[seen % PEAK_WINDOW] = used;
    forecaster.observe(context.trace().timeMillis(seen++), used);
  }

  @Override
  public double allocate(int interval) {
    if (seen == 0) {
      return 0;
    }
    Forecast f = forecaster.forecast(context.lead(), level);
    issuedPoint[interval % issuedPoint.length] = f.point();
    if (f.lowConfidence() || Double.isNaN(volatility)) {
      // Cold start: the model's interval rests on too little history, the peak so far is the safer bound.
      return Math.max(0, Math.max(f.upper(), peak));
    }
    double shortPeak = 0;
    for (int i = 0; i < Math.min(seen, PEAK_WINDOW); i++) {
      shortPeak = Math.max(shortPeak, recent[i]);
    }
    return Math.max(0, Math.max(f.point() + headroom * volatility, shortPeak));
  }
}
