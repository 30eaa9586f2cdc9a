package dev.penumbra.query.shadow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DistinctEstimatorTest {

  @Test
  void groupsSpanningManyUnitsDoNotGrowWithTheSample() {
    // 10,000 customers with 15 orders each, 10% of the orders sampled: most customers are already seen.
    double seen = DistinctEstimator.expectedSeen(10_000, 150_000, 0.1);
    assertThat(seen).isCloseTo(10_000 * (1 - Math.pow(0.9, 15)), within(1e-6));
    assertThat(DistinctEstimator.estimate(seen, 15_000, 150_000)).isCloseTo(10_000, within(1.0));
  }

  @Test
  void aGroupPerUnitGrowsLikeTheUnits() {
    assertThat(DistinctEstimator.estimate(1_500, 1_500, 15_000)).isEqualTo(15_000);
    // One unit per group: each group is seen with probability q, so D = d / q.
    assertThat(DistinctEstimator.estimate(1_000, 1_500, 15_000)).isBetween(1_000.0, 15_000.0);
    assertThat(DistinctEstimator.estimate(0, 1_500, 15_000)).isZero();
    assertThat(DistinctEstimator.estimate(7, 1_500, 1_500)).isEqualTo(7);
  }

  @Test
  void recoversTheDistinctCountOfASeededBernoulliSample() {
    Random rnd = new Random(42);
    int groups = 3_000;
    int units = 60_000;
    Set<Integer> seen = new HashSet<>();
    int sampled = 0;
    for (int u = 0; u < units; u++) {
      if (rnd.nextDouble() < 0.05) {
        sampled++;
        seen.add(u % groups);
      }
    }
    double est = DistinctEstimator.estimate(seen.size(), sampled, units);
    assertThat(est / groups).isBetween(0.9, 1.1);
    // Scaling the sample's distinct count linearly would be off by an order of magnitude.
    assertThat(seen.size() * (double) units / sampled / groups).isGreaterThan(5);
  }

  @Test
  void impossibleInputsAreRefusedNamingTheValues() {
    assertThatThrownBy(() -> DistinctEstimator.estimate(5, 10, 3))
        .hasMessageContaining("sample units 10.0").hasMessageContaining("full units 3.0");
    assertThatThrownBy(() -> DistinctEstimator.estimate(-1, 10, 30)).hasMessageContaining("distinct -1.0");
  }
}
