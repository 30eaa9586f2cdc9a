package dev.penumbra.core.predict;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.core.feedback.ErrorTracker;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Predictor} must do, run against each implementation (the running-quantile one here, the
 * tree models in penumbra-ml): well-formed demands, pure predictions, bad input refused with nothing scored,
 * every learned actual scored exactly once under {@code name/dimension}, a constant learned, and safe use from
 * many threads. A subclass says how to make a fresh predictor and how to make what it learned take effect.
 */
public abstract class PredictorContract {

  private static final Dimension[] SCORED = {Dimension.CPU, Dimension.MEMORY};

  /** A new predictor that has learned nothing. */
  protected abstract Predictor newPredictor();

  /** Makes what was learned take effect (a model that trains in the background trains now); default nothing. */
  protected void settle(Predictor predictor) {}

  /** Enough samples for the predictor to leave its cold start. */
  protected int warmSamples() {
    return 200;
  }

  protected static Features features(int i) {
    return Features.of("size", (double) (i % 10 + 1), "kind", (double) (i % 3));
  }

  /** A deterministic relation: CPU and memory grow with size, kind adds a step. */
  protected static Resources actual(Features f) {
    double size = f.get("size");
    double kind = f.get("kind");
    return Resources.of((long) (100 * size + 50 * kind), (long) ((size + kind) * (1L << 20)));
  }

  @Test
  void hasAName() {
    assertThat(newPredictor().name()).isNotBlank();
  }

  @Test
  void demandsAreWellFormedBeforeAndAfterLearning() {
    Predictor p = newPredictor();
    assertWellFormed(p.predict(features(1)));
    for (int i = 0; i < warmSamples(); i++) {
      p.learn(features(i), actual(features(i)));
    }
    settle(p);
    for (int i = 0; i < 10; i++) {
      assertWellFormed(p.predict(features(i)));
    }
  }

  private static void assertWellFormed(Demand d) {
    assertThat(d.model()).isNotBlank();
    for (Dimension dim : SCORED) {
      double last = -1;
      for (double level : new double[] {0.5, 0.9, 0.99}) {
        double v = d.at(level).get(dim);
        assertThat(v).as("%s at %s", dim, level).isFinite().isGreaterThanOrEqualTo(0).isGreaterThanOrEqualTo(last);
        last = v;
      }
      assertThat((double) d.point().get(dim)).as("point %s", dim).isGreaterThanOrEqualTo(0);
    }
  }

  @Test
  void predictionIsPureUntilSomethingIsLearned() {
    Predictor p = newPredictor();
    for (int i = 0; i < warmSamples(); i++) {
      p.learn(features(i), actual(features(i)));
    }
    settle(p);
    Demand first = p.predict(features(4));
    assertThat(p.predict(features(4))).isEqualTo(first);
    assertThat(p.predict(features(4))).isEqualTo(first);
  }

  @Test
  void badInputIsRefusedAndNothingIsScored() {
    Predictor p = newPredictor();
    p.learn(features(1), actual(features(1)));
    long before = p.errors(Dimension.CPU).total();
    assertThatThrownBy(() -> p.predict(null)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("features");
    assertThatThrownBy(() -> p.learn(null, Resources.of(1, 1))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("features");
    assertThatThrownBy(() -> p.learn(features(1), null)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("actual");
    assertThat(p.errors(Dimension.CPU).total()).isEqualTo(before);
    assertThat(p.errors(Dimension.MEMORY).total()).isEqualTo(before);
  }

  @Test
  void everyActualIsScoredOnceUnderTheModelsName() {
    Predictor p = newPredictor();
    int n = 37;
    for (int i = 0; i < n; i++) {
      if (i % 2 == 0) {
        p.predict(features(i)); // half scored against a remembered prediction, half "test, then train"
      }
      p.learn(features(i), actual(features(i)));
    }
    for (Dimension d : SCORED) {
      assertThat(p.errors(d).total()).as(d.label()).isEqualTo(n);
      assertThat(p.errors(d).model()).isEqualTo(p.name() + "/" + d.label());
    }
  }

  @Test
  void learnsAConstant() {
    Predictor p = newPredictor();
    Resources constant = Resources.of(750, 96L << 20);
    for (int i = 0; i < warmSamples(); i++) {
      p.learn(features(i), constant);
    }
    settle(p);
    Demand d = p.predict(features(3));
    assertThat(d.lowConfidence()).isFalse();
    for (Dimension dim : SCORED) {
      double q = ErrorTracker.qError(d.point().get(dim), constant.get(dim));
      assertThat(q).as("q-error of %s", dim).isLessThan(1.25);
      assertThat((double) d.at(0.99).get(dim)).as("p99 of %s", dim).isGreaterThanOrEqualTo(constant.get(dim) * 0.8);
    }
  }

  @Test
  void manyThreadsPredictAndLearnWithoutLosingAScore() throws Exception {
    Predictor p = newPredictor();
    int threads = 4;
    int each = 150;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Callable<Void>> jobs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int offset = t * each;
        jobs.add(() -> {
          for (int i = offset; i < offset + each; i++) {
            assertWellFormed(p.predict(features(i)));
            p.learn(features(i), actual(features(i)));
          }
          return null;
        });
      }
      for (Future<Void> f : pool.invokeAll(jobs)) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    for (Dimension d : SCORED) {
      assertThat(p.errors(d).total()).as(d.label()).isEqualTo((long) threads * each);
    }
  }
}
