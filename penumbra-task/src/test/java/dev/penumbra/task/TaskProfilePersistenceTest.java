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

  /**
   * A client naming a new type per task does not grow the profiles without bound: beyond {@code maxTypes} the least
   * recently run type is forgotten, in the process and in what is saved, and a restore keeps the most recent ones.
   */
  @Test
  void theProfilesKeepABoundedNumberOfTypesTheMostRecentlyRun() {
    Scripted w = new Scripted(dev.penumbra.core.Resources.of(16_000, 1L << 30), b -> b.maxTypes(3));
    for (String t : java.util.List.of("a", "b", "c")) {
      w.executor.profile(t);
    }
    w.executor.profile("a"); // run again: now the most recent
    w.executor.profile("d");
    assertThat(w.executor.profiles().keySet()).containsExactlyInAnyOrder("a", "c", "d");
    assertThat(w.executor.exportProfiles()).extracting(TaskProfile.State::type).containsExactly("c", "a", "d");
    for (int i = 0; i < 10_000; i++) {
      w.executor.profile("t" + i);
    }
    assertThat(w.executor.profiles()).hasSize(3).containsKeys("t9997", "t9998", "t9999");
    Scripted again = new Scripted(dev.penumbra.core.Resources.of(16_000, 1L << 30), b -> b.maxTypes(2));
    again.executor.restoreProfiles(w.executor.exportProfiles());
    assertThat(again.executor.profiles().keySet()).containsExactlyInAnyOrder("t9998", "t9999");
    assertThatThrownBy(() -> TaskExecutor.builder(w.ledger, "jvm").maxTypes(0))
        .hasMessage("maxTypes must be in [1, 1000000], was 0");
  }

  @Test
  void anInconsistentStateIsRefused() {
    TaskProfile.State s = new TaskProfile("etl", Duration.ofMillis(10)).state();
    assertThatThrownBy(() -> TaskProfile.restore(new TaskProfile.State("etl", 10, 1, 2, new double[1],
        new double[1], s.residuals()))).hasMessageContaining("etl");
  }
}
