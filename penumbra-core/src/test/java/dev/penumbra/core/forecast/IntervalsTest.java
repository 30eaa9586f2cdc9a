package dev.penumbra.core.forecast;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class IntervalsTest {

  /** A noisy daily-shaped series: seasonal level plus Gaussian and occasional skewed noise. */
  private static double[] series(long seed, int n) {
    Random r = new Random(seed);
    double[] x = new double[n];
    for (int t = 0; t < n; t++) {
      double base = 200 + 60 * Math.sin(2 * Math.PI * t / 48);
      double noise = 10 * r.nextGaussian() + (r.nextDouble() < 0.05 ? 40 * r.nextDouble() : 0);
      x[t] = Math.max(0, base + noise);
    }
    return x;
  }

  /** Share of actuals at or below the h-step upper bound made h steps earlier, after a warm-up. */
  private static double coverage(ScoredForecaster f, double[] x, int h, double level) {
    double[] upper = new double[x.length + h];
    int covered = 0;
    int scored = 0;
    for (int t = 0; t < x.length; t++) {
      if (t >= 300 && upper[t] > 0) {
        scored++;
        if (x[t] <= upper[t]) {
          covered++;
        }
      }
      f.observe(t, x[t]);
      upper[t + h] = f.forecast(h, level).upper();
    }
    return (double) covered / scored;
  }

  private static final List<Supplier<ScoredForecaster>> MODELS = List.of(
      Forecasters::lastValue,
      () -> Forecasters.ewma(0.3),
      () -> Forecasters.holt(0.5, 0.1),
      () -> Forecasters.holtWinters(0.3, 0.05, 0.3, 0),
      () -> Forecasters.ar(3),
      () -> Forecasters.decayingHistogram(100, 0.5),
      Forecasters::ensemble);

  @Test
  void p90UpperBoundCoversAboutNinetyPercent() {
    for (Supplier<ScoredForecaster> s : MODELS) {
      for (int h : new int[] {1, 4}) {
        double c = coverage(s.get(), series(17, 3000), h, 0.9);
        assertThat(c).as(s.get().name() + " h=" + h).isBetween(0.85, 0.95);
      }
    }
  }

  @Test
  void p99UpperBoundCoversAtLeast97Percent() {
    for (Supplier<ScoredForecaster> s : MODELS) {
      double c = coverage(s.get(), series(23, 3000), 1, 0.99);
      assertThat(c).as(s.get().name()).isGreaterThanOrEqualTo(0.97);
    }
  }

  @Test
  void scoredStatisticsDescribeTheResiduals() {
    ScoredForecaster f = Forecasters.ewma(0.3);
    double[] x = series(5, 1000);
    for (int t = 0; t < x.length; t++) {
      f.observe(t, x[t]);
      f.forecast(3);
    }
    var one = f.stats();
    var three = f.stats(3);
    assertThat(one.count()).isEqualTo(200);
    assertThat(one.total()).isEqualTo(999);
    assertThat(three.total()).isEqualTo(997);
    assertThat(one.exceedanceRate()).isBetween(0.03, 0.2);
    assertThat(one.mape()).isBetween(0.01, 0.5);
    assertThat(f.stats(7).count()).isZero();
  }

  @Test
  void lowConfidenceUntilEnoughResiduals() {
    ScoredForecaster f = Forecasters.ewma(0.5);
    Random r = new Random(1);
    for (int t = 0; t < BaseForecaster.MIN_RESIDUALS; t++) {
      f.observe(t, 10 + r.nextDouble());
      assertThat(f.forecast(1).lowConfidence()).isTrue();
    }
    f.observe(100, 10);
    assertThat(f.forecast(1).lowConfidence()).isFalse();
    // A horizon asked for the first time starts its own residuals; meanwhile it borrows the 1-step ones.
    Forecast five = f.forecast(5);
    assertThat(five.lowConfidence()).isTrue();
    assertThat(five.upper()).isGreaterThan(five.point());
  }
}
