package dev.penumbra.query.predict;

import dev.penumbra.core.Checks;
import java.util.Collections;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * A predicted amount of one metric: a point and upper quantiles (each at least the point).
 *
 * @param point the expected amount (>= 0)
 * @param quantiles amounts by level in (0, 1)
 */
public record Estimate(long point, NavigableMap<Double, Long> quantiles) {

  public Estimate {
    Checks.atLeast("point", point, 0);
    TreeMap<Double, Long> copy = new TreeMap<>();
    for (Map.Entry<Double, Long> e : quantiles.entrySet()) {
      if (!(e.getKey() > 0 && e.getKey() < 1)) {
        throw new IllegalArgumentException("quantile level must be in (0, 1), was " + e.getKey());
      }
      copy.put(e.getKey(), Math.max(point, e.getValue()));
    }
    quantiles = Collections.unmodifiableNavigableMap(copy);
  }

  /** An exact amount: the same at every level. */
  public static Estimate exactly(long amount) {
    return of(amount, amount, amount);
  }

  /** An estimate with quantiles 0.5 (= point), 0.9 and 0.99. */
  static Estimate of(double point, double p90, double p99) {
    TreeMap<Double, Long> q = new TreeMap<>();
    long p = round(point);
    q.put(0.5, p);
    q.put(0.9, round(p90));
    q.put(0.99, round(p99));
    return new Estimate(p, q);
  }

  /** The amount at {@code level}: the point at or below the median, else the smallest known level >= it. */
  public long at(double level) {
    if (!(level > 0 && level < 1)) {
      throw new IllegalArgumentException("quantile level must be in (0, 1), was " + level);
    }
    if (level <= 0.5 || quantiles.isEmpty()) {
      return quantiles.getOrDefault(level, point);
    }
    Map.Entry<Double, Long> e = quantiles.ceilingEntry(level);
    return e != null ? e.getValue() : quantiles.lastEntry().getValue();
  }

  Estimate scale(double factor) {
    TreeMap<Double, Long> q = new TreeMap<>();
    quantiles.forEach((k, v) -> q.put(k, round(v * factor)));
    return new Estimate(round(point * factor), q);
  }

  static long round(double v) {
    if (!(v > 0)) {
      return 0;
    }
    return v >= Long.MAX_VALUE ? Long.MAX_VALUE : Math.round(v);
  }
}
