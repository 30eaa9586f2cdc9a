package dev.penumbra.server;

import java.util.ArrayDeque;
import java.util.List;

/**
 * The last {@code capacity} samples of one capability's use of one dimension: what was predicted, what was
 * reserved, what was actually used, and what the capability's baseline would have reserved. Thread-safe.
 */
public final class Timeline {

  /**
   * One sample.
   *
   * @param timeMillis epoch milliseconds
   * @param label what the sample is about (a query id, a stream interval, a task phase)
   */
  public record Sample(long timeMillis, String label, double predicted, double reserved, double actual,
      double baseline) {}

  private final String dimension;
  private final String unit;
  private final int capacity;
  private final ArrayDeque<Sample> samples = new ArrayDeque<>();
  private long total;
  private double sumReserved;
  private double sumActual;
  private double sumBaseline;
  private long underReserved;
  private long underBaseline;

  /** A timeline of {@code dimension} measured in {@code unit}, keeping the last {@code capacity} samples. */
  public Timeline(String dimension, String unit, int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be >= 1, was " + capacity);
    }
    this.dimension = dimension;
    this.unit = unit;
    this.capacity = capacity;
  }

  public synchronized void add(Sample s) {
    if (samples.size() == capacity) {
      samples.removeFirst();
    }
    samples.addLast(s);
    total++;
    sumReserved += s.reserved();
    sumActual += s.actual();
    sumBaseline += s.baseline();
    if (s.actual() > s.reserved()) {
      underReserved++;
    }
    if (s.actual() > s.baseline()) {
      underBaseline++;
    }
  }

  public String dimension() {
    return dimension;
  }

  public String unit() {
    return unit;
  }

  public synchronized List<Sample> samples() {
    return List.copyOf(samples);
  }

  /**
   * Totals since start, comparing Penumbra with the baseline: reserved / actual (1 is perfect, above is
   * waste) and the share of samples whose actual use exceeded what was reserved.
   */
  public synchronized Summary summary() {
    return new Summary(total, sumActual > 0 ? sumReserved / sumActual : Double.NaN,
        sumActual > 0 ? sumBaseline / sumActual : Double.NaN, total > 0 ? (double) underReserved / total : Double.NaN,
        total > 0 ? (double) underBaseline / total : Double.NaN);
  }

  /** Penumbra vs baseline over every sample so far. */
  public record Summary(long samples, double reservedPerActual, double baselinePerActual, double underReservedShare,
      double baselineUnderShare) {}
}
