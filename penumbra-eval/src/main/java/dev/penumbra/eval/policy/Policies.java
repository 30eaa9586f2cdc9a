package dev.penumbra.eval.policy;

import dev.penumbra.core.forecast.Forecasters;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The registry of allocation policies by name, in report order: baselines, then Penumbra's, then the oracle. */
public final class Policies {

  /** Penumbra's own policy. */
  public static final String PENUMBRA = "penumbra";
  /** The perfect-foresight bound. */
  public static final String ORACLE = "oracle";

  private static final Map<String, Function<PolicyContext, Policy>> FACTORIES = new LinkedHashMap<>();

  static {
    FACTORIES.put("static", c -> new StaticPolicy(c, Double.NaN));
    FACTORIES.put("reactive", ReactivePolicy::new);
    FACTORIES.put("vpa", VpaPolicy::new);
    FACTORIES.put("autopilot", AutopilotPolicy::new);
    // Forecasters keep per-series state and are not thread-safe: every policy instance gets a fresh one.
    FACTORIES.put("holt-winters", c -> new HoltWintersPolicy(c, Forecasters.holtWinters()));
    FACTORIES.put(PENUMBRA, c -> new PenumbraPolicy(c, Forecasters.production(c.lead())));
    FACTORIES.put(ORACLE, OraclePolicy::new);
  }

  private Policies() {}

  /** All registered names, in report order. */
  public static List<String> names() {
    return List.copyOf(Collections.unmodifiableSet(FACTORIES.keySet()));
  }

  /** True for the policies Penumbra is compared against: every policy except penumbra and the oracle. */
  public static boolean isBaseline(String name) {
    return FACTORIES.containsKey(name) && !name.equals(PENUMBRA) && !name.equals(ORACLE);
  }

  /**
   * A new instance of the named policy for one replay.
   *
   * @throws IllegalArgumentException naming the policy when no such policy is registered
   */
  public static Policy create(String name, PolicyContext context) {
    Function<PolicyContext, Policy> factory = FACTORIES.get(name);
    if (factory == null) {
      throw new IllegalArgumentException("policy '" + name + "' is not one of " + String.join(", ", FACTORIES.keySet()));
    }
    return factory.apply(context);
  }

  /** Throws when {@code name} is not registered; otherwise returns it. */
  public static String require(String name) {
    if (!FACTORIES.containsKey(name)) {
      throw new IllegalArgumentException("policy '" + name + "' is not one of " + String.join(", ", FACTORIES.keySet()));
    }
    return name;
  }
}
