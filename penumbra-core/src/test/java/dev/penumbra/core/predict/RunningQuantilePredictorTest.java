package dev.penumbra.core.predict;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.core.feedback.ErrorStats;
import dev.penumbra.core.feedback.ErrorTracker;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RunningQuantilePredictorTest {

  private static final Features ANY = Features.of("x", 1);

  @Test
  void startsAtZeroWithLowConfidence() {
    Demand d = new RunningQuantilePredictor("rq").predict(ANY);
    assertThat(d.point()).isEqualTo(Resources.ZERO);
    assertThat(d.lowConfidence()).isTrue();
    assertThat(d.quantiles()).containsOnlyKeys(0.5, 0.9, 0.99);
  }

  @Test
  void predictsEmpiricalQuantilesOfRecentActuals() {
    RunningQuantilePredictor p = new RunningQuantilePredictor("rq", 100, 20, new ErrorTracker());
    for (int i = 1; i <= 100; i++) {
      p.learn(ANY, Resources.of(i * 10, i * 1000L));
    }
    Demand d = p.predict(ANY);
    assertThat(d.lowConfidence()).isFalse();
    assertThat(d.point()).isEqualTo(Resources.of(500, 50_000));
    assertThat(d.at(0.9)).isEqualTo(Resources.of(900, 90_000));
    assertThat(d.at(0.99)).isEqualTo(Resources.of(990, 99_000));
    // The window forgets: 100 large actuals push every old one out.
    for (int i = 0; i < 100; i++) {
      p.learn(ANY, Resources.cpu(5000));
    }
    assertThat(p.predict(ANY).point()).isEqualTo(Resources.cpu(5000));
    assertThat(p.samples()).isEqualTo(200);
  }

  @Test
  void p90CoversAboutNinetyPercentOfAStationarySeries() {
    RunningQuantilePredictor p = new RunningQuantilePredictor("rq", 500, 20, new ErrorTracker());
    Random rnd = new Random(7);
    for (int i = 0; i < 3000; i++) {
      long v = (long) Math.exp(5 + rnd.nextGaussian());
      p.predict(ANY);
      p.learn(ANY, Resources.cpu(v));
    }
    ErrorStats s = p.errors(Dimension.CPU);
    assertThat(s.total()).isEqualTo(3000);
    assertThat(s.exceedanceRate()).isBetween(0.05, 0.15);
    assertThat(p.errors(Dimension.MEMORY).count()).isZero();
  }

  @Test
  void scoresThePredictionMadeBeforeTheActual() {
    ErrorTracker tracker = new ErrorTracker();
    RunningQuantilePredictor p = new RunningQuantilePredictor("rq", 10, 1, tracker);
    p.learn(ANY, Resources.cpu(100));
    Features f = Features.of("x", 2);
    Demand before = p.predict(f);
    assertThat(before.point().cpuMillis()).isEqualTo(100);
    p.learn(ANY, Resources.cpu(300)); // moves the median; the remembered prediction for f stays 100
    p.learn(f, Resources.cpu(200));
    ErrorStats s = tracker.stats("rq/cpu");
    assertThat(s.total()).isEqualTo(3);
    // The third score compared 100 (remembered) with 200: q-error 2 is among the recorded ones.
    assertThat(s.qErrorP90()).isGreaterThanOrEqualTo(2.0);
  }

  @Test
  void rejectsBadArgumentsWithoutChangingState() {
    assertThatThrownBy(() -> new RunningQuantilePredictor("rq", 0, 1, new ErrorTracker()))
        .hasMessageContaining("window must be >= 1, was 0");
    assertThatThrownBy(() -> new RunningQuantilePredictor("rq", 5, 0, new ErrorTracker()))
        .hasMessageContaining("minSamples must be >= 1, was 0");
    RunningQuantilePredictor p = new RunningQuantilePredictor("rq");
    assertThatThrownBy(() -> p.learn(ANY, null)).hasMessageContaining("actual is missing");
    assertThatThrownBy(() -> p.learn(null, Resources.cpu(1))).hasMessageContaining("features are missing");
    assertThatThrownBy(() -> p.predict(null)).hasMessageContaining("features are missing");
    assertThat(p.samples()).isZero();
    assertThat(p.errors(Dimension.CPU).total()).isZero();
  }
}
