package dev.penumbra.core;

import java.time.Duration;

/**
 * The argument checks every builder and constructor writes the same way, so each refusal reads alike: the field's
 * name, the rule and the value given ({@code "maxRows must be >= 0, was -1"}). Each returns the value it checked.
 */
public final class Checks {

  private Checks() {}

  /** {@code value}, refused when null. */
  public static <T> T notNull(String field, T value) {
    if (value == null) {
      throw new IllegalArgumentException(field + " must not be null");
    }
    return value;
  }

  /** {@code value}, refused when below {@code min}. */
  public static int atLeast(String field, int value, int min) {
    if (value < min) {
      throw new IllegalArgumentException(field + " must be >= " + min + ", was " + value);
    }
    return value;
  }

  /** {@code value}, refused when below {@code min}. */
  public static long atLeast(String field, long value, long min) {
    if (value < min) {
      throw new IllegalArgumentException(field + " must be >= " + min + ", was " + value);
    }
    return value;
  }

  /** {@code value}, refused when below {@code min}, NaN or infinite. */
  public static double atLeast(String field, double value, double min) {
    if (!(value >= min) || Double.isInfinite(value)) {
      throw new IllegalArgumentException(field + " must be finite and >= " + number(min) + ", was " + value);
    }
    return value;
  }

  /** {@code value}, refused when 0 or below. */
  public static long positive(String field, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(field + " must be > 0, was " + value);
    }
    return value;
  }

  /** {@code value}, refused when 0 or below, NaN or infinite. */
  public static double positive(String field, double value) {
    if (!(value > 0) || Double.isInfinite(value)) {
      throw new IllegalArgumentException(field + " must be finite and > 0, was " + value);
    }
    return value;
  }

  /** {@code value}, refused when null, zero or negative. */
  public static Duration positive(String field, Duration value) {
    if (value == null || value.isZero() || value.isNegative()) {
      throw new IllegalArgumentException(field + " must be > 0, was " + value);
    }
    return value;
  }

  /** {@code value}, refused when null or negative. */
  public static Duration notNegative(String field, Duration value) {
    if (value == null || value.isNegative()) {
      throw new IllegalArgumentException(field + " must be >= 0, was " + value);
    }
    return value;
  }

  /** A share of a whole: {@code value}, refused outside (0, 1] (NaN included). */
  public static double share(String field, double value) {
    if (!(value > 0 && value <= 1)) {
      throw new IllegalArgumentException(field + " must be in (0, 1], was " + value);
    }
    return value;
  }

  /** A bound as people write it: 1, not 1.0. */
  private static String number(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }
}
