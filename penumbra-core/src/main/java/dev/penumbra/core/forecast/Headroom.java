package dev.penumbra.core.forecast;

import dev.penumbra.core.Checks;
import dev.penumbra.core.feedback.ErrorStats;
import java.util.Arrays;
import org.apache.commons.math3.special.Erf;

/**
 * Penumbra's production band at one lead: a point plus {@code z(level)} times the volatility of that point's own
 * errors, never below the last value; the point is the inner model's, or, when the inner model is an
 * {@link Ensemble}, whichever of the ensemble's and its members' points has reserved most cheaply on this series.
 *
 * <p><b>Band.</b> The volatility is the geometric mean of two exponentially weighted means of {@code |actual -
 * point|} over the points issued at the lead: a short one (half-life {@value #VOLATILITY_HALF_LIFE}
 * observations), which widens the band within a few steps when the series turns noisy, and a long one
 * ({@value #LONG_VOLATILITY_HALF_LIFE}). The mean grows like the square root of the short volatility: reserving
 * a tolerated share of intervals, the cheapest band covers calm stretches tightly and does not pay in full for
 * every burst it cannot predict anyway (widening linearly with the short volatility, as before, bought the
 * intervals after each spike at the full price). The last value covers the step changes a smoothed point lags
 * behind. Until a point has been scored, or while the inner model's own interval is low-confidence, the inner
 * model's upper bound or the peak so far, whichever is larger, is used.
 *
 * <p><b>Selection.</b> Every candidate point (the ensemble's, then each member's) keeps its own band and its own
 * record: the ratio {@code actual / band} of its last {@value #SELECTION_WINDOW} bands. Every
 * {@value #SELECTION_EVERY} observations, from observation {@value #SELECTION_START} on, each candidate is priced
 * as its bands' sum over that window times the factor that would have kept it within the budget {@code 1 -
 * level} there (the reservation it needs at the budget), and the band acts of the cheapest candidate once it is
 * cheaper than the acting one by more than {@value #SELECTION_HYSTERESIS_PERCENT}%. The objective is the one the
 * reservation is judged by, not the point error that weighs the ensemble's members: on series with rare spikes
 * or near-constant ones, the member with the smallest error is not the one that reserves least.
 *
 * <p><b>Runner-up.</b> What is reserved is the mean of the acting candidate's band and the band of the candidate
 * priced cheapest after it at the last selection: two cheap bands miss on different intervals more often than on
 * the same ones, so their mean needs a smaller factor to keep within the budget than either alone.
 *
 * <p><b>Yesterday.</b> With an ensemble, one more candidate is the ensemble's band floored at the highest of the
 * three values around the same time of day one day before (the period from the observations' spacing; none when a
 * day is fewer than 4 or more than {@value #MAX_DAY} observations): a job that runs at the same hour every day
 * (a backup, a batch load) comes back where no smoothed point and no volatility expects it. It competes in the
 * selection like the others, so series without such a day keep their cheaper band.
 *
 * <p>The constants were chosen on the tuning part of the replay benchmark (docs/replay.md). Forecasts at other
 * horizons than the lead are the inner model's. Single-threaded, like every forecaster.
 */
final class Headroom implements ScoredForecaster {

  static final int VOLATILITY_HALF_LIFE = 12;
  static final int LONG_VOLATILITY_HALF_LIFE = 288;
  static final int SELECTION_WINDOW = 1000;
  static final int SELECTION_START = 288;
  static final int SELECTION_EVERY = 12;
  static final int SELECTION_HYSTERESIS_PERCENT = 10;
  /** The most observations a day may hold for the yesterday candidate (a day of 1-minute steps fits). */
  static final int MAX_DAY = 4096;
  /** The yesterday floor looks this many observations either side of the same time one day before. */
  static final int DAY_SPREAD = 1;
  private static final long DAY_MILLIS = 86_400_000L;

