package dev.penumbra.core.forecast;

import dev.penumbra.core.Checks;
import dev.penumbra.core.feedback.ErrorStats;
import dev.penumbra.core.feedback.ErrorTracker;
import org.apache.commons.math3.special.Erf;

/**
 * What every forecaster here shares: input validation, the clamping of points to finite values >= 0, and the
 * scoring of its own forecasts. Every horizon asked for is tracked: after each observation the model's
 * h-step point is kept pending until the actual it aims at arrives; the residual (actual - point) then joins
 * a bounded window for that horizon, and the prediction is recorded in an {@link ErrorTracker}. The upper
 * bound at {@code level} is the point plus the empirical {@code level}-quantile of that window.
 *
 * <p>Subclasses implement {@link #update} (called only with validated input, and must not throw) and
 * {@link #predict}.
 */
abstract class BaseForecaster implements ScoredForecaster {

  /** Residuals kept per horizon. */
  static final int RESIDUAL_WINDOW = 200;
  /** Residuals needed before an interval is trusted. */
  static final int MIN_RESIDUALS = 20;
  /** Horizons tracked at once; beyond that, forecasts borrow the 1-step residuals. */
  static final int MAX_TRACKED = 16;
  /** Longest horizon tracked (pending forecasts cost memory in proportion to the horizon). */
  static final int MAX_TRACKED_HORIZON = 4096;
  /** The level of the upper bound recorded with each scored prediction. */
  static final double SCORE_LEVEL = 0.9;
  /** The cold-start band is at least this share of the level seen, times z(level). */
  static final double COLD_RELATIVE = 0.25;

  private static final double Z_SCORE_LEVEL = z(SCORE_LEVEL);

  private final String name;
  private final ErrorTracker tracker = new ErrorTracker(RESIDUAL_WINDOW);
  private Track[] tracks;
  private long count;
  private long lastTime;
  private double last;
  // Running moments of the values and of the step-to-step differences, for the cold-start band.
  private double mean;
  private double m2;
  private double diffSquares;

