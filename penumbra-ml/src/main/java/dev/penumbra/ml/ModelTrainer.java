package dev.penumbra.ml;

import dev.penumbra.core.Resources.Dimension;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.Trainer;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuo.regression.RegressionFactory;
import org.tribuo.regression.Regressor;
import org.tribuo.regression.rtree.CARTRegressionTrainer;
import org.tribuo.regression.rtree.impurity.MeanSquaredError;
import org.tribuo.regression.xgboost.XGBoostRegressionTrainer;

/** Fits a {@link TrainedModel} on a history snapshot: split, train in log1p space, calibrate the residuals. */
final class ModelTrainer {

  private static final Logger LOG = LoggerFactory.getLogger(ModelTrainer.class);
  private static final RegressionFactory FACTORY = new RegressionFactory();

  /** The validated training options of one predictor. */
  record Config(TreePredictor.Backend backend, int trees, int maxDepth, double learningRate, long seed,
      double calibrationShare, double[] levels) {}

  private static volatile String xgboostProblem;
  private static volatile boolean probed;

  private ModelTrainer() {}

  /**
   * Null when XGBoost trains here; otherwise why not (its native library failed to load, typically). Probed
   * once per JVM by fitting a one-tree model on four examples.
   */
  static synchronized String xgboostProblem() {
    if (!probed) {
      try {
        MutableDataset<Regressor> data = dataset();
        for (int i = 0; i < 4; i++) {
          data.add(new ArrayExample<>(
              new Regressor("y", i), new String[] {"x"}, new double[] {i}));
        }
        NativeTraining.train(xgboostTrainer(1, 2, 0.3, 1), data);
        xgboostProblem = null;
      } catch (LinkageError | RuntimeException e) {
        xgboostProblem = e.toString();
        LOG.warn("XGBoost is not usable here ({}); tree predictors on AUTO fall back to CART", e.toString());
      }
      probed = true;
    }
    return xgboostProblem;
  }

  private static MutableDataset<Regressor> dataset() {
    return new MutableDataset<>(new SimpleDataSourceProvenance("penumbra history", FACTORY), FACTORY);
  }

  private static Trainer<Regressor> xgboostTrainer(int trees, int maxDepth, double eta, long seed) {
    // One thread: deterministic given the seed, and fair to the process the predictor serves.
    return new XGBoostRegressionTrainer(XGBoostRegressionTrainer.RegressionType.LINEAR, trees, eta, 0.0, maxDepth,
        1.0, 1.0, 1.0, 1.0, 0.0, 1, true, seed);
  }

  private static Trainer<Regressor> trainer(Config c) {
    return switch (c.backend()) {
      case XGBOOST -> xgboostTrainer(c.trees(), c.maxDepth(), c.learningRate(), c.seed());
      case CART -> new CARTRegressionTrainer(c.maxDepth(), 5f, 0f, 1f, false, new MeanSquaredError(), c.seed());
      case AUTO -> throw new IllegalStateException("backend must be resolved before training");
    };
  }

  /**
   * Fits on {@code samples}: a seeded random {@code calibrationShare} of them is held out, the rest trains one
   * log1p regression per present dimension, and the held-out residuals give the quantile offsets.
   *
   * @return null when no dimension was ever non-zero (nothing to learn)
   */
  static TrainedModel fit(Config c, List<Sample> samples, String[] featureNames, long version) {
    EnumSet<Dimension> present = EnumSet.noneOf(Dimension.class);
    for (Sample s : samples) {
      for (Dimension d : Dimension.values()) {
        if (s.actual().get(d) > 0) {
          present.add(d);
        }
      }
    }
    if (present.isEmpty()) {
      return null;
    }
    List<Dimension> dims = List.copyOf(present);
    String[] dimNames = dims.stream().map(Dimension::label).toArray(String[]::new);

    int n = samples.size();
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Random rnd = new Random(c.seed() * 1_000_003L + n);
    for (int i = n - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    int calibration = Math.max(1, (int) Math.round(n * c.calibrationShare()));
    int training = n - calibration;

    // Targets are centred: XGBoost starts every model at 0.5, far from log1p amounts of 10-20, and a few
    // shrunken rounds would not get there.
    double[] offsets = new double[dims.size()];
    for (int k = calibration; k < n; k++) {
      Sample s = samples.get(order[k]);
      for (int d = 0; d < offsets.length; d++) {
        offsets[d] += Math.log1p(s.actual().get(dims.get(d))) / training;
      }
    }
    MutableDataset<Regressor> data = dataset();
    for (int k = calibration; k < n; k++) {
      Sample s = samples.get(order[k]);
      double[] targets = new double[dims.size()];
      for (int d = 0; d < targets.length; d++) {
        targets[d] = Math.log1p(s.actual().get(dims.get(d))) - offsets[d];
      }
      data.add(TrainedModel.example(new Regressor(dimNames, targets), featureNames, s.features()));
    }
    Model<Regressor> model = NativeTraining.train(trainer(c), data);
    String label = c.backend().name().toLowerCase(Locale.ROOT);

    double[][] quantiles = new double[dims.size()][c.levels().length];
    TrainedModel uncalibrated = new TrainedModel(model, featureNames, dims, c.levels(), offsets, quantiles, label, training,
        calibration, version);
    double[][] residuals = new double[dims.size()][calibration];
    for (int k = 0; k < calibration; k++) {
      Sample s = samples.get(order[k]);
      double[] predicted = uncalibrated.predictLog(s.features());
      for (int d = 0; d < dims.size(); d++) {
        residuals[d][k] = Math.log1p(s.actual().get(dims.get(d))) - predicted[d];
      }
    }
    for (int d = 0; d < dims.size(); d++) {
      Arrays.sort(residuals[d]);
      for (int i = 0; i < c.levels().length; i++) {
        quantiles[d][i] = conformalQuantile(residuals[d], c.levels()[i]);
      }
    }
    // The quantile array is filled in place; the model was not published before this point.
    return uncalibrated;
  }

  /**
   * The split-conformal quantile of sorted residuals: the ceil((n + 1) * level)-th smallest, which covers a
   * new exchangeable residual with probability >= level; the largest residual when that rank exceeds n.
   */
  static double conformalQuantile(double[] sorted, double level) {
    int rank = (int) Math.ceil((sorted.length + 1) * level);
    return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
  }
}
