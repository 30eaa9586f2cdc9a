package dev.penumbra.core.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ErrorTrackerTest {

  @Test
  void statisticsMatchHandComputedValues() {
    ErrorTracker t = new ErrorTracker(10);
    t.record("m", 100, 120, 50); // over-predicts: ape 1.0, q 2
    t.record("m", 50, 60, 100); // under, exceeds upper: ape 0.5, q 2
    t.record("m", 100, 100, 100); // exact: ape 0, q 1
    t.record("m", 80, 90, 100); // under, exceeds upper: ape 0.2, q 1.25
    ErrorStats s = t.stats("m");
    assertThat(s.count()).isEqualTo(4);
    assertThat(s.mape()).isCloseTo((1.0 + 0.5 + 0 + 0.2) / 4, within(1e-12));
    assertThat(s.underPredictionRate()).isEqualTo(0.5);
    assertThat(s.exceedanceRate()).isEqualTo(0.5);
    assertThat(s.bias()).isCloseTo((50 - 50 + 0 - 20) / 350.0, within(1e-12));
    assertThat(s.qErrorMedian()).isEqualTo(1.25);
    assertThat(s.qErrorP90()).isEqualTo(2.0);
  }

  @Test
  void windowKeepsOnlyTheMostRecent() {
    ErrorTracker t = new ErrorTracker(2);
    t.record("m", 10, 10, 1);
    t.record("m", 1, 1, 1);
    t.record("m", 1, 1, 1);
    ErrorStats s = t.stats("m");
    assertThat(s.count()).isEqualTo(2);
    assertThat(s.total()).isEqualTo(3);
    assertThat(s.qErrorP90()).isEqualTo(1.0);
  }

  @Test
  void unknownModelIsEmptyAndBadValuesAreRejected() {
    ErrorTracker t = new ErrorTracker();
    assertThat(t.stats("none").count()).isZero();
    assertThatThrownBy(() -> t.record("m", Double.NaN, 1, 1)).hasMessage("point must be finite and >= 0, was NaN");
    assertThatThrownBy(() -> t.record("m", 1, 1, -2)).hasMessage("actual must be finite and >= 0, was -2.0");
    assertThat(t.all()).isEmpty();
    assertThatThrownBy(() -> new ErrorTracker(0)).hasMessageContaining("was 0");
  }

  @Test
  void qErrorIsSymmetricAndFinite() {
    assertThat(ErrorTracker.qError(2, 1)).isEqualTo(2);
    assertThat(ErrorTracker.qError(1, 2)).isEqualTo(2);
    assertThat(ErrorTracker.qError(0, 0)).isEqualTo(1);
    assertThat(ErrorTracker.qError(0, 1)).isFinite();
  }
}
