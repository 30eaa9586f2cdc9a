package dev.penumbra.eval.replay;

import dev.penumbra.eval.trace.Trace;
import java.util.List;

/**
 * Every (trace, policy) run of a replay, traces in input order and, within a trace, policies in option order.
 */
public record ReplayResult(ReplayOptions options, List<Trace> traces, List<PolicyRun> runs) {

  public ReplayResult {
    traces = List.copyOf(traces);
    runs = List.copyOf(runs);
  }

  /** The runs on one trace, in policy order. */
  public List<PolicyRun> runs(Trace trace) {
    return runs.stream().filter(r -> r.trace() == trace).toList();
  }

  /** The same replay restricted to {@code subset} (traces of this result, kept in this result's order). */
  public ReplayResult only(java.util.Collection<Trace> subset) {
    java.util.Set<Trace> keep = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    keep.addAll(subset);
    return new ReplayResult(options,
        traces.stream().filter(keep::contains).toList(), runs.stream().filter(r -> keep.contains(r.trace())).toList());
  }

  public Summary summary() {
    return Summary.of(this);
  }
}
