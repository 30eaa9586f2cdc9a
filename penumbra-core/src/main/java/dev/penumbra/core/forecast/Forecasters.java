package dev.penumbra.core.forecast;

import dev.penumbra.core.Checks;
import java.util.List;

/**
 * The forecasters Penumbra ships. Each one validates its parameters here (an {@link
 * IllegalArgumentException} names the parameter and its value), scores its own forecasts and sizes its
 * prediction intervals from its recent residuals. Instances are not thread-safe: one per series.
 *
 * <pre>{@code
 * Ensemble f = Forecasters.ensemble();
 * f.observe(clock.millis(), cpuMillicores);
 * Forecast next = f.forecast(1, 0.95);   // point and p95 upper bound one step ahead
 * }</pre>
 */
public final class Forecasters {

  /** Default members' parameters, used by {@link #ensemble()}. */
  static final double DEFAULT_EWMA_ALPHA = 0.3;
  static final double DEFAULT_HOLT_ALPHA = 0.5;
  static final double DEFAULT_HOLT_BETA = 0.1;
  static final double DEFAULT_HW_ALPHA = 0.3;
  static final double DEFAULT_HW_BETA = 0.05;
  static final double DEFAULT_HW_GAMMA = 0.3;
  static final int DEFAULT_AR_ORDER = 3;
  static final int DEFAULT_HISTOGRAM_HALF_LIFE = 144;
  static final double DEFAULT_HISTOGRAM_PERCENTILE = 0.5;

  private Forecasters() {}

  /** The last value seen, at every horizon. */
  public static ScoredForecaster lastValue() {
    return new LastValue();
  }

  /** Simple exponential smoothing with weight {@code alpha} in (0, 1] on the newest value. */
  public static ScoredForecaster ewma(double alpha) {
    unit("alpha", alpha);
    return new Ewma(alpha);
  }

  /** Holt's level + trend smoothing; {@code alpha}, {@code beta} in (0, 1]. */
  public static ScoredForecaster holt(double alpha, double beta) {
    unit("alpha", alpha);
    unit("beta", beta);
    return new Holt(alpha, beta);
  }

  /**
   * Additive Holt-Winters; {@code alpha}, {@code beta}, {@code gamma} in (0, 1]. {@code season} is the
   * period in observations (>= 2), or 0 to detect it by autocorrelation over the recent history (re-checked
   * periodically; while no season is found it forecasts as Holt).
   */
  public static ScoredForecaster holtWinters(double alpha, double beta, double gamma, int season) {
    unit("alpha", alpha);
    unit("beta", beta);
    unit("gamma", gamma);
    if (season < 0 || season == 1) {
      throw new IllegalArgumentException("season must be 0 (detect) or >= 2, was " + season);
    }
    if (season > HoltWinters.MAX_SEASON) {
      throw new IllegalArgumentException("season must be <= " + HoltWinters.MAX_SEASON + ", was " + season);
    }
    return new HoltWinters(alpha, beta, gamma, season);
  }

  /** Holt-Winters with the ensemble's defaults (alpha 0.3, beta 0.05, gamma 0.3) and a detected season. */
  public static ScoredForecaster holtWinters() {
    return holtWinters(DEFAULT_HW_ALPHA, DEFAULT_HW_BETA, DEFAULT_HW_GAMMA, 0);
  }

  /**
   * An autoregressive model of order {@code p} (1..{@value Autoregressive#MAX_ORDER}) with intercept,
   * fitted by least squares on the last {@value Autoregressive#WINDOW} values and refitted every
   * {@value Autoregressive#REFIT_EVERY} observations.
   */
  public static ScoredForecaster ar(int p) {
    if (p < 1 || p > Autoregressive.MAX_ORDER) {
      throw new IllegalArgumentException("p must be in [1, " + Autoregressive.MAX_ORDER + "], was " + p);
    }
    return new Autoregressive(p, Autoregressive.WINDOW, Autoregressive.REFIT_EVERY);
  }

  /**
   * A VPA-style histogram of the values, buckets growing geometrically by 5%, each observation's weight
   * halving every {@code halfLife} observations (>= 1); forecasts the {@code percentile} (in (0, 1]) of the
   * decayed distribution at every horizon.
   */
  public static ScoredForecaster decayingHistogram(int halfLife, double percentile) {
    Checks.atLeast("halfLife", halfLife, 1);
    Checks.share("percentile", percentile);
    return new HistogramForecaster(halfLife, percentile);
  }

  /**
   * The default ensemble: last value, EWMA(0.3), Holt(0.5, 0.1), Holt-Winters(0.3, 0.05, 0.3, detected
   * season), AR(3) and a decaying histogram's median (half-life 144 observations).
   */
  public static Ensemble ensemble() {
    return ensemble(
        lastValue(),
        ewma(DEFAULT_EWMA_ALPHA),
        holt(DEFAULT_HOLT_ALPHA, DEFAULT_HOLT_BETA),
        holtWinters(),
        ar(DEFAULT_AR_ORDER),
        decayingHistogram(DEFAULT_HISTOGRAM_HALF_LIFE, DEFAULT_HISTOGRAM_PERCENTILE));
  }

  /**
   * An ensemble of fresh {@code members} (at least one; the ensemble feeds them, so they must not be fed
   * elsewhere).
   */
  public static Ensemble ensemble(Forecaster... members) {
    return ensemble(List.of(members));
  }

  /** An ensemble of fresh {@code members}; see {@link #ensemble(Forecaster...)}. */
  public static Ensemble ensemble(List<? extends Forecaster> members) {
    if (members.isEmpty()) {
      throw new IllegalArgumentException("members must not be empty, was " + members);
    }
    return new WeightedEnsemble(members);
  }

  /**
   * The forecaster Penumbra reserves ahead with: the default {@link #ensemble()} and, at {@code lead} steps
   * ahead, the band of {@link Headroom}: a point plus z(level) times the volatility of its own errors at that
   * lead (the geometric mean of a short and a long average), never below the last value, where the point is
   * the ensemble's or one of its members', whichever has reserved least at the budget on this series so far; one
   * more candidate floors the ensemble's band at the highest values around the same time one day before, and the
   * band reserved is the mean of the acting candidate's and the runner-up's.
   * The replay's {@code penumbra} policy uses it.
   */
  public static ScoredForecaster production(int lead) {
    return new Headroom(ensemble(), lead);
  }

  /**
   * {@code inner} with the production band at {@code lead}; see {@link #production(int)}. When {@code inner} is
   * an {@link Ensemble}, its members' points are candidates too.
   */
  public static ScoredForecaster withHeadroom(Forecaster inner, int lead) {
    return new Headroom(inner, lead);
  }

  private static void unit(String field, double v) {
    if (!(v > 0 && v <= 1)) {
      throw new IllegalArgumentException(field + " must be in (0, 1], was " + v);
    }
  }
}
