package dev.penumbra.eval.trace;

import java.util.Arrays;
import java.util.Comparator;

/**
 * The raw samples of one source series (one or more value channels sharing timestamps, e.g. a Bitbrains VM's
 * cpu, memory, io and network), and their resampling onto a regular grid:
 *
 * <ol>
 *   <li>rows are sorted by time (stable); samples with the same timestamp become one sample, their mean;
 *   <li>the grid has intervals of {@code step} centred on {@code anchor + k * step}; a sample belongs to the
 *       interval whose centre is nearest (ties go to the later one), so jitter below half a step is absorbed;
 *   <li>an interval's value is the mean of its samples;
 *   <li>a run of up to {@code maxGap} empty intervals is filled by linear interpolation between its
 *       neighbours; a longer run carries the last value before it.
 * </ol>
 */
final class Samples {

  /** A grid longer than this means the timestamps are inconsistent (e.g. seconds mixed with millis). */
  static final int MAX_INTERVALS = 20_000_000;

  private final int channels;
  private long[] times = new long[256];
  private final double[][] values;
  private int size;

  Samples(int channels) {
    this.channels = channels;
    this.values = new double[channels][256];
  }

  int size() {
    return size;
  }

  void add(long time, double v0) {
    int i = slot(time);
    values[0][i] = v0;
  }

  void add(long time, double v0, double v1) {
    int i = slot(time);
    values[0][i] = v0;
    values[1][i] = v1;
  }

  void add(long time, double[] row) {
    int i = slot(time);
    for (int c = 0; c < channels; c++) {
      values[c][i] = row[c];
    }
  }

  private int slot(long time) {
    if (size == times.length) {
      int cap = size * 2;
      times = Arrays.copyOf(times, cap);
      for (int c = 0; c < channels; c++) {
        values[c] = Arrays.copyOf(values[c], cap);
      }
    }
    times[size] = time;
    return size++;
  }

  long firstTime() {
    return times[0];
  }

  /** Sorts by time (stable) and merges samples with equal timestamps into their mean. */
  void normalize() {
    boolean sorted = true;
    for (int i = 1; i < size && sorted; i++) {
      sorted = times[i - 1] <= times[i];
    }
    if (!sorted) {
      Integer[] order = new Integer[size];
      for (int i = 0; i < size; i++) {
        order[i] = i;
      }
      long[] t = times;
      Arrays.sort(order, Comparator.comparingLong(i -> t[i])); // TimSort: stable
      long[] nt = new long[size];
      double[][] nv = new double[channels][size];
      for (int i = 0; i < size; i++) {
        nt[i] = t[order[i]];
        for (int c = 0; c < channels; c++) {
          nv[c][i] = values[c][order[i]];
        }
      }
      times = nt;
      System.arraycopy(nv, 0, values, 0, channels);
    }
    int out = 0;
    for (int i = 0; i < size; ) {
      int j = i + 1;
      while (j < size && times[j] == times[i]) {
        j++;
      }
      times[out] = times[i];
      for (int c = 0; c < channels; c++) {
        double sum = 0;
        for (int k = i; k < j; k++) {
          sum += values[c][k];
        }
        values[c][out] = sum / (j - i);
      }
      out++;
      i = j;
    }
    size = out;
  }

  /** Appends the steps between consecutive (normalized) samples to {@code steps}; returns the new count. */
  int collectSteps(long[][] steps, int count) {
    for (int i = 1; i < size; i++) {
      if (count == steps[0].length) {
        steps[0] = Arrays.copyOf(steps[0], Math.max(16, count * 2));
      }
      steps[0][count++] = times[i] - times[i - 1];
    }
    return count;
  }

  /** The median step (the lower middle one), or 0 when there are no steps. */
  static long medianStep(long[] steps, int count) {
    if (count == 0) {
      return 0;
    }
    long[] s = Arrays.copyOf(steps, count);
    Arrays.sort(s);
    return s[(count - 1) / 2];
  }

  /** This series' own median step (after {@link #normalize()}), or 0 with fewer than two timestamps. */
  long medianStep() {
    long[][] steps = {new long[Math.max(1, size)]};
    return medianStep(steps[0], collectSteps(steps, 0));
  }

  /** The resampled values, one array per channel, starting at {@link Grid#startMillis()}. */
  record Grid(long startMillis, double[][] values) {}

  /** Resamples onto the grid; requires {@link #normalize()} first and at least one sample. */
  Grid grid(long anchor, long step, int maxGap, Lines source) throws TraceFormatException {
    long half = step / 2;
    long k0 = Math.floorDiv(times[0] - anchor + half, step);
    long k1 = Math.floorDiv(times[size - 1] - anchor + half, step);
    long len = k1 - k0 + 1;
    if (len > MAX_INTERVALS) {
      throw source.fileError("timestamps span " + len + " intervals of " + step + " ms (more than " + MAX_INTERVALS
          + "); are seconds and milliseconds mixed?");
    }
    int n = (int) len;
    double[][] out = new double[channels][n];
    int[] counts = new int[n];
    for (int i = 0; i < size; i++) {
      int b = (int) (Math.floorDiv(times[i] - anchor + half, step) - k0);
      counts[b]++;
      for (int c = 0; c < channels; c++) {
        out[c][b] += values[c][i];
      }
    }
    for (int b = 0; b < n; b++) {
      if (counts[b] > 1) {
        for (int c = 0; c < channels; c++) {
          out[c][b] /= counts[b];
        }
      }
    }
    // First and last intervals hold samples, so every run of empty ones has a filled neighbour on each side.
    for (int b = 1; b < n; b++) {
      if (counts[b] > 0) {
        continue;
      }
      int e = b;
      while (counts[e] == 0) {
        e++;
      }
      int before = b - 1;
      boolean interpolate = e - b <= maxGap;
      for (int c = 0; c < channels; c++) {
        double from = out[c][before];
        double slope = (out[c][e] - from) / (e - before);
        for (int j = b; j < e; j++) {
          out[c][j] = interpolate ? from + slope * (j - before) : from;
        }
      }
      b = e;
    }
    return new Grid(anchor + k0 * step, out);
  }
}
