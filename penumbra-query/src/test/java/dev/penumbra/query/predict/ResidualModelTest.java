package dev.penumbra.query.predict;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ResidualModelTest {

  @Test
  void learnsTheResidualAndItsHeldOutUncertainty() {
    ResidualModel m = new ResidualModel(20, 5, 1000);
    Random rnd = new Random(7);
    for (int shape = 0; shape < 12; shape++) {
      double bias = 0.2 * rnd.nextGaussian(); // what no feature explains: shows only on held-out shapes
      for (int run = 0; run < 8; run++) {
        double x1 = rnd.nextDouble();
        double[] x = {1, x1};
        double y = Math.log(3) * x1 + bias + 0.05 * rnd.nextGaussian();
        m.add("shape" + shape, x, new double[] {y, y, y});
      }
    }
    ResidualModel.Fit fit = m.fit();
    assertThat(fit).isNotNull();
    assertThat(fit.shapes()).isEqualTo(12);
    assertThat(fit.folds()).isEqualTo(5);
    assertThat(Math.exp(fit.logCorrection(new double[] {1, 1}, ResidualModel.MEMORY))).isCloseTo(3, within(0.6));
    double u90 = fit.upper()[ResidualModel.MEMORY][0];
    double u99 = fit.upper()[ResidualModel.MEMORY][1];
    assertThat(u90).isPositive();
    assertThat(u99).isGreaterThanOrEqualTo(u90);
    assertThat(u90).as("the shape bias (sd 0.2) is in the held-out residuals, not only the run noise (sd 0.05)")
        .isGreaterThan(0.1);
  }

  @Test
  void aFeatureBeyondEveryTrainingRunsRangeIsHeldAtItsEdge() {
    ResidualModel m = new ResidualModel(20, 5, 1000);
    Random rnd = new Random(11);
    for (int shape = 0; shape < 10; shape++) {
      for (int run = 0; run < 6; run++) {
        double x1 = rnd.nextDouble();
        double y = Math.log(3) * x1 + 0.02 * rnd.nextGaussian();
        m.add("shape" + shape, new double[] {1, x1}, new double[] {y, y, y});
      }
    }
    ResidualModel.Fit fit = m.fit();
    double atEdge = Math.exp(fit.logCorrection(new double[] {1, 1}, ResidualModel.WALL));
    double beyond = Math.exp(fit.logCorrection(new double[] {1, 5}, ResidualModel.WALL));
    assertThat(atEdge).isCloseTo(3, within(0.6));
    assertThat(beyond).as("x1 = 5 lies past every training run (0-1): the slope is not carried there")
        .isCloseTo(atEdge, within(1e-9));
  }

  @Test
  void doesNotFitOnTooFewShapes() {
    ResidualModel m = new ResidualModel(20, 5, 1000);
    for (int i = 0; i < 40; i++) {
      m.add("shape" + (i % 3), new double[] {1, i}, new double[] {0, 0, 0});
    }
    assertThat(m.fit()).isNull();
  }

  @Test
  void conformalRanksBeyondTheDataAddADoubling() {
    double[] sorted = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
    assertThat(ResidualModel.conformal(sorted, 0.5)).isEqualTo(0.6);
    assertThat(ResidualModel.conformal(sorted, 0.99)).isCloseTo(1.0 + Math.log(2), within(1e-12));
  }
}
