package dev.penumbra.core.forecast;

import dev.penumbra.core.Checks;
import dev.penumbra.core.feedback.ErrorStats;
import dev.penumbra.core.feedback.ErrorTracker;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Weighted average of member forecasts. Each member's 1-step absolute error is smoothed twice, with a short
 * half-life ({@value #SHORT_HALF_LIFE} observations) and a long one ({@value #LONG_HALF_LIFE}); a member's
 * error score is the geometric mean of the two (plus eps, a millionth of the mean level), and its weight is
 * proportional to (best score / its score)^{@value #SHARPNESS}. The steep power makes the ensemble follow the
 * member that is clearly best (averaging a good member with worse ones that err the same way only blurs it)
 * while still hedging between members that are close; on the replay benchmark it beat the inverse-square
 * weighting on most traces. The short average moves the weight within a few steps when the series changes
 * behaviour; the long one keeps a member that is briefly lucky from taking over. The members'
 * 1-step forecasts are recorded in the ensemble's own {@link ErrorTracker}; the ensemble's interval comes from
 * its own residuals like any other forecaster.
 */
final class WeightedEnsemble extends BaseForecaster implements Ensemble {
  static final int SHORT_HALF_LIFE = 32;
  static final int LONG_HALF_LIFE = 256;
  static final int SHARPNESS = 8;
  private static final double SHORT_RATE = 1 - Math.pow(0.5, 1.0 / SHORT_HALF_LIFE);
  private static final double LONG_RATE = 1 - Math.pow(0.5, 1.0 / LONG_HALF_LIFE);

  private final Forecaster[] members;
  private final BaseForecaster[] fast;
  private final String[] names;
  private final ErrorTracker memberTracker = new ErrorTracker(RESIDUAL_WINDOW);
  private final double[] pendingPoint;
  private final double[] pendingUpper;
  private final double[] shortError;
  private final double[] longError;
  private final double[] weight;
  private boolean pending;
  private boolean scored;

  WeightedEnsemble(List<? extends Forecaster> members) {
    super("ensemble");
    int k = members.size();
    this.members = new Forecaster[k];
    this.fast = new BaseForecaster[k];
    this.names = new String[k];
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < k; i++) {
      Forecaster m = members.get(i);
      if (m == null) {
        throw new IllegalArgumentException("members[" + i + "] must not be null");
      }
      if (m instanceof ScoredForecaster s && s.observations() > 0) {
        throw new IllegalArgumentException(
            "members[" + i + "] must be fresh, had " + s.observations() + " observations");
      }
      this.members[i] = m;
      this.fast[i] = m instanceof BaseForecaster b ? b : null;
      String name = m.name();
      int n = 2;
      while (!seen.add(name)) {
        name = m.name() + "#" + n++;
      }
      names[i] = name;
    }
    pendingPoint = new double[k];
    pendingUpper = new double[k];
    shortError = new double[k];
    longError = new double[k];
    weight = new double[k];
    java.util.Arrays.fill(weight, 1.0 / k);
  }

  @Override
  void update(long timeMillis, double value) {
    int k = members.length;
    if (pending) {
      for (int i = 0; i < k; i++) {
        double e = Math.abs(value - pendingPoint[i]);
        if (scored) {
          shortError[i] += SHORT_RATE * (e - shortError[i]);
          longError[i] += LONG_RATE * (e - longError[i]);
        } else {
          shortError[i] = e;
          longError[i] = e;
        }
        memberTracker.record(names[i], pendingPoint[i], pendingUpper[i], value);
      }
      scored = true;
    }
    for (int i = 0; i < k; i++) {
      members[i].observe(timeMillis, value);
      if (fast[i] != null) {
        pendingPoint[i] = fast[i].point(1);
        pendingUpper[i] = fast[i].upper1();
      } else {
        Forecast f = members[i].forecast(1, SCORE_LEVEL);
        pendingPoint[i] = f.point();
        pendingUpper[i] = Math.max(f.point(), f.upper());
      }
    }
    pending = true;
    if (scored) {
      reweigh(value);
    }
  }

  private void reweigh(double value) {
    // The new value is not yet in meanValue(); either is a fine scale for eps.
    double eps = 1e-6 * Math.max(Math.max(meanValue(), value), 1e-9);
    double best = Double.POSITIVE_INFINITY;
    for (int i = 0; i < weight.length; i++) {
      weight[i] = Math.sqrt(shortError[i] * longError[i]) + eps;
      best = Math.min(best, weight[i]);
    }
    // Ratios to the best score keep the steep power within double range whatever the series' scale.
    double sum = 0;
    for (int i = 0; i < weight.length; i++) {
      double r = best / weight[i];
      double r2 = r * r;
      double r4 = r2 * r2;
      weight[i] = r4 * r4;
      sum += weight[i];
    }
    for (int i = 0; i < weight.length; i++) {
      weight[i] /= sum;
    }
  }

  @Override
  double predict(int horizon) {
    double p = 0;
    for (int i = 0; i < members.length; i++) {
      double point;
      if (horizon == 1) {
        point = pendingPoint[i];
      } else if (fast[i] != null) {
        point = fast[i].point(horizon);
      } else {
        point = members[i].forecast(horizon, SCORE_LEVEL).point();
      }
      p += weight[i] * point;
    }
    return p;
  }

  @Override
  public double memberPoint(int member, int horizon) {
    if (member < 0 || member >= members.length) {
      throw new IllegalArgumentException("member must be in [0, " + members.length + "), was " + member);
    }
    Checks.atLeast("horizon", horizon, 1);
    if (observations() == 0) {
      return 0;
    }
    if (horizon == 1) {
      return pendingPoint[member];
    }
    double p = fast[member] != null
        ? fast[member].point(horizon) : members[member].forecast(horizon, SCORE_LEVEL).point();
    return Math.max(0, p);
  }

  @Override
  public List<String> members() {
    return List.of(names);
  }

  @Override
  public Map<String, Double> weights() {
    Map<String, Double> out = new LinkedHashMap<>();
    for (int i = 0; i < names.length; i++) {
      out.put(names[i], weight[i]);
    }
    return Collections.unmodifiableMap(out);
  }

  @Override
  public List<ErrorStats> memberStats() {
    List<ErrorStats> out = new ArrayList<>(names.length);
    for (String n : names) {
      out.add(memberTracker.stats(n));
    }
    return List.copyOf(out);
  }
}
