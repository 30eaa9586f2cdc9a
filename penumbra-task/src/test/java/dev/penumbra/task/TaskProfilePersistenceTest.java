package dev.penumbra.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** A profile's state survives a restart: the same expectations, deviations and bands. */
class TaskProfilePersistenceTest {

  @Test
  void aRestoredProfileAnswersAsTheOriginal() {
    TaskProfile p = new TaskProfile("etl", Duration.ofMillis(10));
    SplittableRandom rnd = new SplittableRandom(3);
    for (int t = 0; t < 12; t++) {
      double[] peaks = new double[(5 + t % 3) * Signal.COUNT];
      for (int i = 0; i < peaks.length; i++) {
        peaks[i] = 100 * rnd.nextDouble();
      }
      p.record(peaks);
      for (int i = 0; i < 3; i++) {
        p.residual(Signal.MEMORY, rnd.nextDouble() * 10 - 5);
      }
    }
    TaskProfile back = TaskProfile.restore(p.state());
    assertThat(back.tasks()).isEqualTo(12);
    for (Signal s : Signal.values()) {
      for (long ms = 0; ms < 80; ms += 7) {
        assertThat(Double.valueOf(back.expected(s, ms))).isEqualTo(Double.valueOf(p.expected(s, ms)));
        assertThat(Double.valueOf(back.deviation(s, ms))).isEqualTo(Double.valueOf(p.deviation(s, ms)));
      }
      assertThat(Double.valueOf(back.band(s, 0.9))).isEqualTo(Double.valueOf(p.band(s, 0.9)));
      assertThat(back.residuals(s)).isEqualTo(p.residuals(s));
    }
  }

  @Test
  void anInconsistentStateIsRefused() {
    TaskProfile.State s = new TaskProfile("etl", Duration.ofMillis(10)).state();
    assertThatThrownBy(() -> TaskProfile.restore(new TaskProfile.State("etl", 10, 1, 2, new double[1],
        new double[1], s.residuals()))).hasMessageContaining("etl");
  }
}
