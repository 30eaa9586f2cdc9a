package dev.penumbra.eval.replay;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SummaryMedianTest {
  static final double NONE = Double.POSITIVE_INFINITY; // no slack meets the budget on that trace

  @Test
  void aTraceWithoutSlackAtBudgetDoesNotMakeTheMedianUnknown() {
    assertThat(Summary.median(new double[] {0.3, NONE})).isEqualTo(0.3);
    assertThat(Summary.median(new double[] {0.1, 0.3, 0.5, NONE})).isEqualTo(0.4);
    assertThat(Summary.median(new double[] {0.2, 0.4, NONE})).isEqualTo(0.4);
    assertThat(Summary.median(new double[] {NONE, NONE})).isInfinite();
    assertThat(Summary.median(new double[] {})).isNaN();
  }
}
