package dev.penumbra.eval.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ScoringTest {

  // Scored from index 1: index 0 is warm-up and must be ignored by every metric.
  private final double[] alloc = {100, 10, 10, 12, 8, 20};
  private final double[] used = {0, 8, 10, 15, 8, 10};

  @Test
  void slackIsIdleOverAllocated() {
    // idle: 2 + 0 + 0 + 0 + 10 = 12 of 60 allocated.
    assertThat(Scoring.slack(alloc, used, 1)).isCloseTo(12.0 / 60, within(1e-12));
  }

  @Test
  void violationRateCountsStrictlyExceededIntervals() {
    // only 15 > 12; 10 = 10 and 8 = 8 are met.
    assertThat(Scoring.violationRate(alloc, used, 1)).isCloseTo(1.0 / 5, within(1e-12));
  }

  @Test
  void shortfallIsMissingOverUsed() {
    // missing 3 of 8 + 10 + 15 + 8 + 10 = 51.
    assertThat(Scoring.shortfall(alloc, used, 1)).isCloseTo(3.0 / 51, within(1e-12));
  }

  @Test
  void actuationsCountChangesInsideTheScoredRange() {
    // 10->10 no, 10->12, 12->8, 8->20: 3 (the 100->10 change at index 1 counts too: index 1 differs from 0).
    assertThat(Scoring.actuations(alloc, 2)).isEqualTo(3);
    assertThat(Scoring.actuations(alloc, 1)).isEqualTo(4);
  }

  @Test
  void marginAtBudgetIsTheSmallestFactorWithinTheBudget() {
    // ratios used/alloc: 0.8, 1.0, 1.25, 1.0, 0.5. Budget 0 -> must meet all -> m = 1.25.
    assertThat(Scoring.marginAtBudget(alloc, used, 1, 0)).isCloseTo(1.25, within(1e-9));
    // Budget 20% of 5 intervals tolerates one violation -> the next largest ratio, 1.0.
    assertThat(Scoring.marginAtBudget(alloc, used, 1, 0.2)).isCloseTo(1.0, within(1e-9));
    // 19.9% tolerates none.
    assertThat(Scoring.marginAtBudget(alloc, used, 1, 0.199)).isCloseTo(1.25, within(1e-9));
  }

  @Test
  void slackAtBudgetScalesAllocationsByTheMargin() {
    // m = 1.25: alloc 12.5, 12.5, 15, 10, 25 = 75; idle 4.5 + 2.5 + 0 + 2 + 15 = 24.
    assertThat(Scoring.slackAtBudget(alloc, used, 1, 0)).isCloseTo(24.0 / 75, within(1e-9));
    assertThat(Scoring.violationRate(alloc, used, 1, Scoring.marginAtBudget(alloc, used, 1, 0))).isZero();
    // m = 1.0 at 20%: the plain slack.
    assertThat(Scoring.slackAtBudget(alloc, used, 1, 0.2)).isCloseTo(12.0 / 60, within(1e-9));
    // Oracle gap at m = 1.25: 75 / 51 - 1.
    assertThat(Scoring.oracleGap(alloc, used, 1, 0)).isCloseTo(75.0 / 51 - 1, within(1e-9));
  }

  @Test
  void unreachableBudgetIsNaN() {
    double[] a = {1, 0, 1};
    double[] u = {1, 5, 1};
    assertThat(Scoring.marginAtBudget(a, u, 0, 0)).isInfinite();
    assertThat(Scoring.slackAtBudget(a, u, 0, 0)).isNaN();
    // tolerating one violation of three makes it reachable again: the zero allocation is the one missed.
    assertThat(Scoring.slackAtBudget(a, u, 0, 0.34)).isCloseTo(0, within(1e-9));
  }

  @Test
  void oracleAllocationsScoreZeroSlackAndNoViolations() {
    double[] u = {3, 0, 7, 2.5, 9};
    assertThat(Scoring.slack(u, u, 0)).isZero();
    assertThat(Scoring.violationRate(u, u, 0)).isZero();
    assertThat(Scoring.shortfall(u, u, 0)).isZero();
    assertThat(Scoring.slackAtBudget(u, u, 0, 0)).isCloseTo(0, within(1e-9));
    assertThat(Scoring.oracleGap(u, u, 0, 0)).isCloseTo(0, within(1e-9));
  }
}
