package dev.penumbra.core.predict;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.core.feedback.ErrorStats;
import dev.penumbra.core.feedback.ErrorTracker;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The scoring half of a {@link Predictor}: remembers the most recent predictions by their features and, when
 * an actual arrives, records the error of the matching prediction in an {@link ErrorTracker}. Predictor
 * implementations delegate to it so that every predictor scores the same way. Thread-safe.
 *
 * <p>Rules: the remembered prediction for equal features is used and then forgotten (an actual scores the
 * prediction made for it once); without one, the caller's current prediction is scored. A dimension is scored
 * from the first actual that has it non-zero on (dimensions a workload never uses are not scored). The upper
 * bound scored is {@link Demand#at} the scoring level (default 0.9).
 */
public final class PredictionScorer {

  public static final double DEFAULT_LEVEL = 0.9;
  public static final int DEFAULT_MEMORY = 4096;

  private final String model;
  private final ErrorTracker tracker;
  private final double level;
  private final Map<Features, Demand> recent;
  private final Set<Dimension> seen = EnumSet.noneOf(Dimension.class);

  /**
   * @param model the predictor's name (statistics go under {@code model + "/" + dimension label})
   * @param tracker where scores are recorded (may be shared between predictors)
   * @param level the quantile whose amount counts as the upper bound, in (0, 1)
   * @param memory how many recent predictions to remember (>= 1); older ones are forgotten first
   */
  public PredictionScorer(String model, ErrorTracker tracker, double level, int memory) {
    if (model == null || model.isBlank()) {
      throw new IllegalArgumentException("model name must not be blank, was '" + model + "'");
    }
    if (tracker == null) {
      throw new IllegalArgumentException("error tracker is missing");
    }
    if (!(level > 0 && level < 1)) {
      throw new IllegalArgumentException("scoring level must be in (0, 1), was " + level);
    }
    Checks.atLeast("prediction memory", memory, 1);
    this.model = model;
    this.tracker = tracker;
    this.level = level;
    this.recent = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Features, Demand> eldest) {
        return size() > memory;
      }
    };
  }

  public PredictionScorer(String model, ErrorTracker tracker) {
    this(model, tracker, DEFAULT_LEVEL, DEFAULT_MEMORY);
  }

  /** The name statistics of {@code model} in {@code dimension} are kept under, e.g. "query/memory". */
  public static String statsName(String model, Dimension dimension) {
    return ErrorTracker.name(model, dimension);
  }

  /** Remembers a prediction made for {@code features} so that its actual can score it. */
  public synchronized void remember(Features features, Demand demand) {
    recent.put(features, demand);
  }

  /**
   * Scores {@code actual} against the remembered prediction for {@code features}, or against
   * {@code current.get()} when none is remembered.
   *
   * @return the demand that was scored
   */
  public Demand score(Features features, Resources actual, Supplier<Demand> current) {
    Demand predicted;
    Set<Dimension> dims;
    synchronized (this) {
      predicted = recent.remove(features);
      for (Dimension d : Dimension.values()) {
        if (actual.get(d) > 0) {
          seen.add(d);
        }
      }
      dims = EnumSet.copyOf(seen);
    }
    if (predicted == null) {
      predicted = current.get();
    }
    Resources upper = predicted.at(level);
    for (Dimension d : dims) {
      tracker.record(statsName(model, d), predicted.point().get(d), upper.get(d), actual.get(d));
    }
    return predicted;
  }

  /** The statistics of this model's scored predictions in one dimension. */
  public ErrorStats stats(Dimension dimension) {
    return tracker.stats(statsName(model, dimension));
  }
}
