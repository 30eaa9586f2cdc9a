package dev.penumbra.eval.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.core.forecast.Forecast;
import dev.penumbra.core.forecast.Forecaster;
import dev.penumbra.core.forecast.Forecasters;
import dev.penumbra.eval.trace.Trace;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ForecastPoliciesTest {

  /** Forecasts the last value, upper = point + 1; records the horizons and levels it is asked for. */
  static final class LastPlusOne implements Forecaster {
    double last;
    boolean cold;
    final List<double[]> asked = new ArrayList<>();

    public String name() {
      return "last+1";
    }

    public void observe(long timeMillis, double value) {
      last = value;
    }

    public Forecast forecast(int horizon, double level) {
      asked.add(new double[] {horizon, level});
      return new Forecast(last, last + 1, level, horizon, name(), cold);
    }
  }

  private static PolicyContext context(int lead, double budget) {
    return new PolicyContext(new Trace("t", Dimension.CPU, "u", 0, 60_000, new double[] {0}), lead, budget);
  }

  /** z(0.99), the headroom in volatilities at a 1% budget. */
  private static final double Z99 = 2.3263478740408408;

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
  void penumbraAllocatesThePointPlusZTimesItsErrorVolatilityButNotBelowTheLastValue() {
    LastPlusOne f = new LastPlusOne();
    PenumbraPolicy p = new PenumbraPolicy(context(1, 0.01), Forecasters.withHeadroom(f, 1));
    assertThat(p.allocate(0)).isZero();
    p.observe(10);
    // no error seen yet: the cold-start bound, max(upper, peak)
    assertThat(p.allocate(1)).isCloseTo(11, within(1e-12));
    assertThat(f.asked.get(0)[1]).isCloseTo(0.99, within(1e-12));
    // interval 1 used 14 against a point of 10: both volatilities start at 4; the last value (14) is below
    // 14 + z * 4
    p.observe(14);
    assertThat(p.allocate(2)).isCloseTo(14 + Z99 * 4, within(1e-9));
    // interval 2 used 2 against 14: the short volatility moves 1/17 of the way towards 12 (half-life 12), the
    // long one 1/416 (half-life 288); the band widens by their geometric mean
    p.observe(2);
    double shortVol = 4 + (1 - Math.pow(0.5, 1.0 / 12)) * (12 - 4);
    double longVol = 4 + (1 - Math.pow(0.5, 1.0 / 288)) * (12 - 4);
    assertThat(p.allocate(3)).isCloseTo(2 + Z99 * Math.sqrt(shortVol * longVol), within(1e-9));
  }

  @Test
  void penumbraScoresEachAllocationAgainstTheIntervalItWasFor() {
    // lead 2: the point issued for interval t is scored when t's use arrives, two observations later
    LastPlusOne f = new LastPlusOne();
    PenumbraPolicy p = new PenumbraPolicy(context(2, 0.01), Forecasters.withHeadroom(f, 2));
    p.observe(10);
    p.allocate(2); // point 10, aimed at interval 2
    p.observe(10); // interval 1: nothing was issued for it
    p.allocate(3); // point 10, aimed at interval 3
    p.observe(16); // interval 2: error 6
    assertThat(p.allocate(4)).isCloseTo(16 + Z99 * 6, within(1e-9));
  }

  @Test
  void penumbraUsesThePeakSoFarWhileTheForecasterIsCold() {
    LastPlusOne f = new LastPlusOne();
    f.cold = true;
    PenumbraPolicy p = new PenumbraPolicy(context(1, 0.01), Forecasters.withHeadroom(f, 1));
    p.observe(30);
    p.observe(5);
    p.observe(5);
    assertThat(p.allocate(3)).isEqualTo(30);
  }

  @Test
  void everyPolicyInstanceGetsItsOwnForecaster() {
    // two instances fed different series must not influence each other
    PolicyContext c = context(1, 0.01);
    Policy a = Policies.create("penumbra", c);
    Policy b = Policies.create("penumbra", c);
    Policy alone = Policies.create("penumbra", c);
    java.util.Random r = new java.util.Random(3);
    for (int t = 0; t < 500; t++) {
      double v = 50 + 10 * Math.sin(t / 10.0) + r.nextGaussian();
      a.observe(v);
      alone.observe(v);
      b.observe(1000 + t);
    }
    assertThat(a.allocate(500)).isEqualTo(alone.allocate(500));
    Policy h1 = Policies.create("holt-winters", c);
    Policy h2 = Policies.create("holt-winters", c);
    h1.observe(5);
    h2.observe(500);
    assertThat(h1.allocate(1)).isCloseTo(5, within(1e-9));
  }
}
