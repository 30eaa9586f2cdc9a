package dev.penumbra.shard;

import dev.penumbra.core.predict.Features;
import java.util.List;

/**
 * One functional unit of a request: a processing function applied to a range of keys, after the units it
 * depends on (a multi-stage request is a DAG of units).
 *
 * @param name unique within the request
 * @param function the processing function's name; shards of equal functions share a history
 * @param keys the data it processes
 * @param dependsOn names of units that must finish first
 * @param hints what the request says about the unit before it runs (e.g. requested CPU per key); fed to the
 *     predictor beside the sizes, may be empty
 */
public record Unit(String name, String function, KeyRange keys, List<String> dependsOn, Features hints) {

  public Unit {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("unit name must not be blank, was '" + name + "'");
    }
    if (function == null || function.isBlank()) {
      throw new IllegalArgumentException("unit '" + name + "' function must not be blank, was '" + function + "'");
    }
    if (keys == null) {
      throw new IllegalArgumentException("unit '" + name + "' keys are missing");
    }
    dependsOn = dependsOn == null ? List.of() : List.copyOf(dependsOn);
    hints = hints == null ? Features.of() : hints;
  }

  /** An independent unit without hints. */
  public static Unit of(String name, String function, KeyRange keys) {
    return new Unit(name, function, keys, List.of(), Features.of());
  }

  /** The same unit, run after {@code units}. */
  public Unit after(String... units) {
    return new Unit(name, function, keys, List.of(units), hints);
  }

  /** The same unit with hints. */
  public Unit withHints(Features hints) {
    return new Unit(name, function, keys, dependsOn, hints);
  }
}
