package dev.penumbra.eval.policy;

import dev.penumbra.eval.trace.Trace;

/**
 * What a policy factory may know before a replay: the trace's description, how far ahead allocations are
 * decided, and the violation budget. Only clairvoyant policies (the oracle) read {@link #trace()}'s values;
 * every other policy learns the values through {@link Policy#observe} alone.
 *
 * @param trace the trace being replayed
 * @param lead how many intervals ahead each allocation is decided (>= 1)
 * @param budget the tolerated share of violated intervals, in [0, 1)
 */
public record PolicyContext(Trace trace, int lead, double budget) {

  public PolicyContext {
    if (trace == null) {
      throw new IllegalArgumentException("trace must not be null");
    }
    if (lead < 1) {
      throw new IllegalArgumentException("lead must be >= 1, was " + lead);
    }
    if (!(budget >= 0 && budget < 1)) {
      throw new IllegalArgumentException("budget must be in [0, 1), was " + budget);
    }
  }

  public long stepMillis() {
    return trace.stepMillis();
  }

  /** Whole intervals in {@code millis} of trace time, at least 1. */
  public int intervals(long millis) {
    return (int) Math.max(1, Math.ceil((double) millis / trace.stepMillis()));
  }
}
