package dev.penumbra.ml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.core.feedback.ErrorTracker;
import dev.penumbra.core.predict.Features;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TreePredictorTest {

  private static final List<Synthetic.Row> TRAIN = Synthetic.rows(1, 1000);
  private static final List<Synthetic.Row> TEST = Synthetic.rows(2, 400);

  static TreePredictor.Builder synchronous(TreePredictor.Backend backend) {
    return TreePredictor.builder().backend(backend).minSamples(30).trees(40).maxDepth(5).seed(7)
        .executor(Runnable::run);
  }

  /** Median q-error of the point in one dimension over the test rows. */
  static double medianQError(TreePredictor p, Dimension d) {
    double[] q = TEST.stream()
        .mapToDouble(r -> ErrorTracker.qError(p.predict(r.features()).point().get(d), r.actual().get(d)))
        .sorted().toArray();
    return q[q.length / 2];
  }

  static void learn(TreePredictor p, List<Synthetic.Row> rows) {
    for (Synthetic.Row r : rows) {
      p.learn(r.features(), r.actual());
    }
  }

  @ParameterizedTest
  @EnumSource(value = TreePredictor.Backend.class, names = {"XGBOOST", "CART"})
  void learnsANonlinearRelationBetterWithMoreHistory(TreePredictor.Backend backend) {
    try (TreePredictor p = synchronous(backend).build()) {
      assertThat(p.backend()).isEqualTo(backend);
      learn(p, TRAIN.subList(0, 50));
      p.retrainNow();
      double cpuSmall = medianQError(p, Dimension.CPU);
      double memSmall = medianQError(p, Dimension.MEMORY);

      learn(p, TRAIN.subList(50, 1000));
      p.retrainNow();
      double cpuLarge = medianQError(p, Dimension.CPU);
      double memLarge = medianQError(p, Dimension.MEMORY);

      // Noise alone gives a median q-error of exp(0.2 * 0.674) = 1.14; 1000 samples come within 10% of it (about 1.17 on both backends).
      assertThat(cpuLarge).isLessThan(1.25).isLessThan(1 + (cpuSmall - 1) * 0.75);
      assertThat(memLarge).isLessThan(1.25).isLessThan(1 + (memSmall - 1) * 0.75);
      assertThat(p.predict(TEST.get(0).features()).model()).isEqualTo("trees/" + backend.name().toLowerCase());
    }
  }

  @ParameterizedTest
  @EnumSource(value = TreePredictor.Backend.class, names = {"XGBOOST", "CART"})
  void upperQuantilesCoverHeldOutActuals(TreePredictor.Backend backend) {
    try (TreePredictor p = synchronous(backend).build()) {
      learn(p, TRAIN);
      p.retrainNow();
      int covered90 = 0;
      int covered99 = 0;
      int cells = 0;
      for (Synthetic.Row r : TEST) {
        Demand d = p.predict(r.features());
        assertThat(d.lowConfidence()).isFalse();
        for (Dimension dim : List.of(Dimension.CPU, Dimension.MEMORY)) {
          cells++;
          covered90 += r.actual().get(dim) <= d.at(0.9).get(dim) ? 1 : 0;
          covered99 += r.actual().get(dim) <= d.at(0.99).get(dim) ? 1 : 0;
        }
        assertThat(d.at(0.99).fits(d.at(0.9).max(d.point())) || d.at(0.9).fits(d.at(0.99))).isTrue();
      }
      assertThat((double) covered90 / cells).isBetween(0.80, 0.97);
      assertThat((double) covered99 / cells).isGreaterThan(0.94);
      // Dimensions no actual ever used are predicted as zero.
      assertThat(p.predict(TEST.get(0).features()).at(0.99).ioBytesPerSec()).isZero();
    }
  }

  @ParameterizedTest
  @EnumSource(value = TreePredictor.Backend.class, names = {"XGBOOST", "CART"})
  void isDeterministicGivenTheSeed(TreePredictor.Backend backend) {
    try (TreePredictor a = synchronous(backend).build(); TreePredictor b = synchronous(backend).build()) {
      learn(a, TRAIN.subList(0, 300));
      learn(b, TRAIN.subList(0, 300));
      assertThat(a.modelVersion()).isEqualTo(b.modelVersion()).isPositive();
      for (Synthetic.Row r : TEST.subList(0, 50)) {
        assertThat(a.predict(r.features())).isEqualTo(b.predict(r.features()));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(value = TreePredictor.Backend.class, names = {"XGBOOST", "CART"})
  void coldStartIsFiniteAndLowConfidenceThenImproves(TreePredictor.Backend backend) {
    try (TreePredictor p = synchronous(backend).build()) {
      Demand first = p.predict(TEST.get(0).features());
      assertThat(first.lowConfidence()).isTrue();
      assertThat(first.model()).isEqualTo("trees/fallback");
      assertThat(first.point()).isEqualTo(Resources.ZERO);

      learn(p, TRAIN.subList(0, 29));
      assertThat(p.modelVersion()).isZero();
      Demand fallback = p.predict(TEST.get(0).features());
      assertThat(fallback.lowConfidence()).isTrue();
      assertThat(fallback.point().cpuMillis()).isPositive();
      double fallbackError = medianQError(p, Dimension.CPU);

      learn(p, TRAIN.subList(29, 200));
      assertThat(p.modelVersion()).isPositive();
      Demand trained = p.predict(TEST.get(0).features());
      assertThat(trained.lowConfidence()).isFalse();
      assertThat(medianQError(p, Dimension.CPU)).isLessThan(1 + (fallbackError - 1) * 0.5);
    }
  }

  @ParameterizedTest
  @EnumSource(value = TreePredictor.Backend.class, names = {"XGBOOST", "CART"})
  void scoresEveryLearnedActualPerUsedDimension(TreePredictor.Backend backend) {
    ErrorTracker tracker = new ErrorTracker();
    try (TreePredictor p = synchronous(backend).name("q").errorTracker(tracker).build()) {
      for (Synthetic.Row r : TRAIN.subList(0, 400)) {
        p.predict(r.features());
        p.learn(r.features(), r.actual());
      }
      assertThat(p.errors(Dimension.CPU).total()).isEqualTo(400);
      assertThat(tracker.stats("q/memory").total()).isEqualTo(400);
      assertThat(p.errors(Dimension.IO).total()).isZero();
      // The last 100 predictions came from trained models: their p90 bounds are exceeded about 10% of the time.
      ErrorTracker late = new ErrorTracker(100);
      for (Synthetic.Row r : TEST.subList(0, 100)) {
        Demand d = p.predict(r.features());
        late.record("cpu", d.point().cpuMillis(), d.at(0.9).cpuMillis(), r.actual().cpuMillis());
      }
      assertThat(late.stats("cpu").exceedanceRate()).isLessThan(0.25);
    }
  }

  @ParameterizedTest
  @EnumSource(value = TreePredictor.Backend.class, names = {"XGBOOST", "CART"})
  void boundsTheHistory(TreePredictor.Backend backend) {
    try (TreePredictor p = synchronous(backend).minSamples(10).historyCapacity(40).build()) {
      learn(p, TRAIN.subList(0, 100));
      assertThat(p.historySize()).isEqualTo(40);
      // Trained on the last 40 minus the 20% calibration share.
      assertThat(p.trainedOn()).isEqualTo(32);
    }
  }

  @org.junit.jupiter.api.Test
  void quantileOffsetsAreSplitConformalRanks() {
    double[] sorted = new double[19];
    Arrays.setAll(sorted, i -> i);
    // rank ceil(20 * 0.9) = 18 -> value 17; ceil(20 * 0.99) = 20 > 19 -> the largest.
    assertThat(ModelTrainer.conformalQuantile(sorted, 0.9)).isEqualTo(17);
    assertThat(ModelTrainer.conformalQuantile(sorted, 0.99)).isEqualTo(18);
    assertThat(ModelTrainer.conformalQuantile(sorted, 0.5)).isEqualTo(9);
    assertThat(TrainedModel.toAmount(-3, true)).isZero();
    assertThat(TrainedModel.toAmount(Math.log1p(99.2), true)).isEqualTo(100);
    assertThat(TrainedModel.toAmount(Math.log1p(99.2), false)).isEqualTo(99);
    assertThat(TrainedModel.toAmount(1e9, false)).isPositive();
  }

  @org.junit.jupiter.api.Test
  void allZeroActualsTrainNothingAndPredictZero() {
    try (TreePredictor p = synchronous(TreePredictor.Backend.CART).minSamples(10).build()) {
      Features f = Features.of("x", 1);
      for (int i = 0; i < 20; i++) {
        p.learn(Features.of("x", i), Resources.ZERO);
      }
      assertThat(p.modelVersion()).isZero();
      assertThat(p.predict(f).point()).isEqualTo(Resources.ZERO);
      assertThat(p.predict(f).lowConfidence()).isTrue();
    }
  }

  @org.junit.jupiter.api.Test
  void rejectsXGBoostOnlyWhenItCannotRun() {
    if (ModelTrainer.xgboostProblem() == null) {
      try (TreePredictor p = TreePredictor.builder().backend(TreePredictor.Backend.AUTO).build()) {
        assertThat(p.backend()).isEqualTo(TreePredictor.Backend.XGBOOST);
      }
    } else {
      assertThatThrownBy(() -> TreePredictor.builder().backend(TreePredictor.Backend.XGBOOST).build())
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("use backend CART");
    }
  }
}
