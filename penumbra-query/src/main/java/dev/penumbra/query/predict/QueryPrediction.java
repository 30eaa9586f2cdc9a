package dev.penumbra.query.predict;

import dev.penumbra.core.Demand;
import dev.penumbra.core.Resources;
import java.util.TreeMap;

/**
 * What a full query is predicted to need.
 *
 * @param fingerprint the query's {@link Fingerprint}
 * @param memoryBytes peak working memory
 * @param cpuNanos CPU time summed over threads
 * @param wallNanos elapsed time, adjusted for the load it will run under
 * @param bytesRead bytes read from storage
 * @param tier which tier made it
 * @param lowConfidence true while the tier had too little history to trust its quantiles
 */
public record QueryPrediction(
    String fingerprint,
    Estimate memoryBytes,
    Estimate cpuNanos,
    Estimate wallNanos,
    Estimate bytesRead,
    Tier tier,
    boolean lowConfidence) {

  /** Which prediction tier answered. */
  public enum Tier {
    /** Recent actuals of the same fingerprint. */
    HISTORY,
    /** The gradient-boosted model on shadow and plan features. */
    MODEL,
    /** The sample's measurements scaled up by the inverse sampling fraction. */
    SCALE_UP,
    /**
     * Neither a sample nor a history (a new shape planned only, the shadow budget being spent): the memory is the
     * baseline's own slot, the rest the plan's guess.
     */
    BASELINE
  }

  /**
   * The reservation at quantile {@code level}: memory at that level, and CPU as average cores (CPU time at that
   * level over the point wall time, in millicores, at least 1 millicore).
   */
  public Resources at(double level) {
    return Resources.of(millicores(cpuNanos.at(level)), memoryBytes.at(level));
  }

  /** The prediction as a core {@link Demand} (memory and average cores) at levels 0.5, 0.9 and 0.99. */
  public Demand demand() {
    TreeMap<Double, Resources> q = new TreeMap<>();
    for (double level : new double[] {0.5, 0.9, 0.99}) {
      q.put(level, at(level));
    }
    return new Demand(Resources.of(millicores(cpuNanos.point()), memoryBytes.point()), q,
        "query/" + tier.name().toLowerCase(java.util.Locale.ROOT), lowConfidence);
  }

  private long millicores(long cpu) {
    double wall = Math.max(1, wallNanos.point());
    return Math.max(1, (long) Math.ceil(1000.0 * cpu / wall));
  }
}
