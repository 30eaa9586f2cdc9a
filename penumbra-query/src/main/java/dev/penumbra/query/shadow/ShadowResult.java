package dev.penumbra.query.shadow;

import dev.penumbra.query.QueryProfile;
import java.util.Set;

/**
 * What the shadow learned about one query: its plan on the primary and its measured run on a sample.
 *
 * @param sql the query as submitted
 * @param fraction the replica's sampling fraction
 * @param effectiveFraction the fraction the query's result and work shrink by on the sample: {@code
 *     fraction^g}, g = distinct hash groups among the tables it touches (see {@link SamplingRule})
 * @param tables the base tables the query touches
 * @param plan the full query's plan features on the primary
 * @param sample the measured run on the sample; null when the run was cut off or skipped
 * @param cutOff true when the sample run exceeded the shadow timeout and was cancelled
 * @param sampleScanBytes bytes the sample's table scans produced (decompressed column data)
 * @param scanScale the factor from the sample's rows scanned to the full query's: Σ rows_scanned(t) /
 *     fraction(t) over the scans, divided by Σ rows_scanned (1/effectiveFraction when nothing was scanned)
 * @param memoryScale the factor from the sample's working memory to the full query's: the largest growth of
 *     any materializing operator's input (hash-join build side, aggregate/sort/window input); 1 when the query
 *     only streams
 * @param shadowWallNanos elapsed time of the whole shadow (plan + sample run), its own cost
 * @param shadowCpuNanos CPU the shadow used: the plan's and the calling thread's CPU time, or the sample
 *     engine's CPU time when larger
 * @param skipped true when only the plan was made and the sample run skipped ({@link ShadowEngine#plan})
 * @param operators the sample's profile scaled to the full data per operator; null without a sample run or when
 *     DuckDB answered it without operators
 */
public record ShadowResult(
    String sql,
    double fraction,
    double effectiveFraction,
    Set<String> tables,
    PlanFeatures plan,
    QueryProfile sample,
    boolean cutOff,
    long sampleScanBytes,
    double scanScale,
    double memoryScale,
    long shadowWallNanos,
    long shadowCpuNanos,
    boolean skipped,
    ScaledProfile operators) {

  public ShadowResult {
    tables = Set.copyOf(tables);
    if (cutOff && skipped) {
      throw new IllegalArgumentException("a shadow cannot be both cut off and skipped");
    }
    if ((cutOff || skipped) != (sample == null)) {
      throw new IllegalArgumentException("sample must be null exactly when cut off or skipped, cutOff was " + cutOff
          + ", skipped " + skipped);
    }
    if (sample == null && operators != null) {
      throw new IllegalArgumentException("a shadow without a sample run has no scaled operators");
    }
  }

  /** A shadow without per-operator scaling. */
  public ShadowResult(String sql, double fraction, double effectiveFraction, Set<String> tables, PlanFeatures plan,
      QueryProfile sample, boolean cutOff, long sampleScanBytes, double scanScale, double memoryScale,
      long shadowWallNanos, long shadowCpuNanos, boolean skipped) {
    this(sql, fraction, effectiveFraction, tables, plan, sample, cutOff, sampleScanBytes, scanScale, memoryScale,
        shadowWallNanos, shadowCpuNanos, skipped, null);
  }

  /** A shadow whose sample run was made (or cut off). */
  public ShadowResult(String sql, double fraction, double effectiveFraction, Set<String> tables, PlanFeatures plan,
      QueryProfile sample, boolean cutOff, long sampleScanBytes, double scanScale, double memoryScale,
      long shadowWallNanos, long shadowCpuNanos) {
    this(sql, fraction, effectiveFraction, tables, plan, sample, cutOff, sampleScanBytes, scanScale, memoryScale,
        shadowWallNanos, shadowCpuNanos, false, null);
  }
}
