package dev.penumbra.eval.replay;

import dev.penumbra.eval.policy.Policies;
import java.util.List;

/**
 * How to replay.
 *
 * @param policies registered policy names, in report order (not empty)
 * @param lead intervals ahead each allocation is decided (>= 1): the allocation of interval t sees the use of
 *     intervals up to t - lead
 * @param budget the tolerated violation rate for slack-at-budget, in [0, 1)
 * @param threads worker threads (>= 1)
 */
public record ReplayOptions(List<String> policies, int lead, double budget, int threads) {

  public ReplayOptions {
    if (policies == null || policies.isEmpty()) {
      throw new IllegalArgumentException("policies must not be empty, was " + policies);
    }
    policies.forEach(Policies::require);
    policies = List.copyOf(policies);
    if (lead < 1) {
      throw new IllegalArgumentException("lead must be >= 1, was " + lead);
    }
    if (!(budget >= 0 && budget < 1)) {
      throw new IllegalArgumentException("budget must be in [0, 1), was " + budget);
    }
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, was " + threads);
    }
  }

  /** All policies, lead 1, budget 1%, one thread per core. */
  public static ReplayOptions defaults() {
    return new ReplayOptions(Policies.names(), 1, 0.01, Runtime.getRuntime().availableProcessors());
  }
}