  private static final double SHORT_RATE = 1 - Math.pow(0.5, 1.0 / VOLATILITY_HALF_LIFE);
  private static final double LONG_RATE = 1 - Math.pow(0.5, 1.0 / LONG_VOLATILITY_HALF_LIFE);
  private static final double HYSTERESIS = SELECTION_HYSTERESIS_PERCENT / 100.0;
  // Stands for use against a zero band: worse than any finite ratio, and finite so the price stays a number.
  private static final double UNMET = 1e12;

  private final Forecaster inner;
  private final Ensemble ensemble;
  private final int lead;
  private final Candidate[] candidates;
  private long seen;
  private double peak;
  private double last;
  private double budget = Double.NaN;
  private int acting;
  // The cheapest candidate other than the acting one at the last selection; -1 before the first.
  private int runnerUp = -1;
  private long firstTime;
  // Observations per day, 0 until known or when the yesterday candidate is off; recent values in a ring.
  private int day;
  private double[] recent;

  Headroom(Forecaster inner, int lead) {
    Checks.notNull("inner forecaster", inner);
    Checks.atLeast("lead", lead, 1);
    this.inner = inner;
    this.lead = lead;
    this.ensemble = inner instanceof Ensemble e ? e : null;
    // The ensemble's point, each member's, and the ensemble's point again with the yesterday floor (last).
    int k = ensemble == null ? 1 : 2 + ensemble.members().size();
    this.candidates = new Candidate[k];
    for (int i = 0; i < k; i++) {
      candidates[i] = new Candidate(lead);
    }
  }

  @Override
  public String name() {
    return inner.name();
  }

  @Override
  public void observe(long timeMillis, double value) {
    inner.observe(timeMillis, value);
    remember(timeMillis, value);
    int slot = (int) (seen % (lead + 1));
    for (Candidate c : candidates) {
      c.score(slot, value);
    }
    peak = Math.max(peak, value);
    last = value;
    seen++;
    if (candidates.length > 1 && seen > SELECTION_START && seen % SELECTION_EVERY == 0 && !Double.isNaN(budget)) {
      select();
    }
  }

  /** Keeps the last day of values once the spacing of the first two observations says how many a day holds. */
  private void remember(long timeMillis, double value) {
    if (ensemble == null) {
      return;
    }
    if (seen == 0) {
      firstTime = timeMillis;
    } else if (seen == 1 && timeMillis > firstTime) {
      long perDay = Math.round((double) DAY_MILLIS / (timeMillis - firstTime));
      if (perDay >= 4 && perDay <= MAX_DAY) {
        day = (int) perDay;
        recent = new double[day + DAY_SPREAD + 1];
        recent[0] = last;
      }
    }
    if (recent != null) {
      recent[(int) (seen % recent.length)] = value;
    }
  }

  /** The highest value within {@link #DAY_SPREAD} of observation {@code target} one day before; NaN if none seen. */
  private double yesterday(long target) {
    if (recent == null) {
      return Double.NaN;
    }
    double high = Double.NaN;
    long centre = target - day;
    for (long i = centre - DAY_SPREAD; i <= centre + DAY_SPREAD; i++) {
      if (i >= 0 && i < seen && i > seen - 1 - recent.length) {
        double v = recent[(int) (i % recent.length)];
        high = Double.isNaN(high) ? v : Math.max(high, v);
      }
    }
    return high;
  }

  /** Moves the acting band to the candidate that reserved least at the budget over the window. */
  private void select() {
    double level = 1 - budget;
    double[] cost = new double[candidates.length];
    for (int i = 0; i < candidates.length; i++) {
      cost[i] = candidates[i].price(level);
    }
    int best = acting;
    for (int i = 0; i < candidates.length; i++) {
      if (cost[i] < cost[best]) {
        best = i;
      }
    }
    if (cost[best] < cost[acting] * (1 - HYSTERESIS)) {
      acting = best;
    }
    runnerUp = -1;
    for (int i = 0; i < candidates.length; i++) {
      if (i != acting && Double.isFinite(cost[i]) && (runnerUp < 0 || cost[i] < cost[runnerUp])) {
        runnerUp = i;
      }
    }
  }

