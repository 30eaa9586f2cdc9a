package dev.penumbra.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.penumbra.core.SharedData;
import dev.penumbra.sim.replay.Metric;
import dev.penumbra.sim.replay.PolicyRun;
import dev.penumbra.sim.replay.ProgressListener;
import dev.penumbra.sim.replay.Replay;
import dev.penumbra.sim.replay.ReplayOptions;
import dev.penumbra.sim.replay.ReplayResult;
import dev.penumbra.sim.trace.Trace;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pins the replay of one real NAB series (an EC2 instance's CPU, 4032 five-minute intervals) at lead 1 and a
 * 1% budget. The baselines are deterministic rules, so their slack at the budget is exactly reproducible; the
 * pinned values are what the documented rules give on this file, and a change beyond the tolerance means a
 * rule, the scoring or the warm-up changed. The tolerance only absorbs floating-point reordering.
 */
class NabReplayRegressionTest {

  @Test
  void baselinesOnEc2Cpu5f5533() throws Exception {
    Trace trace = TraceFiles.read(SharedData.path("nab/data/realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv")).get(0);
    ReplayResult result = Replay.run(List.of(trace),
        new ReplayOptions(List.of("static", "reactive", "vpa", "autopilot", "oracle"), 1, 0.01, 2), ProgressListener.NONE);
    assertThat(trace.length()).isEqualTo(4032);
    double[] expected = {0.195382, 0.244505, 0.153508, 0.132192, 0.0};
    List<PolicyRun> runs = result.runs();
    for (int i = 0; i < expected.length; i++) {
      assertThat(runs.get(i).metric(Metric.SLACK_AT_BUDGET)).as(runs.get(i).policy()).isCloseTo(expected[i], within(1e-5));
      assertThat(runs.get(i).warmup()).isEqualTo(288);
    }
    // the oracle bounds everyone, and every baseline idles more than a tenth of its allocation on this series
    for (int i = 0; i < 4; i++) {
      assertThat(runs.get(i).metric(Metric.SLACK_AT_BUDGET)).isGreaterThan(0.1);
    }
  }
}
