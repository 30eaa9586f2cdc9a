package dev.penumbra.sim.replay;

import dev.penumbra.sim.trace.Trace;
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

  public Summary summary() {
    return Summary.of(this);
  }
}
