package dev.penumbra.eval.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.eval.policy.Policies;
import dev.penumbra.eval.policy.Policy;
import dev.penumbra.eval.trace.DemoTrace;
import dev.penumbra.eval.trace.Trace;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ReplayTest {

  /** Records, for every allocation it is asked for, how many values it had been shown. */
  static final class Recorder implements Policy {
    final List<Double> shown = new ArrayList<>();
    final List<int[]> asked = new ArrayList<>();

    @Override
    public String name() {
      return "recorder";
    }

    @Override
    public void observe(double used) {
      shown.add(used);
    }

    @Override
    public double allocate(int interval) {
      asked.add(new int[] {interval, shown.size()});
      return shown.isEmpty() ? 0 : shown.get(shown.size() - 1);
    }
  }

  private static Trace ramp(int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = i + 1; // distinct values, so any value shown identifies its interval
    }
    return new Trace("ramp", Dimension.CPU, "percent", 0, 60_000, v);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 5})
  void aPolicyNeverSeesTheIntervalItIsScoredOn(int lead) {
    Recorder r = new Recorder();
    Trace trace = ramp(20);
    PolicyRun run = Replay.replay(trace, r, lead, 0.01);
    for (int[] a : r.asked) {
      int interval = a[0];
      int seen = a[1];
      // exactly the intervals 0..t-lead were shown
      assertThat(seen).as("values shown before deciding interval %d", interval).isEqualTo(Math.max(0, interval - lead + 1));
    }
    // values shown in order, each once, and never the last lead-1 ones
    assertThat(r.shown).hasSize(20 - lead);
    for (int i = 0; i < r.shown.size(); i++) {
      assertThat(r.shown.get(i)).isEqualTo(i + 1.0);
    }
    // last-value policy on a ramp of step 1 is short by exactly lead at every later interval
    assertThat(run.allocations()[10]).isEqualTo(11.0 - lead);
  }

  @Test
  void oracleHasZeroSlackAndNoViolationsOnTheDemoTrace() {
    ReplayResult result = Replay.run(List.of(DemoTrace.of(Dimension.CPU)),
        new ReplayOptions(List.of(Policies.ORACLE), 1, 0.01, 1), ProgressListener.NONE);
    PolicyRun oracle = result.runs().get(0);
    assertThat(oracle.metric(Metric.SLACK)).isZero();
    assertThat(oracle.metric(Metric.VIOLATION_RATE)).isZero();
    assertThat(oracle.metric(Metric.SLACK_AT_BUDGET)).isCloseTo(0, within(1e-9));
  }

  @Test
  void everyPolicyRunsOnTheDemoTraceInParallelAndStaysAboveTheOracle() {
    Trace demo = DemoTrace.of(Dimension.CPU);
    ReplayResult result = Replay.run(List.of(demo, DemoTrace.of(Dimension.MEMORY)),
        new ReplayOptions(Policies.names(), 1, 0.01, 2), ProgressListener.NONE);
    assertThat(result.runs()).hasSize(2 * Policies.names().size());
    assertThat(result.runs(demo).stream().map(PolicyRun::policy).toList()).isEqualTo(Policies.names());
    for (PolicyRun run : result.runs()) {
      assertThat(run.warmup()).isEqualTo(288);
      double s = run.metric(Metric.SLACK_AT_BUDGET);
      assertThat(s).as(run.policy()).isBetween(0.0, 1.0);
      // at the budget's margin the violation rate is within the budget
      double m = run.metric(Metric.MARGIN_AT_BUDGET);
      assertThat(Scoring.violationRate(run.allocations(), run.trace().values(), run.warmup(), m)).isLessThanOrEqualTo(0.01);
    }
    Summary summary = result.summary();
    assertThat(summary.traces()).isEqualTo(2);
    assertThat(summary.medianSlackAtBudget().get(Policies.ORACLE)).isCloseTo(0, within(1e-9));
  }

  @Test
  void penumbraAndHoltWintersRunEndToEndOnTheDemoTrace() {
    Trace demo = DemoTrace.of(Dimension.CPU);
    ReplayResult result = Replay.run(List.of(demo), ReplayOptions.defaults(), ProgressListener.NONE);
    assertThat(Policies.names())
        .containsExactly("static", "reactive", "vpa", "autopilot", "holt-winters", "penumbra", "oracle");
    double best = Double.POSITIVE_INFINITY;
    for (PolicyRun run : result.runs()) {
      assertThat(java.util.Arrays.stream(run.allocations()).allMatch(a -> a >= 0 && Double.isFinite(a))).isTrue();
      assertThat(run.nanos()).isPositive();
      if (Policies.isBaseline(run.policy())) {
        best = Math.min(best, run.metric(Metric.SLACK_AT_BUDGET));
      }
    }
    PolicyRun hw = result.runs().get(4);
    PolicyRun penumbra = result.runs().get(5);
    assertThat(hw.policy()).isEqualTo("holt-winters");
    assertThat(hw.metric(Metric.SLACK_AT_BUDGET)).isBetween(0.01, 0.9);
    // the allocations follow the trace: most allocations change from one interval to the next
    assertThat(hw.metric(Metric.ACTUATIONS)).isGreaterThan(1000);
    assertThat(penumbra.metric(Metric.ACTUATIONS)).isGreaterThan(1000);
    // the demo's bursts start at random (1% of intervals), so at a 1% budget no forecast can see them coming:
    // penumbra is within a few percent of the best baseline (reactive) and well below holt-winters' point
    assertThat(penumbra.metric(Metric.SLACK_AT_BUDGET)).isLessThan(best * 1.05).isLessThan(hw.metric(Metric.SLACK_AT_BUDGET));
    Summary s = result.summary();
    assertThat(s.medianRatioToBestBaseline()).isLessThan(1.05);
    assertThat(s.medianOracleGap().get(Policies.ORACLE)).isCloseTo(0, within(1e-9));
    assertThat(s.medianOracleGap().get(Policies.PENUMBRA)).isPositive();
  }

  @Test
  void onlyRestrictsAResultToSomeTraces() {
    Trace cpu = DemoTrace.of(Dimension.CPU);
    Trace memory = DemoTrace.of(Dimension.MEMORY);
    ReplayResult result = Replay.run(List.of(cpu, memory),
        new ReplayOptions(List.of("static", Policies.ORACLE), 1, 0.01, 2), ProgressListener.NONE);
    ReplayResult sub = result.only(List.of(memory));
    assertThat(sub.traces()).containsExactly(memory);
    assertThat(sub.runs()).hasSize(2).allMatch(r -> r.trace() == memory);
    assertThat(sub.summary().traces()).isEqualTo(1);
    assertThat(sub.summary().medianSlackAtBudget().get("static"))
        .isEqualTo(result.runs(memory).get(0).metric(Metric.SLACK_AT_BUDGET));
  }

  @Test
  void warmupIsADayButAtMostAQuarterOfTheTrace() {
    assertThat(Replay.warmup(DemoTrace.of(Dimension.CPU))).isEqualTo(288);
    assertThat(Replay.warmup(ramp(20))).isEqualTo(5);
  }

  @Test
  void badOptionsNameTheField() {
    assertThatThrownBy(() -> new ReplayOptions(List.of("nope"), 1, 0.01, 1)).hasMessageContaining("nope");
    assertThatThrownBy(() -> new ReplayOptions(Policies.names(), 0, 0.01, 1)).hasMessageContaining("lead");
    assertThatThrownBy(() -> new ReplayOptions(Policies.names(), 1, 1.0, 1)).hasMessageContaining("budget");
  }

  @Test
  void aNegativeAllocationIsRejectedNamingThePolicy() {
    Policy bad = new Policy() {
      public String name() {
        return "bad";
      }

      public void observe(double used) {}

      public double allocate(int interval) {
        return -1;
      }
    };
    assertThatThrownBy(() -> Replay.replay(ramp(4), bad, 1, 0.01)).hasMessageContaining("bad").hasMessageContaining("-1");
  }
}
