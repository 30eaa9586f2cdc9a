package dev.penumbra.core.predict;

import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import dev.penumbra.core.feedback.ErrorStats;

/**
 * A feature-based demand model: given what is known about a piece of work before it runs ({@link Features}),
 * predicts the {@link Resources} it will need, with upper quantiles; told what it actually used, learns.
 *
 * <p><b>Scoring.</b> Every actual is scored before it is learned. {@link #learn} looks up the most recent
 * {@link #predict} made for equal features (a bounded memory of recent predictions) and scores that demand;
 * when there is none (never predicted, or forgotten), it scores what the predictor predicts for those features
 * at that moment, before learning them ("test, then train"). Scores go to an
 * {@link dev.penumbra.core.feedback.ErrorTracker} per resource dimension under the model name
 * {@code name() + "/" + dimension.label()}, e.g. {@code "query/memory"}; {@link #errors} reads them back.
 *
 * <p>Implementations are thread-safe: predictions and learning may come from many threads.
 */
public interface Predictor {

  /** The model's name, used in {@link Demand#model()} and as the prefix of its error statistics. */
  String name();

  /**
   * The predicted demand of work described by {@code features}. Never blocks on training. While the model has
   * too little history the demand is marked {@link Demand#lowConfidence()}.
   *
   * @throws IllegalArgumentException when {@code features} is null or does not fit the model (see the
   *     implementation for its rule on feature names)
   */
  Demand predict(Features features);

  /**
   * Records what work described by {@code features} actually used: scores the prediction made for it (see the
   * class comment), then adds it to the history the model learns from.
   *
   * @throws IllegalArgumentException when an argument is null or the features do not fit the model; nothing is
   *     scored or learned then
   */
  void learn(Features features, Resources actual);

  /**
   * Whether {@link #predict} answers from a fitted model: false while a learning model still falls back to a
   * simpler rule before its first fit, so a caller with a better fallback of its own can use that instead.
   */
  default boolean fitted() {
    return true;
  }

  /** The error statistics of this predictor's scored predictions in one resource dimension. */
  ErrorStats errors(Resources.Dimension dimension);
}
