package dev.penumbra.ml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.core.predict.Features;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TreePredictorRetrainTest {

  private static final List<Synthetic.Row> ROWS = Synthetic.rows(3, 300);

  /** An executor that only queues: the test decides when a training runs. */
  static final class Queued implements java.util.concurrent.Executor {
    final List<Runnable> tasks = new ArrayList<>();

    @Override
    public void execute(Runnable task) {
      tasks.add(task);
    }

    void runOne() {
      tasks.remove(0).run();
    }
  }

  static TreePredictor.Builder cart() {
    return TreePredictor.builder().backend(TreePredictor.Backend.CART).minSamples(30).maxDepth(5).seed(1);
  }

  static void learn(TreePredictor p, int from, int to) {
    for (Synthetic.Row r : ROWS.subList(from, to)) {
      p.learn(r.features(), r.actual());
    }
  }

  @Test
  void retrainsWhenTheHistoryHasGrownByTheFactor() {
    Queued exec = new Queued();
    try (TreePredictor p = cart().retrainGrowth(1.5).executor(exec).build()) {
      learn(p, 0, 29);
      assertThat(exec.tasks).isEmpty();
      learn(p, 29, 30);
      assertThat(exec.tasks).hasSize(1);
      assertThat(p.isTraining()).isTrue();
      assertThat(p.modelVersion()).isZero();
      assertThat(p.fitted()).as("the fallback answers until the first model is published").isFalse();

      learn(p, 30, 50); // due again, but one training at a time
      assertThat(exec.tasks).hasSize(1);
      exec.runOne();
      assertThat(p.modelVersion()).isEqualTo(1);
      assertThat(p.fitted()).isTrue();
      assertThat(p.trainedOn()).isEqualTo(24); // 30 minus the 20% calibration share
      // 20 samples arrived during that training, more than 30 * 0.5: the next one is queued at once.
      assertThat(exec.tasks).hasSize(1);
      exec.runOne();
      assertThat(p.modelVersion()).isEqualTo(2);
      assertThat(p.trainedOn()).isEqualTo(40);
      assertThat(p.isTraining()).isFalse();

      learn(p, 50, 74); // 50 * 0.5 = 25 needed
      assertThat(exec.tasks).isEmpty();
      learn(p, 74, 75);
      assertThat(exec.tasks).hasSize(1);
    }
  }

  @Test
  void retrainsAfterRetrainEverySamplesWhenThatComesFirst() {
    Queued exec = new Queued();
    try (TreePredictor p = cart().retrainGrowth(10).retrainEvery(7).executor(exec).build()) {
      learn(p, 0, 30);
      exec.runOne();
      learn(p, 30, 36);
      assertThat(exec.tasks).isEmpty();
      learn(p, 36, 37);
      assertThat(exec.tasks).hasSize(1);
    }
  }

  @Test
  void predictAndLearnAreNotBlockedByARunningTraining() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (TreePredictor p = cart().beforeFit(() -> {
      started.countDown();
      try {
        release.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }).build()) {
      learn(p, 0, 30);
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
      assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
        Demand d = p.predict(ROWS.get(100).features());
        assertThat(d.lowConfidence()).isTrue();
        assertThat(d.model()).isEqualTo("trees/fallback");
        learn(p, 30, 60);
      });
      assertThat(p.isTraining()).isTrue();
      assertThat(p.modelVersion()).isZero();
      release.countDown();
      await().atMost(Duration.ofSeconds(20)).until(() -> p.modelVersion() >= 2);
      // The first training, then the one its 30 newer samples made due.
      assertThat(p.modelVersion()).isEqualTo(2);
      assertThat(p.predict(ROWS.get(100).features()).model()).isEqualTo("trees/cart");
    }
  }

  @Test
  void concurrentPredictionsAndLearningStayConsistent() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try (TreePredictor p = cart().build()) {
      List<Future<?>> work = new ArrayList<>();
      work.add(pool.submit(() -> learn(p, 0, 300)));
      for (int t = 0; t < 2; t++) {
        work.add(pool.submit(() -> {
          for (int i = 0; i < 300; i++) {
            Demand d = p.predict(ROWS.get(i).features());
            assertThat(d.at(0.99).fits(Resources.of(Long.MAX_VALUE, Long.MAX_VALUE))).isTrue();
          }
        }));
      }
      for (Future<?> f : work) {
        f.get(30, TimeUnit.SECONDS);
      }
      assertThat(p.historySize()).isEqualTo(300);
      assertThat(p.errors(Dimension.CPU).total()).isEqualTo(300);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void rejectsFeaturesThatDoNotMatchAndKeepsState() {
    try (TreePredictor p = cart().executor(Runnable::run).build()) {
      // Before anything is learned, any names are accepted (and the fallback answers).
      assertThat(p.predict(Features.of("other", 1)).lowConfidence()).isTrue();
      learn(p, 0, 40);
      long version = p.modelVersion();
      long scored = p.errors(Dimension.CPU).total();

      Features wrong = Features.of("size", 1, "kind", 0, "color", 3);
      assertThatThrownBy(() -> p.predict(wrong))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("missing [skew]")
          .hasMessageContaining("unexpected [color]");
      assertThatThrownBy(() -> p.learn(wrong, Resources.cpu(5))).hasMessageContaining("missing [skew]");
      assertThatThrownBy(() -> p.learn(ROWS.get(0).features(), null)).hasMessageContaining("actual is missing");
      assertThatThrownBy(() -> p.learn(null, Resources.cpu(5))).hasMessageContaining("features are missing");
      assertThatThrownBy(() -> p.predict(null)).hasMessageContaining("features are missing");
      // Bad values never reach the predictor: Features and Resources reject them where they are made.
      assertThatThrownBy(() -> Features.of("size", Double.NaN, "skew", 0, "kind", 0))
          .hasMessageContaining("'size' must be finite, was NaN");
      assertThatThrownBy(() -> Features.of("size", 1, "skew", Double.NEGATIVE_INFINITY, "kind", 0))
          .hasMessageContaining("'skew' must be finite, was -Infinity");
      assertThatThrownBy(() -> Features.of(" ", 1)).hasMessageContaining("blank");
      assertThatThrownBy(() -> Resources.of(-5, 0)).hasMessageContaining("cpuMillis must be >= 0, was -5");

      assertThat(p.historySize()).isEqualTo(40);
      assertThat(p.modelVersion()).isEqualTo(version);
      assertThat(p.errors(Dimension.CPU).total()).isEqualTo(scored);
    }
  }

  @Test
  void retrainNowNeedsMinSamples() {
    try (TreePredictor p = cart().executor(new Queued()).build()) {
      learn(p, 0, 10);
      assertThatThrownBy(p::retrainNow)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("needs 30 samples, history holds 10");
      learn(p, 10, 30);
      p.retrainNow();
      assertThat(p.modelVersion()).isPositive();
    }
  }

  @Test
  void builderRejectsBadOptionsNamingThem() {
    TreePredictor.Builder b = TreePredictor.builder();
    assertThatThrownBy(() -> b.name(" ")).hasMessageContaining("name must not be blank");
    assertThatThrownBy(() -> b.backend(null)).hasMessageContaining("backend is missing");
    assertThatThrownBy(() -> b.minSamples(9)).hasMessageContaining("minSamples must be >= 10, was 9");
    assertThatThrownBy(() -> b.retrainGrowth(1.0)).hasMessageContaining("retrainGrowth must be finite and > 1, was 1.0");
    assertThatThrownBy(() -> b.retrainGrowth(Double.NaN)).hasMessageContaining("was NaN");
    assertThatThrownBy(() -> b.retrainEvery(0)).hasMessageContaining("retrainEvery must be >= 1, was 0");
    assertThatThrownBy(() -> b.historyCapacity(5)).hasMessageContaining("historyCapacity must be >= 10, was 5");
    assertThatThrownBy(() -> b.calibrationShare(0.6)).hasMessageContaining("calibrationShare must be in [0.05, 0.5], was 0.6");
    assertThatThrownBy(() -> b.trees(0)).hasMessageContaining("trees must be in [1, 10000], was 0");
    assertThatThrownBy(() -> b.maxDepth(21)).hasMessageContaining("maxDepth must be in [1, 20], was 21");
    assertThatThrownBy(() -> b.learningRate(0)).hasMessageContaining("learningRate must be in (0, 1], was 0.0");
    assertThatThrownBy(() -> b.executor(null)).hasMessageContaining("executor is missing");
    assertThatThrownBy(() -> b.errorTracker(null)).hasMessageContaining("errorTracker is missing");
    assertThatThrownBy(() -> TreePredictor.builder().minSamples(100).historyCapacity(50).build())
        .hasMessageContaining("historyCapacity (50) must be >= minSamples (100)");
  }
}
