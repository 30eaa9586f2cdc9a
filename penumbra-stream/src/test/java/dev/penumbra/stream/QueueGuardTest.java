package dev.penumbra.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.penumbra.core.loop.CostModel;
import org.junit.jupiter.api.Test;

class QueueGuardTest {

  /** Lag 3 intervals, grace 0, standard priority (shortfall 10x the slack price). */
  final QueueGuard guard = new QueueGuard(3, 0, CostModel.DEFAULT, 10);

  @Test
  void aForecastThatGivesWorkersBackInPausesPaysForTheQueueTheirRestartLeaves() {
    // Every 5 intervals the rate pauses for 2; the forecast follows it down and up, the reactive rule holds 2 cores.
    for (int t = 0; t < 200; t++) {
      boolean pause = t % 5 >= 3;
      double need = pause ? 100 : 1_800;
      long forecast = pause ? 200 : 2_000;
      guard.score(need, 1, forecast, 2_000);
    }
    assertThat(guard.reactiveCheaper()).isTrue();
    assertThat(guard.reactiveCost()).isLessThan(guard.forecastCost());
  }

  @Test
  void aForecastThatHoldsWhatComesIsCheaperThanARuleHoldingSpareCores() {
    for (int t = 0; t < 200; t++) {
      double need = 1_000 + 500 * Math.sin(t / 10.0);
      // The forecast asks ahead for what comes one lag later; the reactive rule holds 70% utilisation and more.
      long forecast = (long) (1_100 + 550 * Math.sin((t + 3) / 10.0));
      guard.score(need, 1, forecast, 3_200);
    }
    assertThat(guard.reactiveCheaper()).isFalse();
    assertThat(guard.forecastCost()).isLessThan(guard.reactiveCost());
  }

  @Test
  void itSwitchesBackOnceTheForecastIsCheaperAgainByTheHysteresis() {
    for (int t = 0; t < 200; t++) {
      guard.score(t % 5 >= 3 ? 100 : 1_800, 1, t % 5 >= 3 ? 200 : 2_000, 2_000);
    }
    assertThat(guard.reactiveCheaper()).isTrue();
    // The forecast now holds half a core spare (which drains what queued before), the reactive rule two.
    for (int t = 0; t < 600; t++) {
      guard.score(1_000, 1, 1_500, 3_000);
    }
    assertThat(guard.reactiveCheaper()).isFalse();
  }

  @Test
  void noDecisionBeforeAHalfLifeOfScoredIntervals() {
    for (int t = 0; t < QueueGuard.HALF_LIFE - 1; t++) {
      guard.score(t % 5 >= 3 ? 100 : 1_800, 1, t % 5 >= 3 ? 200 : 2_000, 2_000);
    }
    assertThat(guard.reactiveCheaper()).isFalse();
  }
}
