package dev.penumbra.ml;

import java.util.List;

/**
 * A {@link TreePredictor}'s fitted state as it is kept across restarts ({@link TreePredictor#save()},
 * {@link TreePredictor#restore}): the model in Tribuo's own protobuf format (not Java serialization), its calibration,
 * the feature schema it was trained on, and the samples it learns from, so a restarted predictor answers with the same
 * model at once and retrains on the same window later. Plain values only, for any JSON or binary writer.
 *
 * @param formatVersion {@link #FORMAT_VERSION} when written; another one is refused
 * @param name the predictor's name
 * @param backend the learner ({@code XGBOOST} or {@code CART})
 * @param features the feature schema, sorted: the names every prediction must give
 * @param dimensions the resource dimensions the model predicts ({@code cpu}, {@code memory} ...)
 * @param levels the quantile levels of the calibration
 * @param offsets per dimension, the mean log1p target the model was centred on
 * @param residualQuantiles per dimension and level, the held-out residual quantile
 * @param label the model's label in demands ("xgboost", "cart")
 * @param trainedOn samples the model was fitted on
 * @param calibrationSize samples its quantiles were calibrated on
 * @param version the model's version (trainings so far)
 * @param tribuo Tribuo's {@code ModelProto} of the fitted model
 * @param sampleFeatures the learned samples' features, each in {@code features} order, oldest first
 * @param sampleActuals the same samples' actual use, each in {@code Resources.Dimension} order
 * @param sinceTrain samples learned after the model's training
 */
public record SavedModel(int formatVersion, String name, String backend, List<String> features,
    List<String> dimensions, double[] levels, double[] offsets, double[][] residualQuantiles, String label,
    int trainedOn, int calibrationSize, long version, byte[] tribuo, double[][] sampleFeatures,
    long[][] sampleActuals, int sinceTrain) {

  /** The format this version writes and reads. */
  public static final int FORMAT_VERSION = 1;
}
