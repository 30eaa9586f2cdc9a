package dev.penumbra.sim.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.core.forecast.Forecast;
import dev.penumbra.core.forecast.Forecaster;
import dev.penumbra.sim.trace.Trace;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ForecastPoliciesTest {

  /** Forecasts the last value, upper = point + 1; records the horizons and levels it is asked for. */
  static final class LastPlusOne implements Forecaster {
    double last;
    final List<double[]> asked = new ArrayList<>();

    public String name() {
      return "last+1";
    }

    public void observe(long timeMillis, double value) {
      last = value;
    }

    public Forecast forecast(int horizon, double level) {
      asked.add(new double[] {horizon, level});
      return new Forecast(last, last + 1, level, horizon, name(), false);
    }
  }

  private static PolicyContext context(int lead, double budget) {
    return new PolicyContext(new Trace("t", Dimension.CPU, "u", 0, 60_000, new double[] {0}), lead, budget);
  }

  @Test
  void holtWintersAllocatesThePointAtTheLead() {
    LastPlusOne f = new LastPlusOne();
    HoltWintersPolicy p = new HoltWintersPolicy(context(3, 0.01), f);
    assertThat(p.allocate(0)).isZero();
    p.observe(5);
    assertThat(p.allocate(3)).isEqualTo(5);
    assertThat(f.asked.get(0)[0]).isEqualTo(3);
  }

  @Test
  void penumbraAllocatesTheUpperBoundAtLevelOneMinusBudgetAndAdaptsItsFactor() {
    LastPlusOne f = new LastPlusOne();
    PenumbraPolicy p = new PenumbraPolicy(context(1, 0.01), f);
    p.observe(10);
    assertThat(p.allocate(1)).isCloseTo(11, within(1e-12));
    assertThat(f.asked.get(0)[1]).isCloseTo(0.99, within(1e-12));
    // interval 1 used 20 > 11: a violation raises the factor by exp(0.05 * 0.99)
    p.observe(20);
    assertThat(p.allocate(2)).isCloseTo(21 * Math.exp(0.05 * 0.99), within(1e-9));
    // interval 2 used 0: met, the factor shrinks by exp(-0.05 * 0.01)
    p.observe(0);
    assertThat(p.allocate(3)).isCloseTo(1 * Math.exp(0.05 * 0.99 - 0.05 * 0.01), within(1e-9));
  }

  @Test
  void penumbraHoldsTheBudgetOnNoisyData() {
    // A forecaster whose interval is far too narrow: feedback must widen it until about 5% of intervals fail.
    LastPlusOne f = new LastPlusOne();
    PenumbraPolicy p = new PenumbraPolicy(context(1, 0.05), f);
    java.util.Random r = new java.util.Random(7);
    int violations = 0;
    int scored = 0;
    for (int t = 0; t < 20_000; t++) {
      double used = 50 + 10 * r.nextGaussian();
      double a = p.allocate(t);
      if (t >= 5_000) {
        scored++;
        violations += used > a ? 1 : 0;
      }
      p.observe(Math.max(0, used));
    }
    assertThat((double) violations / scored).isCloseTo(0.05, within(0.015));
  }
}
