package dev.penumbra.query;

import dev.penumbra.core.Checks;

/**
 * What one run of a query used — measured by an engine (DuckDB profiling, PostgreSQL EXPLAIN ANALYZE) for the
 * primary and the shadow, or predicted for the full query. All amounts are >= 0; {@code 0} means "not
 * measured" only where the field's doc says so.
 *
 * @param cpuNanos CPU time summed over the engine's threads
 * @param peakMemoryBytes the engine's peak buffer/working memory for this query
 * @param wallNanos elapsed time from submission to the last row
 * @param bytesRead bytes read from storage (0 when the engine does not report it)
 * @param rowsScanned rows read from base tables
 * @param rowsReturned rows in the result
 * @param spilledBytes bytes written to temporary files because memory did not suffice
 */
public record QueryProfile(
    long cpuNanos,
    long peakMemoryBytes,
    long wallNanos,
    long bytesRead,
    long rowsScanned,
    long rowsReturned,
    long spilledBytes) {

  public QueryProfile {
    Checks.atLeast("cpuNanos", cpuNanos, 0L);
    Checks.atLeast("peakMemoryBytes", peakMemoryBytes, 0L);
    Checks.atLeast("wallNanos", wallNanos, 0L);
    Checks.atLeast("bytesRead", bytesRead, 0L);
    Checks.atLeast("rowsScanned", rowsScanned, 0L);
    Checks.atLeast("rowsReturned", rowsReturned, 0L);
    Checks.atLeast("spilledBytes", spilledBytes, 0L);
  }
}
