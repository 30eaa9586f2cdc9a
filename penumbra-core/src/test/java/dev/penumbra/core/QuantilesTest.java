package dev.penumbra.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Random;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;
import org.apache.commons.math3.stat.descriptive.rank.Percentile.EstimationType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The nearest rank, checked against commons-math3's R-1 estimate on seeded samples; bad levels named. */
class QuantilesTest {

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
  void isCommonsMathsNearestRankOnRandomSamples(long seed) {
    Random rnd = new Random(seed);
    int n = 1 + rnd.nextInt(300);
    double[] values = new double[n];
    long[] amounts = new long[n];
    for (int i = 0; i < n; i++) {
      amounts[i] = rnd.nextInt(1000);
      values[i] = amounts[i] + (rnd.nextBoolean() ? 0.5 : 0);
    }
    Arrays.sort(values);
    Arrays.sort(amounts);
    double[] asDoubles = Arrays.stream(amounts).asDoubleStream().toArray();
    Percentile r1 = new Percentile().withEstimationType(EstimationType.R_1);
    for (double q : new double[] {0.01, 0.1, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0, rnd.nextDouble()}) {
      assertThat(Quantiles.ofSorted(values, q)).as("q=%s of %d", q, n).isEqualTo(r1.evaluate(values, q * 100));
      assertThat((double) Quantiles.ofSorted(amounts, q)).as("q=%s of %d amounts", q, n)
          .isEqualTo(r1.evaluate(asDoubles, q * 100));
    }
  }

  @Test
  void isAnObservedValueAtTheEdges() {
    double[] v = {1, 2, 3, 4};
    assertThat(Quantiles.ofSorted(v, 0)).isEqualTo(1);
    assertThat(Quantiles.ofSorted(v, 0.25)).isEqualTo(1);
    assertThat(Quantiles.ofSorted(v, 0.26)).isEqualTo(2);
    assertThat(Quantiles.ofSorted(v, 0.5)).isEqualTo(2);
    assertThat(Quantiles.ofSorted(v, 1)).isEqualTo(4);
    assertThat(Quantiles.ofSorted(new double[0], 0.5)).isNaN();
  }

  @Test
  void badLevelsAndNoAmountsAreRefusedByName() {
    assertThatThrownBy(() -> Quantiles.ofSorted(new double[] {1}, 1.5)).hasMessageContaining("1.5");
    assertThatThrownBy(() -> Quantiles.ofSorted(new double[] {1}, Double.NaN)).hasMessageContaining("NaN");
    assertThatThrownBy(() -> Quantiles.ofSorted(new long[] {1}, -0.1)).hasMessageContaining("-0.1");
    assertThatThrownBy(() -> Quantiles.ofSorted(new long[0], 0.5)).hasMessageContaining("no values");
  }
}
