package dev.penumbra.eval.policy;

import dev.penumbra.core.Resources.Dimension;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * A moving-window recommender in the style of Google Autopilot: it keeps the last 24 hours of observed use
 * and recommends, for memory, the window's peak (memory cannot be throttled, so the peak), and for CPU, io
 * and network the window's 95th percentile (nearest rank) — without any further margin.
 */
final class AutopilotPolicy implements Policy {

  static final long WINDOW_MILLIS = 24L * 3600 * 1000;
  static final double PERCENTILE = 0.95;

  private final int window;
  private final boolean peak;
  private final ArrayDeque<Double> recent = new ArrayDeque<>();
  private double[] sorted;
  private int size;

  AutopilotPolicy(PolicyContext context) {
    this.window = context.intervals(WINDOW_MILLIS);
    this.peak = context.trace().resource() == Dimension.MEMORY;
    this.sorted = new double[window];
  }

  @Override
  public String name() {
    return "autopilot";
  }

  @Override
  public void observe(double used) {
    if (recent.size() == window) {
      remove(recent.removeFirst());
    }
    recent.addLast(used);
    insert(used);
  }

  @Override
  public double allocate(int interval) {
    if (size == 0) {
      return 0;
    }
    if (peak) {
      return sorted[size - 1];
    }
    int rank = (int) Math.ceil(PERCENTILE * size);
    return sorted[Math.max(0, rank - 1)];
  }

  private void insert(double v) {
    int i = Arrays.binarySearch(sorted, 0, size, v);
    if (i < 0) {
      i = -i - 1;
    }
    System.arraycopy(sorted, i, sorted, i + 1, size - i);
    sorted[i] = v;
    size++;
  }

  private void remove(double v) {
    int i = Arrays.binarySearch(sorted, 0, size, v);
    System.arraycopy(sorted, i + 1, sorted, i, size - i - 1);
    size--;
  }
}
