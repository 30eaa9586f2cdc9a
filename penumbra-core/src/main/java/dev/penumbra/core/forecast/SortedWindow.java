package dev.penumbra.core.forecast;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Quantiles;
import java.util.Arrays;

/**
 * The last {@code capacity} values in arrival order and, alongside, the same values kept sorted, so that a
 * quantile is an index lookup. Each add costs two binary searches and two array shifts of at most
 * {@code capacity} elements, with no allocation.
 *
 * <p>This is the one uncertainty mechanism of the product: forecasters keep their residuals (actual - point) in
 * it and bound a forecast at {@code level} by the point plus {@link #quantile}; models outside this package (the
 * task model) use the same window so every "upper quantile" means the same thing. Not thread-safe.
 */
public final class SortedWindow {
  private final double[] ring;
  private final double[] sorted;
  private int next;
  private int size;

  /** A window of the last {@code capacity} values (>= 1). */
  public SortedWindow(int capacity) {
    Checks.atLeast("capacity", capacity, 1);
    ring = new double[capacity];
    sorted = new double[capacity];
  }

  /** Adds a value (callers pass finite ones), dropping the oldest when full. */
  public void add(double x) {
    if (size == ring.length) {
      double old = ring[next];
      int at = Arrays.binarySearch(sorted, 0, size, old);
      System.arraycopy(sorted, at + 1, sorted, at, size - at - 1);
      size--;
    }
    ring[next] = x;
    next = (next + 1) % ring.length;
    int at = Arrays.binarySearch(sorted, 0, size, x);
    if (at < 0) {
      at = -at - 1;
    }
    System.arraycopy(sorted, at, sorted, at + 1, size - at);
    sorted[at] = x;
    size++;
  }

  /** The values held, oldest first (adding them in this order to an empty window rebuilds this one). */
  public double[] values() {
    double[] out = new double[size];
    int start = size == ring.length ? next : 0;
    for (int i = 0; i < size; i++) {
      out[i] = ring[(start + i) % ring.length];
    }
    return out;
  }

  /** Values held (at most the capacity). */
  public int size() {
    return size;
  }

  /** The nearest-rank {@code q}-quantile of the values held ({@link Quantiles}' rule; 1: the largest), 0 when empty. */
  public double nearestRank(double q) {
    return size == 0 ? 0 : sorted[Quantiles.rank(size, q)];
  }

  /**
   * The empirical {@code level}-quantile, taken as the ceil(level * (n + 1))-th smallest of the n values
   * (the split-conformal rule, so that a new value falls below it with probability >= level), capped at the
   * largest value.
   */
  public double quantile(double level) {
    if (size == 0) {
      return 0;
    }
    int k = (int) Math.ceil(level * (size + 1)) - 1;
    return sorted[Math.max(0, Math.min(size - 1, k))];
  }
}
