package dev.penumbra.core.forecast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SortedWindowTest {

  @Test
  void quantileIsTheSplitConformalRankOfTheLastValues() {
    SortedWindow w = new SortedWindow(10);
    assertThat(w.quantile(0.9)).isZero();
    for (int i = 1; i <= 20; i++) {
      w.add(i);
    }
    // Only 11..20 are kept; ceil(0.5 * 11) = 6th smallest = 16, ceil(0.9 * 11) = 10th = 20.
    assertThat(w.size()).isEqualTo(10);
    assertThat(w.quantile(0.5)).isEqualTo(16);
    assertThat(w.quantile(0.9)).isEqualTo(20);
    assertThat(w.quantile(0.1)).isEqualTo(12);
  }

  @Test
  void nearestRankIsTheQuantilesRuleOverTheLastValues() {
    SortedWindow w = new SortedWindow(100);
    assertThat(w.nearestRank(0.95)).isZero();
    for (int i = 1; i <= 150; i++) {
      w.add(i);
    }
    // Only 51..150 are kept: the 95th of 100 values is the 95th smallest, 145; level 1 is the largest.
    assertThat(w.nearestRank(0.95)).isEqualTo(145);
    assertThat(w.nearestRank(1.0)).isEqualTo(150);
    assertThat(w.nearestRank(0.0)).isEqualTo(51);
    assertThatThrownBy(() -> w.nearestRank(1.5)).hasMessage("quantile level must be in [0, 1], was 1.5");
  }

  @Test
  void capacityMustBePositive() {
    assertThatThrownBy(() -> new SortedWindow(0)).hasMessage("capacity must be >= 1, was 0");
  }
}
