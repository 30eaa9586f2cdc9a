package dev.penumbra.core.forecast;

import dev.penumbra.core.feedback.ErrorStats;
import java.util.Arrays;
import org.apache.commons.math3.special.Erf;

/**
 * Penumbra's production band around a forecaster's point at one lead: the point plus {@code z(level)} times the
 * recent volatility of the model's own errors at that lead, never below the peak of the last
 * {@value #PEAK_WINDOW} values.
 *
 * <p>Volatility is an exponentially weighted mean of {@code |actual - point|} over the points this band issued at
 * its lead (half-life {@value #VOLATILITY_HALF_LIFE} observations), so the band widens within a few steps when
 * the series turns noisy and narrows again when it calms down — faster than a window of residual quantiles,
 * which is why the band, not the raw residual interval, sizes reservations ahead of time. The short peak covers
 * the step changes a smoothed point lags behind. Until it has scored a point, or while the inner model's own
 * interval is low-confidence, the inner model's upper bound or the peak so far, whichever is larger, is used.
 *
 * <p>Forecasts at other horizons than the lead are the inner model's. Single-threaded, like every forecaster.
 */
final class Headroom implements ScoredForecaster {

  static final int VOLATILITY_HALF_LIFE = 12;
  static final int PEAK_WINDOW = 2;

  private static final double VOLATILITY_RATE = 1 - Math.pow(0.5, 1.0 / VOLATILITY_HALF_LIFE);

  private final Forecaster inner;
  private final int lead;
  // Slot i % (lead + 1) holds the point issued for observation i, NaN once scored (or never issued).
  private final double[] issued;
  private final double[] recent = new double[PEAK_WINDOW];
  private long seen;
  private double peak;
  private double volatility = Double.NaN;

  Headroom(Forecaster inner, int lead) {
    if (inner == null) {
      throw new IllegalArgumentException("inner forecaster must not be null");
    }
    if (lead < 1) {
      throw new IllegalArgumentException("lead must be >= 1, was " + lead);
    }
    this.inner = inner;
    this.lead = lead;
    this.issued = new double[lead + 1];
    Arrays.fill(issued, Double.NaN);
  }

  @Override
  public String name() {
    return inner.name();
  }

  @Override
  public void observe(long timeMillis, double value) {
    inner.observe(timeMillis, value);
    int slot = (int) (seen % issued.length);
    double point = issued[slot];
    if (!Double.isNaN(point)) {
      double error = Math.abs(value - point);
      volatility = Double.isNaN(volatility) ? error : volatility + VOLATILITY_RATE * (error - volatility);
      issued[slot] = Double.NaN;
    }
    peak = Math.max(peak, value);
    recent[(int) (seen % PEAK_WINDOW)] = value;
    seen++;
  }

  @Override
  public Forecast forecast(int horizon, double level) {
    Forecast f = inner.forecast(horizon, level);
    if (horizon != lead || seen == 0) {
      return f;
    }
    // The point aims at observation seen - 1 + lead.
    issued[(int) ((seen - 1 + lead) % issued.length)] = f.point();
    if (f.lowConfidence() || Double.isNaN(volatility)) {
      return new Forecast(f.point(), Math.max(f.point(), Math.max(f.upper(), peak)), level, horizon, f.model(), true);
    }
    double shortPeak = 0;
    for (int i = 0; i < Math.min(seen, PEAK_WINDOW); i++) {
      shortPeak = Math.max(shortPeak, recent[i]);
    }
    double upper = Math.max(f.point() + z(level) * volatility, shortPeak);
    return new Forecast(f.point(), Math.max(f.point(), upper), level, horizon, f.model(), false);
  }

  @Override
  public ErrorStats stats(int horizon) {
    return inner instanceof ScoredForecaster s ? s.stats(horizon) : ErrorStats.empty(inner.name());
  }

  @Override
  public long observations() {
    return seen;
  }

  /** The standard normal quantile at {@code level}. */
  static double z(double level) {
    return Math.sqrt(2) * Erf.erfInv(2 * level - 1);
  }
}
