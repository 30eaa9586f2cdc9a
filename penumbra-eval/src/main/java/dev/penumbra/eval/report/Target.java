package dev.penumbra.eval.report;

/**
 * One benchmark target as every {@code --format json} writes it: the bound, the measured value (null when it
 * could not be measured) and whether it was met.
 */
public record Target(double target, double value, boolean met) {

  /** Met when {@code value <= bound}. */
  public static Target atMost(double bound, double value) {
    return new Target(bound, value, value <= bound);
  }

  /** Met when {@code value >= bound}. */
  public static Target atLeast(double bound, double value) {
    return new Target(bound, value, value >= bound);
  }
}
