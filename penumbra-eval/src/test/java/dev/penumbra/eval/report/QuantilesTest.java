package dev.penumbra.eval.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

class QuantilesTest {

  @Test
  void nearestRankIsAnObservedValue() {
    double[] v = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    assertThat(Quantiles.of(v, 0.5)).isEqualTo(5);
    assertThat(Quantiles.of(v, 0.9)).isEqualTo(9);
    assertThat(Quantiles.of(v, 0.99)).isEqualTo(10);
    assertThat(Quantiles.of(v, 1)).isEqualTo(10);
    assertThat(Quantiles.of(new double[] {4}, 0.01)).isEqualTo(4);
    assertThat(Quantiles.of(new double[0], 0.5)).isNaN();
    assertThat(Quantiles.sorted(new double[0], 0.5)).isNaN();
  }

  @Test
  void sortedAndUnsortedAgreeOnRandomInput() {
    Random r = new Random(3);
    for (int n = 1; n < 60; n++) {
      double[] v = r.doubles(n, 0, 100).toArray();
      double[] s = v.clone();
      java.util.Arrays.sort(s);
      for (double q : new double[] {0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1}) {
        assertThat(Quantiles.of(v, q)).as("n=%d q=%s", n, q).isEqualTo(Quantiles.sorted(s, q));
      }
    }
  }

  @Test
  void aQuantileOutsideTheUnitIntervalIsRefused() {
    for (double q : new double[] {0, -0.1, 1.5, Double.NaN}) {
      assertThatThrownBy(() -> Quantiles.of(new double[] {1}, q)).hasMessageContaining(String.valueOf(q));
    }
  }
}
