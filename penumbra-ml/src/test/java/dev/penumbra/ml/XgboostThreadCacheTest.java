package dev.penumbra.ml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.penumbra.core.Resources;
import dev.penumbra.core.predict.Features;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import org.junit.jupiter.api.Test;

/**
 * XGBoost 1.6 keeps each booster's data-matrix cache in a map local to the thread that created the booster, keyed
 * by the booster's address, and a booster freed on another thread (the JVM frees them from its finalizer thread)
 * leaves its entry behind. A new booster that the allocator places at the same address on that thread inherits the
 * entry, and with it the column count of a matrix that is still alive: training a 2-feature model then fails with
 * "num_feature 3 vs 2". This test leaves such entries on purpose, then trains through the product's paths.
 */
class XgboostThreadCacheTest {

  /**
   * Rounds of "free a booster elsewhere, then train here". The next booster lands on the freed address in about half
   * of them here (glibc), so without the fix 24 rounds fail with a chance of 1 - 2^-24.
   */
  private static final int ROUNDS = 24;

  @Test
  void aBoosterFreedOnAnotherThreadDoesNotLeakItsColumnCountIntoTheNextTraining() throws Exception {
    assumeTrue(ModelTrainer.xgboostProblem() == null, "XGBoost's native library does not load here");
    DMatrix wide = threeColumns();
    try {
      ModelTrainer.Config config = new ModelTrainer.Config(TreePredictor.Backend.XGBOOST, 5, 3, 0.3, 7, 0.2,
          TreePredictor.LEVELS.clone());
      List<Sample> samples = twoFeatureSamples(60);
      String[] names = {"kind", "size"};
      for (int i = 1; i <= ROUNDS; i++) {
        leaveAStaleEntryOnThisThread(wide);
        long version = i;
        assertThatCode(() -> ModelTrainer.fit(config, samples, names, version)).as("training %d", i)
            .doesNotThrowAnyException();
      }
    } finally {
      wide.dispose();
    }
  }

  @Test
  void aPredictorTrainedSynchronouslyOnAPoisonedThreadStillFits() throws Exception {
    assumeTrue(ModelTrainer.xgboostProblem() == null, "XGBoost's native library does not load here");
    DMatrix wide = threeColumns();
    try {
      try (TreePredictor p = TreePredictor.builder().backend(TreePredictor.Backend.XGBOOST).minSamples(30).trees(5)
          .maxDepth(3).seed(7).executor(Runnable::run).build()) {
        for (Sample s : twoFeatureSamples(90)) {
          p.learn(s.features(), s.actual());
        }
        Features f = Features.of("size", 5.0, "kind", 1.0);
        for (int round = 0; round < ROUNDS; round++) {
          leaveAStaleEntryOnThisThread(wide);
          p.retrainNow();
          assertThat(p.predict(f)).isEqualTo(p.predict(f));
        }
      }
    } finally {
      wide.dispose();
    }
  }

  private static DMatrix threeColumns() throws Exception {
    int rows = 16;
    float[] data = new float[rows * 3];
    float[] labels = new float[rows];
    for (int r = 0; r < rows; r++) {
      data[3 * r] = r;
      data[3 * r + 1] = r % 4;
      data[3 * r + 2] = r % 3;
      labels[r] = r;
    }
    DMatrix m = new DMatrix(data, rows, 3, Float.NaN);
    m.setLabel(labels);
    return m;
  }

  /** A booster made on this thread over {@code wide}, then freed on another one, as the finalizer frees it. */
  private static void leaveAStaleEntryOnThisThread(DMatrix wide) throws Exception {
    Booster booster = XGBoost.train(wide, Map.of("max_depth", 2, "eta", 0.3, "nthread", 1, "verbosity", 0), 1,
        Map.of(), null, null);
    Thread freer = new Thread(booster::dispose, "booster-freer");
    freer.start();
    freer.join();
  }

  private static List<Sample> twoFeatureSamples(int n) {
    List<Sample> samples = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double size = i % 10 + 1;
      double kind = i % 3;
      Features f = Features.of("size", size, "kind", kind);
      samples.add(new Sample(f, Resources.of((long) (100 * size + 50 * kind), (long) ((size + kind) * (1L << 20)))));
    }
    return samples;
  }
}
