package dev.penumbra.core.predict;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.core.feedback.ErrorTracker;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PredictionScorerTest {

  @Test
  void scoresRememberedPredictionOnceThenFallsBackToCurrent() {
    ErrorTracker tracker = new ErrorTracker();
    PredictionScorer scorer = new PredictionScorer("m", tracker);
    Features f = Features.of("x", 1);
    scorer.remember(f, Demand.of(Resources.cpu(100), 0.9, Resources.cpu(150), "m", false));
    AtomicInteger asked = new AtomicInteger();
    Demand now = Demand.exact(Resources.cpu(400), "m");

    Demand scored = scorer.score(f, Resources.cpu(120), () -> {
      asked.incrementAndGet();
      return now;
    });
    assertThat(scored.point()).isEqualTo(Resources.cpu(100));
    assertThat(asked).hasValue(0);

    scored = scorer.score(f, Resources.cpu(200), () -> {
      asked.incrementAndGet();
      return now;
    });
    assertThat(scored).isSameAs(now);
    assertThat(asked).hasValue(1);

    var s = tracker.stats(PredictionScorer.statsName("m", Dimension.CPU));
    assertThat(s.total()).isEqualTo(2);
    // 120 > 100 (under) but <= 150 (covered); 200 < 400: one under-prediction, no exceedance.
    assertThat(s.underPredictionRate()).isEqualTo(0.5);
    assertThat(s.exceedanceRate()).isEqualTo(0.0);
    assertThat(tracker.stats("m/memory").total()).isZero();
  }

  @Test
  void forgetsTheOldestPredictionsBeyondItsMemory() {
    PredictionScorer scorer = new PredictionScorer("m", new ErrorTracker(), 0.9, 2);
    Demand remembered = Demand.exact(Resources.cpu(1), "m");
    Demand current = Demand.exact(Resources.cpu(2), "m");
    for (int i = 0; i < 3; i++) {
      scorer.remember(Features.of("i", i), remembered);
    }
    assertThat(scorer.score(Features.of("i", 0), Resources.cpu(1), () -> current)).isSameAs(current);
    assertThat(scorer.score(Features.of("i", 2), Resources.cpu(1), () -> current)).isSameAs(remembered);
  }

  @Test
  void validatesItsOptions() {
    ErrorTracker t = new ErrorTracker();
    assertThatThrownBy(() -> new PredictionScorer(" ", t)).hasMessageContaining("model name");
    assertThatThrownBy(() -> new PredictionScorer("m", null)).hasMessageContaining("tracker");
    assertThatThrownBy(() -> new PredictionScorer("m", t, 1.0, 5)).hasMessageContaining("scoring level");
    assertThatThrownBy(() -> new PredictionScorer("m", t, 0.9, 0)).hasMessageContaining("memory must be >= 1, was 0");
  }
}
