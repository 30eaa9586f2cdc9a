package dev.penumbra.eval.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.eval.trace.Trace;
import org.junit.jupiter.api.Test;

class BaselinePoliciesTest {

  private static final long MINUTE = 60_000;

  private static PolicyContext context(Dimension d, long step, double... values) {
    return new PolicyContext(new Trace("t", d, "u", 0, step, values), 1, 0.01);
  }

  @Test
  void staticLearnsTheFirstDayPeakThenFreezes() {
    // hourly steps: the first 24 intervals are the first day
    double[] v = new double[30];
    for (int i = 0; i < 30; i++) {
      v[i] = i < 24 ? (i == 7 ? 9 : 3) : 50;
    }
    StaticPolicy p = new StaticPolicy(context(Dimension.CPU, 60 * MINUTE, v), Double.NaN);
    for (int i = 0; i < 30; i++) {
      p.observe(v[i]);
      assertThat(p.allocate(i + 1)).isEqualTo(i < 7 ? 3 : 9);
    }
    assertThat(new StaticPolicy(context(Dimension.CPU, MINUTE, 1), 42).allocate(0)).isEqualTo(42);
    assertThatThrownBy(() -> new StaticPolicy(context(Dimension.CPU, MINUTE, 1), -1)).hasMessageContaining("-1");
  }

  @Test
  void reactiveScalesUpAtOnceAndDownOnlyToTheWindowMaximum() {
    // one-minute steps: the 5-minute stabilisation window holds the last 5 desired values
    ReactivePolicy p = new ReactivePolicy(context(Dimension.CPU, MINUTE, 0));
    p.observe(7); // first sample: desired 10
    assertThat(p.allocate(1)).isCloseTo(10, within(1e-9));
    p.observe(7.5); // ratio 7.5/7 = 1.07: inside the 10% tolerance, unchanged
    assertThat(p.allocate(2)).isCloseTo(10, within(1e-9));
    p.observe(14); // ratio 2: up at once to 14 / 0.7 = 20
    assertThat(p.allocate(3)).isCloseTo(20, within(1e-9));
    p.observe(3.5); // ratio 0.25: down, but only to the window's max desired, 20
    assertThat(p.allocate(4)).isCloseTo(20, within(1e-9));
    for (int i = 0; i < 3; i++) {
      p.observe(3.5);
    }
    // window now desired 10.71, 20, 5, 5, 5: still 20
    assertThat(p.allocate(8)).isCloseTo(20, within(1e-9));
    p.observe(3.5); // the 20 leaves the window: 5
    assertThat(p.allocate(9)).isCloseTo(5, within(1e-9));
  }

  @Test
  void vpaTargetsTheDecayedNinetiethPercentilePlusFifteenPercent() {
    VpaPolicy p = new VpaPolicy(context(Dimension.CPU, MINUTE, 0));
    // 100 samples within a few minutes (negligible decay): 90 at 10, 10 at 100
    for (int i = 0; i < 90; i++) {
      p.observe(10);
    }
    for (int i = 0; i < 10; i++) {
      p.observe(100);
    }
    // b0 = 10/1000 = 0.01; P90 falls in the bucket of 10 (first 90% of weight, slightly more as later samples
    // weigh more, so the 90% is reached past the 10s: the bucket of 100). With decay, later samples weigh more.
    double target = p.allocate(100);
    double bucketEnd = bucketEndOf(100, 0.01);
    assertThat(target).isCloseTo(bucketEnd * 1.15, within(1e-6));
    // Without the late samples outweighing, the 10s hold P90: 95 at 10, 5 at 100.
    VpaPolicy q = new VpaPolicy(context(Dimension.CPU, MINUTE, 0));
    for (int i = 0; i < 5; i++) {
      q.observe(100);
    }
    for (int i = 0; i < 95; i++) {
      q.observe(10);
    }
    assertThat(q.allocate(100)).isCloseTo(bucketEndOf(10, 100.0 / 1000) * 1.15, within(1e-6));
    // the bucket end lies within 5% above the value
    assertThat(q.allocate(100) / 1.15).isBetween(10.0, 10.5 + 1e-9);
  }

  @Test
  void vpaHalvesOldWeightsEveryDay() {
    // hourly samples: 48 hours at 100, then 24 hours at 10. The old samples are worth 1/4 and 1/2 of a new
    // day's, so they hold 3/7... compute: day0 weight sum w, day1 2w, day2 4w -> 100s hold 3/7 = 43% > 10%.
    VpaPolicy p = new VpaPolicy(context(Dimension.CPU, 60 * MINUTE, 0));
    for (int i = 0; i < 48; i++) {
      p.observe(100);
    }
    for (int i = 0; i < 24; i++) {
      p.observe(10);
    }
    assertThat(p.allocate(72) / 1.15).isGreaterThan(100);
    // after 4 more days of 10s the 100s weigh (1+2)/(1+2+4+...+64)= 3/127 < 10%: P90 is 10's bucket
    for (int i = 0; i < 96; i++) {
      p.observe(10);
    }
    assertThat(p.allocate(168) / 1.15).isBetween(10.0, 10.5);
  }

  @Test
  void vpaMemoryTakesThePeakPerDayWindow() {
    // hourly memory: every day's values are 1 except one hour at 8 (day 0) or 5 (days 1..9)
    VpaPolicy p = new VpaPolicy(context(Dimension.MEMORY, 60 * MINUTE, 0));
    for (int day = 0; day < 10; day++) {
      for (int h = 0; h < 24; h++) {
        p.observe(h == 12 ? (day == 0 ? 8 : 5) : 1);
      }
    }
    // 10 window peaks: one 8 (the oldest, lightest) and nine 5s: P90 is 5's bucket, never 1
    assertThat(p.allocate(240) / 1.15).isBetween(5.0, 5.25 + 1e-9);
  }

  @Test
  void autopilotTakesTheWindowPercentileForCpuAndPeakForMemory() {
    // 5-minute steps: window 288 values
    PolicyContext cpu = context(Dimension.CPU, 5 * MINUTE, 0);
    AutopilotPolicy p = new AutopilotPolicy(cpu);
    for (int i = 1; i <= 100; i++) {
      p.observe(i);
    }
    assertThat(p.allocate(100)).isEqualTo(95); // nearest-rank P95 of 1..100
    AutopilotPolicy m = new AutopilotPolicy(context(Dimension.MEMORY, 5 * MINUTE, 0));
    m.observe(1000);
    for (int i = 0; i < 287; i++) {
      m.observe(1);
    }
    assertThat(m.allocate(288)).isEqualTo(1000);
    m.observe(1); // the 1000 leaves the 24-hour window
    assertThat(m.allocate(289)).isEqualTo(1);
  }

  @Test
  void registryKnowsEveryPolicyAndRejectsUnknownNames() {
    assertThat(Policies.names()).contains("static", "reactive", "vpa", "autopilot", "oracle");
    assertThat(Policies.isBaseline("vpa")).isTrue();
    assertThat(Policies.isBaseline("oracle")).isFalse();
    assertThatThrownBy(() -> Policies.create("lru", context(Dimension.CPU, MINUTE, 1))).hasMessageContaining("'lru'");
  }

  private static double bucketEndOf(double value, double b0) {
    int i = (int) Math.floor(Math.log1p(value * 0.05 / b0) / Math.log1p(0.05));
    return b0 * (Math.pow(1.05, i + 1) - 1) / 0.05;
  }
}
