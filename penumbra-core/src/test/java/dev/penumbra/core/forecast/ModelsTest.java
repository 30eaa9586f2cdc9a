package dev.penumbra.core.forecast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ModelsTest {

  private static double seasonal(int t) {
    return 100 + 30 * Math.sin(2 * Math.PI * t / 24) + 10 * Math.cos(2 * Math.PI * t / 8) + 0.05 * t;
  }

  @Test
  void holtWintersWithGivenSeasonForecastsASeasonalSeries() {
    ScoredForecaster f = Forecasters.holtWinters(0.3, 0.05, 0.3, 24);
    for (int t = 0; t < 200; t++) {
      f.observe(t, seasonal(t));
    }
    for (int h = 1; h <= 24; h++) {
      assertThat(f.forecast(h).point()).as("h=" + h).isCloseTo(seasonal(199 + h), within(1e-6));
    }
  }

  @Test
  void holtWintersDetectsTheSeason() {
    HoltWinters f = (HoltWinters) Forecasters.holtWinters(0.3, 0.05, 0.3, 0);
    for (int t = 0; t < 400; t++) {
      f.observe(t, seasonal(t));
    }
    assertThat(f.season()).isEqualTo(24);
    for (int h = 1; h <= 24; h++) {
      assertThat(f.forecast(h).point()).as("h=" + h).isCloseTo(seasonal(399 + h), within(1e-3));
    }
  }

  @Test
  void holtWintersWithoutSeasonIsHolt() {
    HoltWinters hw = (HoltWinters) Forecasters.holtWinters(0.5, 0.1, 0.3, 0);
    ScoredForecaster holt = Forecasters.holt(0.5, 0.1);
    Random r = new Random(3);
    double x = 50;
    for (int t = 0; t < 600; t++) {
      x = Math.max(0, x + r.nextGaussian());
      hw.observe(t, x);
      holt.observe(t, x);
    }
    assertThat(hw.season()).isZero();
    assertThat(hw.forecast(5).point()).isCloseTo(holt.forecast(5).point(), within(1e-9));
  }

  @Test
  void autoregressiveRecoversAr2Coefficients() {
    Autoregressive f = (Autoregressive) Forecasters.ar(2);
    Random r = new Random(11);
    double x1 = 50;
    double x2 = 50;
    for (int t = 0; t < 2000; t++) {
      double x = 35 + 0.6 * x1 - 0.3 * x2 + r.nextGaussian();
      f.observe(t, x);
      x2 = x1;
      x1 = x;
    }
    double[] c = f.coefficients();
    assertThat(c[1]).isCloseTo(0.6, within(0.12));
    assertThat(c[2]).isCloseTo(-0.3, within(0.12));
    assertThat(c[0]).isCloseTo(35, within(6.0));
    assertThat(f.forecast(1).point()).isCloseTo(35 + 0.6 * x1 - 0.3 * x2, within(1.5));
  }

  @Test
  void decayingHistogramForecastsAPercentileOfRecentValues() {
    ScoredForecaster f = Forecasters.decayingHistogram(20, 0.9);
    for (int t = 0; t < 500; t++) {
      f.observe(t, 1000);
    }
    // After many half-lives of values uniform in [10, 20), the old level no longer counts.
    Random r = new Random(5);
    for (int t = 500; t < 1500; t++) {
      f.observe(t, 10 + 10 * r.nextDouble());
    }
    assertThat(f.forecast(1).point()).isCloseTo(19, within(0.6));
    assertThat(HistogramForecaster.bucket(0)).isZero();
    assertThat(HistogramForecaster.bucket(1e14)).isLessThan(HistogramForecaster.BUCKETS - 1);
  }

  @Test
  void forecastsAreNeverNegative() {
    ScoredForecaster f = Forecasters.holt(0.9, 0.9);
    for (int t = 0; t < 50; t++) {
      f.observe(t, Math.max(0, 100 - 10 * t));
    }
    f.observe(50, 0);
    assertThat(f.forecast(1).point()).isZero();
    assertThat(f.forecast(20).upper()).isGreaterThanOrEqualTo(0);
  }
}