  BaseForecaster(String name) {
    this.name = name;
    tracks = new Track[] {new Track(1)};
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final void observe(long timeMillis, double value) {
    if (!Double.isFinite(value) || value < 0) {
      throw new IllegalArgumentException("value must be finite and >= 0, was " + value);
    }
    if (count > 0 && timeMillis < lastTime) {
      throw new IllegalArgumentException(
          "timeMillis must not go backwards, was " + timeMillis + " after " + lastTime);
    }
    for (Track t : tracks) {
      t.score(count, value);
    }
    update(timeMillis, value);
    if (count > 0) {
      double d = value - last;
      diffSquares += d * d;
    }
    count++;
    double delta = value - mean;
    mean += delta / count;
    m2 += delta * (value - mean);
    last = value;
    lastTime = timeMillis;
    for (Track t : tracks) {
      t.predict();
    }
  }

  @Override
  public final Forecast forecast(int horizon, double level) {
    checkHorizon(horizon);
    if (!(level > 0 && level < 1)) {
      throw new IllegalArgumentException("level must be in (0, 1), was " + level);
    }
    if (count == 0) {
      // Nothing seen: nothing to reserve, and say so.
      return new Forecast(0, 0, level, horizon, name, true);
    }
    Track t = track(horizon);
    double point = t != null ? t.pendingPoint() : point(horizon);
    if (t != null && t.residuals.size() >= MIN_RESIDUALS) {
      return new Forecast(point, point + Math.max(0, t.residuals.quantile(level)), level, horizon, name, false);
    }
    return new Forecast(point, point + provisionalBand(horizon, level, point), level, horizon, name, true);
  }

  @Override
  public final ErrorStats stats(int horizon) {
    checkHorizon(horizon);
    for (Track t : tracks) {
      if (t.h == horizon) {
        return tracker.stats(t.key);
      }
    }
    return ErrorStats.empty(horizon == 1 ? name : name + "@" + horizon);
  }

  @Override
  public final long observations() {
    return count;
  }

  /** Adds one validated observation to the model; {@link #observations()} is its 0-based index. */
  abstract void update(long timeMillis, double value);

  /** The raw point forecast {@code horizon} steps after the last observation (called only after one). */
  abstract double predict(int horizon);

  /** The point {@code horizon} steps ahead: finite and >= 0 (the last value if the model gives no number). */
  final double point(int horizon) {
    if (count == 0) {
      return 0;
    }
    if (horizon == 1) {
      return tracks[0].pendingPoint();
    }
    for (Track t : tracks) {
      if (t.h == horizon) {
        return t.pendingPoint();
      }
    }
    return computePoint(horizon);
  }

  /** The p90 upper bound of the pending 1-step forecast (what the scorer records as reserved). */
  final double upper1() {
    return count == 0 ? 0 : tracks[0].pendingUpper();
  }

  final double lastValue() {
    return last;
  }

  /** Mean of the values seen so far. */
  final double meanValue() {
    return mean;
  }

  private double computePoint(int horizon) {
    double p = predict(horizon);
    if (!Double.isFinite(p)) {
      p = last;
    }
    return Math.max(0, p);
  }

  /**
   * The band above the point while a horizon has too few residuals: the 1-step residual quantile scaled by
   * sqrt(h) once that exists, else z(level) times the largest of the values' standard deviation, the RMS
   * step-to-step change times sqrt(h), and a quarter of the level seen.
   */
  private double provisionalBand(int horizon, double level, double point) {
    Track one = tracks[0];
    if (one.residuals.size() >= MIN_RESIDUALS) {
      return Math.max(0, one.residuals.quantile(level)) * Math.sqrt(horizon);
    }
    return coldBand(horizon, z(level), point);
  }

  private double coldBand(int horizon, double z, double point) {
    double sd = count > 1 ? Math.sqrt(m2 / (count - 1)) : 0;
    double rmsDiff = count > 1 ? Math.sqrt(diffSquares / (count - 1)) : 0;
    double scale = Math.max(Math.max(sd, rmsDiff * Math.sqrt(horizon)), COLD_RELATIVE * Math.max(point, mean));
    return Math.max(0, z) * scale;
  }

  private static double z(double level) {
    return Math.sqrt(2) * Erf.erfInv(2 * level - 1);
  }

  private static void checkHorizon(int horizon) {
    Checks.atLeast("horizon", horizon, 1);
  }

  /** The track of a horizon, started now if there is room; null when it cannot be tracked. */
  private Track track(int horizon) {
    for (Track t : tracks) {
      if (t.h == horizon) {
        return t;
      }
    }
    if (tracks.length >= MAX_TRACKED || horizon > MAX_TRACKED_HORIZON) {
      return null;
    }
    Track t = new Track(horizon);
    Track[] grown = java.util.Arrays.copyOf(tracks, tracks.length + 1);
    grown[tracks.length] = t;
    tracks = grown;
    t.predict();
    return t;
  }

  /** The pending forecasts and recent residuals of one horizon. */
  private final class Track {
    final int h;
    final String key;
    final SortedWindow residuals = new SortedWindow(RESIDUAL_WINDOW);
    // Slot i % h holds the forecast aimed at observation index i.
    final long[] target;
    final double[] point;
    final double[] upper;

    Track(int h) {
      this.h = h;
      this.key = h == 1 ? name : name + "@" + h;
      target = new long[h];
      java.util.Arrays.fill(target, -1);
      point = new double[h];
      upper = new double[h];
    }

    /** Scores the forecast aimed at observation {@code index}, if one is pending. */
    void score(long index, double actual) {
      int slot = (int) (index % h);
      if (target[slot] == index) {
        residuals.add(actual - point[slot]);
        tracker.record(key, point[slot], upper[slot], actual);
        target[slot] = -1;
      }
    }

    /** Makes the forecast aimed at h steps after the last observation. */
    void predict() {
      long aim = count - 1 + h;
      int slot = (int) (aim % h);
      double p = computePoint(h);
      double band = residuals.size() >= MIN_RESIDUALS
          ? Math.max(0, residuals.quantile(SCORE_LEVEL))
          : (h > 1 && tracks[0].residuals.size() >= MIN_RESIDUALS
              ? Math.max(0, tracks[0].residuals.quantile(SCORE_LEVEL)) * Math.sqrt(h)
              : coldBand(h, Z_SCORE_LEVEL, p));
      target[slot] = aim;
      point[slot] = p;
      upper[slot] = p + band;
    }

    double pendingPoint() {
      return point[(int) ((count - 1 + h) % h)];
    }

    double pendingUpper() {
      return upper[(int) ((count - 1 + h) % h)];
    }
  }
}
