package dev.penumbra.core.feedback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.forecast.SortedWindow;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** What a tracker scored survives export and restore into a fresh one (a restart), window and totals alike. */
class ErrorTrackerPersistenceTest {

  @Test
  void aRestoredTrackerHasTheSameStatisticsAndKeepsScoringFromThere() {
    ErrorTracker before = new ErrorTracker(50);
    Random rnd = new Random(11);
    for (int i = 0; i < 80; i++) {
      double actual = 10 + rnd.nextInt(20);
      before.record("m/cpu", actual * (0.5 + rnd.nextDouble()), actual * 1.5, actual);
      if (i % 3 == 0) {
        before.record("m/memory", actual, actual, actual * 2);
      }
    }
    ErrorTracker after = new ErrorTracker(50);
    after.restore(before.export());
    // The same statistics; sums taken in another order may differ in the last bits.
    assertThat(after.all()).usingRecursiveComparison().withComparatorForType(ErrorTrackerPersistenceTest::close,
        Double.class).isEqualTo(before.all());
    assertThat(after.stats("m/cpu").total()).isEqualTo(80);
    before.record("m/cpu", 1, 1, 2);
    after.record("m/cpu", 1, 1, 2);
    assertThat(after.stats("m/cpu")).usingRecursiveComparison().withComparatorForType(
        ErrorTrackerPersistenceTest::close, Double.class).isEqualTo(before.stats("m/cpu"));
  }

  static int close(Double a, Double b) {
    return a.equals(b) || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a)) ? 0 : Double.compare(a, b);
  }

  @Test
  void scoresTakenBeforeTheRestoreFollowTheSavedOnes() {
    ErrorTracker saved = new ErrorTracker(10);
    saved.record("m", 1, 1, 1);
    ErrorTracker now = new ErrorTracker(10);
    now.record("m", 4, 4, 1);
    now.restore(saved.export());
    assertThat(now.stats("m").count()).isEqualTo(2);
    assertThat(now.stats("m").total()).isEqualTo(2);
  }

  @Test
  void inconsistentOrInvalidSavedScoresAreRefused() {
    assertThatThrownBy(() -> new ErrorTracker.Scores("m", 1, new double[2], new double[1], new double[2]))
        .hasMessageContaining("'m'");
    ErrorTracker t = new ErrorTracker();
    assertThatThrownBy(() -> t.restore(List.of(new ErrorTracker.Scores("m", 1, new double[] {Double.NaN},
        new double[] {1}, new double[] {1})))).hasMessageContaining("point");
  }

  @Test
  void aSortedWindowsValuesRebuildIt() {
    SortedWindow w = new SortedWindow(5);
    for (int i = 0; i < 8; i++) {
      w.add(i * 1.5);
    }
    assertThat(w.values()).containsExactly(4.5, 6.0, 7.5, 9.0, 10.5);
    SortedWindow again = new SortedWindow(5);
    for (double v : w.values()) {
      again.add(v);
    }
    assertThat(again.quantile(0.5)).isEqualTo(w.quantile(0.5));
  }
}
