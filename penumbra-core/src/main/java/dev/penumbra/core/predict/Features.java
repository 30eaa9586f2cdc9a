package dev.penumbra.core.predict;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * An immutable set of named numeric features describing one piece of work, e.g. a query's estimated rows and
 * joins, a task's input size. The input of a {@link Predictor}.
 *
 * <p>Names are non-blank and unique; values are finite. Iteration follows insertion order; equality ignores it
 * (two feature sets with the same names and values are equal).
 *
 * @param values feature values by name (copied; the record holds an unmodifiable insertion-ordered map)
 */
public record Features(Map<String, Double> values) {

  public Features {
    if (values == null) {
      throw new IllegalArgumentException("features are missing");
    }
    LinkedHashMap<String, Double> copy = new LinkedHashMap<>();
    for (Map.Entry<String, Double> e : values.entrySet()) {
      check(e.getKey(), e.getValue());
      copy.put(e.getKey(), e.getValue());
    }
    values = Collections.unmodifiableMap(copy);
  }

  private static void check(String name, Double value) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("feature name must not be blank, was '" + name + "' (value " + value + ")");
    }
    if (value == null || !Double.isFinite(value)) {
      throw new IllegalArgumentException("feature '" + name + "' must be finite, was " + value);
    }
  }

  /** Features from alternating names and values: {@code Features.of("rows", 1e6, "joins", 3)}. */
  public static Features of(Object... namesAndValues) {
    if (namesAndValues.length % 2 != 0) {
      throw new IllegalArgumentException(
          "features need name/value pairs, got " + namesAndValues.length + " arguments");
    }
    Builder b = builder();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      Object name = namesAndValues[i];
      Object value = namesAndValues[i + 1];
      if (!(name instanceof String s)) {
        throw new IllegalArgumentException("feature name at position " + i + " must be a String, was " + name);
      }
      if (!(value instanceof Number n)) {
        throw new IllegalArgumentException("feature '" + s + "' must be a number, was " + value);
      }
      b.put(s, n.doubleValue());
    }
    return b.build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The feature names, in insertion order. */
  public Set<String> names() {
    return values.keySet();
  }

  /** The value of one feature; throws naming it when absent. */
  public double get(String name) {
    Double v = values.get(name);
    if (v == null) {
      throw new IllegalArgumentException("feature '" + name + "' is not in " + values.keySet());
    }
    return v;
  }

  public int size() {
    return values.size();
  }

  /** Collects features one at a time; a name may be given only once. */
  public static final class Builder {
    private final LinkedHashMap<String, Double> values = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Adds one feature.
     *
     * @throws IllegalArgumentException naming the feature when the name is blank or repeated or the value is
     *     not finite; the builder is then unchanged
     */
    public Builder put(String name, double value) {
      check(name, value);
      if (values.containsKey(name)) {
        throw new IllegalArgumentException(
            "feature '" + name + "' given twice (" + values.get(name) + " and " + value + ")");
      }
      values.put(name, value);
      return this;
    }

    public Features build() {
      return new Features(values);
    }
  }
}
