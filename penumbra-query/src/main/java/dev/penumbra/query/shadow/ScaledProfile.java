package dev.penumbra.query.shadow;

/**
 * The shadow's sample run scaled to the full data operator by operator (see {@link OperatorScaling}): each
 * operator's measured time and held memory grown by its own law, summed.
 *
 * @param cpuNanos the full query's CPU time: the sample's measured CPU time x (sum of the operators' scaled times
 *     / sum of their sample times)
 * @param workingBytes the full query's working memory: the sample's measured peak memory x the growth of what the
 *     materializing operators hold (hash tables, sort and window inputs, top-N heaps)
 * @param scanBytes bytes of the columns the full query's table scans read (decompressed; rows scanned x the
 *     scan's row width), each scan grown by its own law
 * @param cpuGrowth full over sample operator time
 * @param memoryGrowth full over sample held bytes (1 when nothing is held)
 * @param scanShare share of the sample's operator time in table scans and filters; likewise the others: the
 *     operator mix
 * @param joinShare share in joins
 * @param aggregateShare share in hash aggregates
 * @param sortShare share in full sorts
 * @param windowShare share in window operators
 * @param boundedShare share in top-N and LIMIT (bounded by N)
 * @param sampleRows rows the sample's scans read
 * @param fallback true when a materializing operator saw no sample rows (a very selective predicate): its size
 *     came from the optimizer's estimate, and the uncertainty is wider
 * @param pageShare share of {@code scanBytes} the primary engine counts in a run's measured memory: DuckDB's buffer
 *     pool holds the pages it reads (compressed, about a quarter of the column data: 0.25); PostgreSQL's measured
 *     memory is its sort and hash memory only (0)
 * @param resultRows rows the full query returns: the sample's result rows x the growth of the root operator; each
 *     is fetched by the client, which the operators' times do not include
 * @param cutOff true when the sample run ran out of its cap: {@code cpuNanos} is then the sample's time (at least what
 *     it ran until it was cancelled) x the growth its plan implies, a floor for the prediction; the operator mix and
 *     memory are unknown
 */
public record ScaledProfile(
    double cpuNanos,
    double workingBytes,
    double scanBytes,
    double cpuGrowth,
    double memoryGrowth,
    double scanShare,
    double joinShare,
    double aggregateShare,
    double sortShare,
    double windowShare,
    double boundedShare,
    double sampleRows,
    boolean fallback,
    double pageShare,
    double resultRows,
    boolean cutOff) {

  /** A profile of a run that completed. */
  public ScaledProfile(double cpuNanos, double workingBytes, double scanBytes, double cpuGrowth, double memoryGrowth,
      double scanShare, double joinShare, double aggregateShare, double sortShare, double windowShare,
      double boundedShare, double sampleRows, boolean fallback, double pageShare, double resultRows) {
    this(cpuNanos, workingBytes, scanBytes, cpuGrowth, memoryGrowth, scanShare, joinShare, aggregateShare, sortShare,
        windowShare, boundedShare, sampleRows, fallback, pageShare, resultRows, false);
  }
}
