package dev.penumbra.ml;

import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.core.predict.Features;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import org.tribuo.Model;
import org.tribuo.impl.ArrayExample;
import org.tribuo.regression.RegressionFactory;
import org.tribuo.regression.Regressor;

/**
 * A fitted model with its calibration: per dimension, the log1p-space regression and the quantiles of its
 * held-out residuals. Immutable once built; predictions are serialized on the instance because the native
 * XGBoost booster is not documented as safe for concurrent use.
 */
final class TrainedModel {

  /** Held-out residuals needed before the quantiles are trusted (below: demands are low-confidence). */
  static final int MIN_CALIBRATION = 20;

  private final Model<Regressor> model;
  private final String[] featureNames;
  private final List<Dimension> dimensions;
  private final double[] levels;
  /** Per dimension, the mean log1p target the model was fitted around (added back to its output). */
  private final double[] offsets;
  /** residualQuantiles[d][i]: quantile levels[i] of the log-space residuals of dimensions.get(d). */
  private final double[][] residualQuantiles;
  private final String label;
  private final int trainedOn;
  private final int calibrationSize;
  private final long version;

  TrainedModel(Model<Regressor> model, String[] featureNames, List<Dimension> dimensions, double[] levels,
      double[] offsets, double[][] residualQuantiles, String label, int trainedOn, int calibrationSize, long version) {
    this.model = model;
    this.featureNames = featureNames;
    this.dimensions = dimensions;
    this.levels = levels;
    this.offsets = offsets;
    this.residualQuantiles = residualQuantiles;
    this.label = label;
    this.trainedOn = trainedOn;
    this.calibrationSize = calibrationSize;
    this.version = version;
  }

  static ArrayExample<Regressor> example(Regressor output, String[] names, Features features) {
    double[] values = new double[names.length];
    for (int i = 0; i < names.length; i++) {
      values[i] = features.get(names[i]);
    }
    return new ArrayExample<>(output, names, values);
  }

  /** Log1p-space predictions, one per {@link #dimensions()} entry. */
  synchronized double[] predictLog(Features features) {
    Regressor out = model.predict(example(RegressionFactory.UNKNOWN_REGRESSOR, featureNames, features))
        .getOutput();
    double[] result = new double[dimensions.size()];
    for (int d = 0; d < result.length; d++) {
      String dim = dimensions.get(d).label();
      result[d] = out.getDimension(dim)
          .orElseThrow(() -> new IllegalStateException("model has no output for dimension " + dim))
          .getValue() + offsets[d];
    }
    return result;
  }

  Demand predict(Features features, String model) {
    double[] logs = predictLog(features);
    Resources point = Resources.ZERO;
    Resources[] upper = new Resources[levels.length];
    Arrays.fill(upper, Resources.ZERO);
    for (int d = 0; d < logs.length; d++) {
      Dimension dim = dimensions.get(d);
      point = point.with(dim, toAmount(logs[d], false));
      for (int i = 0; i < levels.length; i++) {
        upper[i] = upper[i].with(dim, toAmount(logs[d] + residualQuantiles[d][i], true));
      }
    }
    TreeMap<Double, Resources> q = new TreeMap<>();
    for (int i = 0; i < levels.length; i++) {
      q.put(levels[i], upper[i]);
    }
    return new Demand(point, q, model, calibrationSize < MIN_CALIBRATION);
  }

  /** Back from log1p space to a non-negative amount; upper bounds round up so they stay bounds. */
  static long toAmount(double log, boolean roundUp) {
    double v = Math.expm1(Math.min(log, 43.0)); // e^43 ~ 4.7e18 < Long.MAX_VALUE
    if (!(v > 0)) {
      return 0;
    }
    return roundUp ? (long) Math.ceil(v) : Math.round(v);
  }

  String label() {
    return label;
  }

  Model<Regressor> model() {
    return model;
  }

  String[] featureNames() {
    return featureNames.clone();
  }

  double[] levels() {
    return levels.clone();
  }

  double[] offsets() {
    return offsets.clone();
  }

  double[][] residualQuantiles() {
    double[][] out = new double[residualQuantiles.length][];
    for (int d = 0; d < out.length; d++) {
      out[d] = residualQuantiles[d].clone();
    }
    return out;
  }

  List<Dimension> dimensions() {
    return dimensions;
  }

  int trainedOn() {
    return trainedOn;
  }

  int calibrationSize() {
    return calibrationSize;
  }

  long version() {
    return version;
  }
}
