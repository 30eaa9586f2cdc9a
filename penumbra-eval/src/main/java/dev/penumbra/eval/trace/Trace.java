package dev.penumbra.eval.trace;

import dev.penumbra.core.Resources.Dimension;
import java.util.Arrays;

/**
 * One usage series, regularly sampled: what one machine, VM, container or metric used of one resource, one
 * value per interval. Readers resample irregular sources onto this grid.
 *
 * @param name identifies the series in reports, e.g. "bitbrains/2013-7/1.csv:cpu"
 * @param resource which dimension the values measure
 * @param unit the values' unit as the source gives it, e.g. "percent", "MHz", "KB", "bytes"
 * @param startMillis epoch milliseconds of the first interval
 * @param stepMillis the interval length in milliseconds (> 0)
 * @param values one finite, non-negative value per interval; never mutated after construction
 */
public record Trace(String name, Dimension resource, String unit, long startMillis, long stepMillis, double[] values) {

  public Trace {
    if (stepMillis <= 0) {
      throw new IllegalArgumentException(name + ": stepMillis must be > 0, was " + stepMillis);
    }
    values = values.clone();
    for (int i = 0; i < values.length; i++) {
      double v = values[i];
      if (!Double.isFinite(v) || v < 0) {
        throw new IllegalArgumentException(name + ": value at interval " + i + " must be finite and >= 0, was " + v);
      }
    }
  }

  public int length() {
    return values.length;
  }

  /** The value of interval {@code i}. */
  public double value(int i) {
    return values[i];
  }

  /** A copy of the values. */
  @Override
  public double[] values() {
    return values.clone();
  }

  public long timeMillis(int i) {
    return startMillis + i * stepMillis;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Trace t
        && name.equals(t.name)
        && resource == t.resource
        && unit.equals(t.unit)
        && startMillis == t.startMillis
        && stepMillis == t.stepMillis
        && Arrays.equals(values, t.values);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(values);
  }

  @Override
  public String toString() {
    return "Trace[" + name + ", " + resource.label() + " (" + unit + "), " + values.length + " x " + stepMillis + " ms]";
  }
}
