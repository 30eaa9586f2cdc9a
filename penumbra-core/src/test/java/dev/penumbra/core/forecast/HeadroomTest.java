package dev.penumbra.core.forecast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The production band: its width, its floor and its choice among the ensemble's points. */
class HeadroomTest {

  @Test
  void onRareIsolatedSpikesTheBandMovesToTheMemberThatReservesLeastAndReservesLessThanTheEnsemblesBand() {
    ScoredForecaster selecting = Forecasters.production(1);
    // The same band on the ensemble's point alone: the inner model is not an Ensemble, so it has no members.
    Ensemble inner = Forecasters.ensemble();
    ScoredForecaster alone = Forecasters.withHeadroom(new Opaque(inner), 1);
    Random rnd = new Random(11);
    int n = 3000;
    int from = 1500;
    double[] use = new double[n];
    double[] a = new double[n];
    double[] b = new double[n];
    for (int i = 0; i < n; i++) {
      use[i] = 10 + rnd.nextDouble() + (i % 37 == 20 ? 90 : 0);
      if (i > 0) {
        a[i] = selecting.forecast(1, 0.99).upper();
        b[i] = alone.forecast(1, 0.99).upper();
      }
      selecting.observe(i * 1000L, use[i]);
      alone.observe(i * 1000L, use[i]);
    }
    Forecast f = selecting.forecast(1, 0.99);
    assertThat(f.model()).isNotEqualTo("ensemble");
    assertThat(inner.members()).contains(f.model());
    // What each reserves over the second half once scaled to violate at most 1% of its intervals.
    assertThat(atBudget(a, use, from)).isLessThan(atBudget(b, use, from));
  }

  @Test
  void aBurstAtTheSameTimeEveryDayIsReservedAheadWhileTheRestOfTheDayStaysTight() {
    ScoredForecaster f = Forecasters.production(1);
    Random rnd = new Random(7);
    int day = 1440; // one observation a minute: a day too long for Holt-Winters' season detection
    // 30 bursts a day (2% of the minutes, more than the 1% budget tolerates), at irregular minutes, 10-50 apart.
    int[] burstMinutes = new int[30];
    for (int b = 0, m = 0; b < burstMinutes.length; b++) {
      m += 10 + rnd.nextInt(41);
      burstMinutes[b] = m;
    }
    double[] band = new double[5 * day];
    for (int i = 0; i < band.length; i++) {
      if (i > 0) {
        band[i] = f.forecast(1, 0.99).upper();
      }
      int minute = i % day;
      boolean burst = java.util.Arrays.stream(burstMinutes).anyMatch(m -> m == minute);
      f.observe(i * 60_000L, burst ? 60 : 10 + rnd.nextDouble());
    }
    // The fifth day: before every burst the band holds at least half of it (the yesterday band at 60 or more,
    // averaged with the runner-up's), and calm minutes keep a narrow band.
    double[] calm = new double[day];
    int k = 0;
    for (int i = 4 * day; i < 5 * day; i++) {
      int minute = i % day;
      if (java.util.Arrays.stream(burstMinutes).anyMatch(m -> m == minute)) {
        assertThat(band[i]).as("band before the burst at minute %d", minute).isGreaterThanOrEqualTo(30);
      } else if (java.util.Arrays.stream(burstMinutes).allMatch(m -> Math.abs(m - minute) > 2)) {
        calm[k++] = band[i];
      }
    }
    double[] held = java.util.Arrays.copyOf(calm, k);
    java.util.Arrays.sort(held);
    assertThat(held[k / 2]).isLessThan(20);
  }

  /** sum(m * alloc) with m the smallest factor leaving at most 1% of the intervals from {@code from} unmet. */
  private static double atBudget(double[] alloc, double[] use, int from) {
    int n = alloc.length - from;
    double[] ratios = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      ratios[i] = use[from + i] / alloc[from + i];
      sum += alloc[from + i];
    }
    java.util.Arrays.sort(ratios);
    return ratios[n - 1 - (int) Math.floor(0.01 * n)] * sum;
  }

  @Test
  void aConstantSeriesGetsNoHeadroom() {
    ScoredForecaster f = Forecasters.production(1);
    for (int i = 0; i < 400; i++) {
      f.observe(i * 1000L, 42);
      if (i > 0) {
        f.forecast(1, 0.99);
      }
    }
    assertThat(f.forecast(1, 0.99).upper()).isCloseTo(42, within(1e-9));
  }

  @Test
  void theBandIsNeverBelowTheLastValue() {
    ScoredForecaster f = Forecasters.production(1);
    for (int i = 0; i < 400; i++) {
      f.observe(i * 1000L, i == 399 ? 500 : 10);
      f.forecast(1, 0.99);
    }
    assertThat(f.forecast(1, 0.99).upper()).isGreaterThanOrEqualTo(500);
  }

  @Test
  void memberPointsAreTheMembersOwnForecastsAndABadIndexIsNamed() {
    Ensemble e = Forecasters.ensemble();
    assertThat(e.memberPoint(0, 1)).isZero();
    for (int i = 0; i < 50; i++) {
      e.observe(i * 1000L, 5 + i);
    }
    assertThat(e.memberPoint(0, 1)).isEqualTo(54); // last value
    assertThat(e.memberPoint(0, 3)).isEqualTo(54);
    assertThatThrownBy(() -> e.memberPoint(6, 1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("member").hasMessageContaining("6");
    assertThatThrownBy(() -> e.memberPoint(0, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("horizon").hasMessageContaining("0");
  }

  /** Hides that a forecaster is an ensemble. */
  private record Opaque(Forecaster inner) implements Forecaster {
    public String name() {
      return inner.name();
    }

    public void observe(long timeMillis, double value) {
      inner.observe(timeMillis, value);
    }

    public Forecast forecast(int horizon, double level) {
      return inner.forecast(horizon, level);
    }
  }
}