  @Override
  public Forecast forecast(int horizon, double level) {
    Forecast f = inner.forecast(horizon, level);
    if (horizon != lead || seen == 0) {
      return f;
    }
    budget = 1 - level;
    double z = z(level);
    // The points aim at observation seen - 1 + lead.
    int slot = (int) ((seen - 1 + lead) % (lead + 1));
    int members = candidates.length - 2;
    for (int i = 0; i < candidates.length; i++) {
      boolean own = i == 0 || i > members;
      double point = own ? f.point() : ensemble.memberPoint(i - 1, lead);
      double floor = i > members ? yesterday(seen - 1 + lead) : Double.NaN;
      candidates[i].issue(slot, point, f.lowConfidence(), f.upper(), peak, last, z, floor);
    }
    Candidate c = candidates[acting];
    double point = Math.max(0, c.point[slot]);
    String model = acting == 0 || acting > members ? f.model() : ensemble.members().get(acting - 1);
    boolean cold = f.lowConfidence() || Double.isNaN(c.shortVolatility);
    double band = runnerUp < 0 ? c.band[slot] : (c.band[slot] + candidates[runnerUp].band[slot]) / 2;
    return new Forecast(point, Math.max(point, band), level, horizon, model, cold);
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

  /** One candidate point's band and its record. */
  private static final class Candidate {
    // Slot i % (lead + 1) holds what was issued for observation i, NaN once scored (or never issued).
    final double[] point;
    final double[] band;
    final SortedWindow ratios = new SortedWindow(SELECTION_WINDOW);
    final double[] bands = new double[SELECTION_WINDOW];
    int scored;
    double shortVolatility = Double.NaN;
    double longVolatility = Double.NaN;

    Candidate(int lead) {
      point = new double[lead + 1];
      band = new double[lead + 1];
      Arrays.fill(point, Double.NaN);
      Arrays.fill(band, Double.NaN);
    }

    /** Issues the band for {@code slot}; {@code floor}, when a number, is one more value it never goes below. */
    void issue(int slot, double p, boolean cold, double upper, double peak, double last, double z, double floor) {
      point[slot] = p;
      double b;
      if (cold || Double.isNaN(shortVolatility)) {
        b = Math.max(p, Math.max(upper, peak));
      } else {
        b = Math.max(p, Math.max(p + z * Math.sqrt(shortVolatility * longVolatility), last));
        if (!Double.isNaN(floor)) {
          b = Math.max(b, floor);
        }
      }
      band[slot] = Math.max(0, b);
    }

    void score(int slot, double value) {
      if (!Double.isNaN(point[slot])) {
        double e = Math.abs(value - point[slot]);
        if (Double.isNaN(shortVolatility)) {
          shortVolatility = e;
          longVolatility = e;
        } else {
          shortVolatility += SHORT_RATE * (e - shortVolatility);
          longVolatility += LONG_RATE * (e - longVolatility);
        }
        point[slot] = Double.NaN;
      }
      if (!Double.isNaN(band[slot])) {
        double b = band[slot];
        ratios.add(value <= 0 ? 0 : (b > 0 ? value / b : UNMET));
        bands[scored % SELECTION_WINDOW] = b;
        scored++;
        band[slot] = Double.NaN;
      }
    }

    /** The window's bands, summed, times the factor that keeps them within the budget ({@code level}). */
    double price(double level) {
      int n = ratios.size();
      if (n == 0) {
        return Double.POSITIVE_INFINITY;
      }
      double tolerated = Math.floor((1 - level) * n + 1e-9);
      double factor = ratios.quantile(1 - tolerated / n - 1e-9);
      double sum = 0;
      for (int i = 0; i < n; i++) {
        sum += bands[i];
      }
      return factor * sum;
    }
  }
}
