package dev.penumbra.core;

import java.util.Collections;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * A predicted need for resources with its uncertainty: the point estimate and the amounts at one or more
 * upper quantiles. The allocator sizes a reservation with {@link #at} at the quantile the work's priority asks
 * for. Forecasters (per dimension) and feature-based predictors both produce it.
 *
 * @param point the expected need
 * @param quantiles amounts by quantile level in (0, 1); each at least {@code point}
 * @param model the model (or tier) that made it
 * @param lowConfidence true while the model had too little history to trust its interval
 */
public record Demand(Resources point, NavigableMap<Double, Resources> quantiles, String model, boolean lowConfidence) {

  public Demand {
    if (point == null) {
      throw new IllegalArgumentException("demand point is missing");
    }
    TreeMap<Double, Resources> copy = new TreeMap<>();
    for (Map.Entry<Double, Resources> e : quantiles.entrySet()) {
      double level = e.getKey();
      if (!(level > 0 && level < 1)) {
        throw new IllegalArgumentException("demand quantile level must be in (0, 1), was " + level);
      }
      // An upper quantile below the point would size a reservation below the expected need.
      copy.put(level, e.getValue().max(point));
    }
    quantiles = Collections.unmodifiableNavigableMap(copy);
  }

  /** A need known exactly (no uncertainty), e.g. a measured actual or a fixed request. */
  public static Demand exact(Resources amount, String model) {
    return new Demand(amount, new TreeMap<>(), model, false);
  }

  /** A point estimate with one upper quantile. */
  public static Demand of(Resources point, double level, Resources upper, String model, boolean lowConfidence) {
    TreeMap<Double, Resources> q = new TreeMap<>();
    q.put(level, upper);
    return new Demand(point, q, model, lowConfidence);
  }

  /**
   * The amount to reserve at quantile {@code level}: the point at or below the median (unless that exact level
   * is known); above it, the amount at the smallest known level >= {@code level} (conservative), or at the
   * highest known level when {@code level} is above all of them.
   */
  public Resources at(double level) {
    if (!(level > 0 && level < 1)) {
      throw new IllegalArgumentException("quantile level must be in (0, 1), was " + level);
    }
    Resources exact = quantiles.get(level);
    if (exact != null) {
      return exact;
    }
    if (level <= 0.5 || quantiles.isEmpty()) {
      return point;
    }
    Map.Entry<Double, Resources> e = quantiles.ceilingEntry(level);
    return e != null ? e.getValue() : quantiles.lastEntry().getValue();
  }
}
