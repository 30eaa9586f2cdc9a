package dev.penumbra.core.predict;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Demand;
import dev.penumbra.core.Quantiles;
import dev.penumbra.core.Resources.Dimension;
import dev.penumbra.core.Resources;
import dev.penumbra.core.feedback.ErrorStats;
import dev.penumbra.core.feedback.ErrorTracker;
import java.util.Arrays;
import java.util.TreeMap;

/**
 * The simplest predictor: ignores the features and predicts from the empirical distribution of the last
 * {@code window} actuals, per dimension. The point is the median; the upper quantiles at 0.5, 0.9 and 0.99
 * are the empirical quantiles ({@code sorted[ceil(q * n) - 1]}). With no actuals yet it predicts zero.
 * Demands are {@link Demand#lowConfidence() low-confidence} while fewer than {@code minSamples} actuals were
 * seen. Useful for cold start (before a feature model is trained) and as a baseline. Thread-safe.
 */
public final class RunningQuantilePredictor implements Predictor {

  /** The quantile levels every demand carries. */
  public static final double[] LEVELS = {0.5, 0.9, 0.99};

  private final String name;
  private final int minSamples;
  private final PredictionScorer scorer;
  private final long[][] ring;
  private int next;
  private int size;
  private long total;
  private Demand cached;

  /**
   * @param name the model's name
   * @param window how many recent actuals to keep (>= 1)
   * @param minSamples actuals needed before demands are no longer low-confidence (>= 1)
   * @param tracker where its prediction errors are recorded
   */
  public RunningQuantilePredictor(String name, int window, int minSamples, ErrorTracker tracker) {
    Checks.atLeast("window", window, 1);
    Checks.atLeast("minSamples", minSamples, 1);
    this.scorer = new PredictionScorer(name, tracker);
    this.name = name;
    this.minSamples = minSamples;
    this.ring = new long[Dimension.values().length][window];
  }

  /** A predictor over the last 1000 actuals, confident from 20 on, with its own error tracker. */
  public RunningQuantilePredictor(String name) {
    this(name, 1000, 20, new ErrorTracker());
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Demand predict(Features features) {
    if (features == null) {
      throw new IllegalArgumentException("features are missing");
    }
    Demand d = current();
    scorer.remember(features, d);
    return d;
  }

  @Override
  public void learn(Features features, Resources actual) {
    if (features == null) {
      throw new IllegalArgumentException("features are missing");
    }
    if (actual == null) {
      throw new IllegalArgumentException("actual is missing");
    }
    scorer.score(features, actual, this::current);
    synchronized (this) {
      for (Dimension d : Dimension.values()) {
        ring[d.ordinal()][next] = actual.get(d);
      }
      next = (next + 1) % ring[0].length;
      size = Math.min(size + 1, ring[0].length);
      total++;
      cached = null;
    }
  }

  /** How many actuals were learned in all. */
  public synchronized long samples() {
    return total;
  }

  @Override
  public ErrorStats errors(Dimension dimension) {
    return scorer.stats(dimension);
  }

  private synchronized Demand current() {
    if (cached == null) {
      cached = compute();
    }
    return cached;
  }

  private Demand compute() {
    boolean low = total < minSamples;
    if (size == 0) {
      TreeMap<Double, Resources> q = new TreeMap<>();
      for (double level : LEVELS) {
        q.put(level, Resources.ZERO);
      }
      return new Demand(Resources.ZERO, q, name, true);
    }
    Resources[] atLevel = new Resources[LEVELS.length];
    Arrays.fill(atLevel, Resources.ZERO);
    Resources point = Resources.ZERO;
    for (Dimension d : Dimension.values()) {
      long[] sorted = Arrays.copyOf(ring[d.ordinal()], size);
      Arrays.sort(sorted);
      point = point.with(d, Quantiles.ofSorted(sorted, 0.5));
      for (int i = 0; i < LEVELS.length; i++) {
        atLevel[i] = atLevel[i].with(d, Quantiles.ofSorted(sorted, LEVELS[i]));
      }
    }
    TreeMap<Double, Resources> q = new TreeMap<>();
    for (int i = 0; i < LEVELS.length; i++) {
      q.put(LEVELS[i], atLevel[i]);
    }
    return new Demand(point, q, name, low);
  }
}
