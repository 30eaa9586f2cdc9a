package dev.penumbra.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.penumbra.core.SharedData;
import dev.penumbra.eval.policy.Policies;
import dev.penumbra.eval.replay.Metric;
import dev.penumbra.eval.replay.PolicyRun;
import dev.penumbra.eval.replay.ProgressListener;
import dev.penumbra.eval.replay.Replay;
import dev.penumbra.eval.replay.ReplayOptions;
import dev.penumbra.eval.replay.ReplayResult;
import dev.penumbra.eval.trace.Trace;
import dev.penumbra.eval.trace.TraceReaders;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pins the replay of one real NAB series (an EC2 instance's CPU, 4032 five-minute intervals) at lead 1 and a
 * 1% budget, read through the trace readers.
 *
 * <p>The baselines are deterministic rules, so their slack at the budget is exactly reproducible; the pinned
 * values are what the documented rules give on this file, and a change beyond 1e-5 means a rule, the scoring,
 * the warm-up or the reading changed.
 *
 * <p>holt-winters and penumbra are pinned with a wider tolerance (0.02 absolute slack): they rest on the core
 * forecasters, which are tuned independently of the replay (smoothing constants, season detection, ensemble
 * weighting). A small forecaster change may move them slightly without anything in the replay being wrong;
 * a larger move is a regression worth looking at.
 */
class NabReplayRegressionTest {

  @Test
  void everyPolicyOnEc2Cpu5f5533() throws Exception {
    Trace trace = TraceReaders.read(SharedData.path("nab/data/realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv")).get(0);
    ReplayResult result = Replay.run(List.of(trace), new ReplayOptions(Policies.names(), 1, 0.01, 2), ProgressListener.NONE);
    assertThat(trace.length()).isEqualTo(4032);
    List<PolicyRun> runs = result.runs();
    assertThat(runs).extracting(PolicyRun::policy)
        .containsExactly("static", "reactive", "vpa", "autopilot", "holt-winters", "penumbra", "oracle");
    double[] exact = {0.195382, 0.244505, 0.153508, 0.132192};
    for (int i = 0; i < exact.length; i++) {
      assertThat(slack(runs.get(i))).as(runs.get(i).policy()).isCloseTo(exact[i], within(1e-5));
    }
    assertThat(slack(runs.get(4))).as("holt-winters").isCloseTo(HOLT_WINTERS, within(0.02));
    assertThat(slack(runs.get(5))).as("penumbra").isCloseTo(PENUMBRA, within(0.02));
    assertThat(slack(runs.get(6))).as("oracle").isCloseTo(0, within(1e-9));
    for (PolicyRun run : runs) {
      assertThat(run.warmup()).isEqualTo(288);
    }
    // every baseline idles more than a tenth of its allocation on this series
    for (int i = 0; i < 5; i++) {
      assertThat(slack(runs.get(i))).isGreaterThan(0.1);
    }
  }

  static final double HOLT_WINTERS = 0.164033;
  static final double PENUMBRA = 0.116360;

  private static double slack(PolicyRun run) {
    return run.metric(Metric.SLACK_AT_BUDGET);
  }
}
