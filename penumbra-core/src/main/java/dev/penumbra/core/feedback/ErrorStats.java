package dev.penumbra.core.feedback;

/**
 * How well one model has predicted, over its most recent scored predictions.
 *
 * @param model the model's name
 * @param count scored predictions in the window
 * @param total scored predictions ever
 * @param mape mean absolute percentage error of the point, over predictions whose actual was not zero
 * @param underPredictionRate share of predictions whose point was below the actual
 * @param exceedanceRate share of predictions whose upper bound (what was reserved) was below the actual
 * @param bias sum(point - actual) / sum(actual): positive over-predicts, negative under-predicts
 * @param qErrorMedian median of max(point/actual, actual/point)
 * @param qErrorP90 90th percentile of the q-error
 */
public record ErrorStats(
    String model,
    int count,
    long total,
    double mape,
    double underPredictionRate,
    double exceedanceRate,
    double bias,
    double qErrorMedian,
    double qErrorP90) {

  /** The statistics of a model nothing has been scored for yet. */
  public static ErrorStats empty(String model) {
    return new ErrorStats(model, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
  }
}
