package dev.penumbra.query.engine;

import dev.penumbra.query.QueryProfile;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The result of one query run on a primary engine.
 *
 * @param outcome what happened
 * @param columns the result's column names (empty when the query did not complete)
 * @param rows the first rows of the result, at most the engine's row cap, values as JDBC returns them
 * @param rowCount all rows of the result, also those past the cap
 * @param profile the measured use (for failed runs: what was measured up to the failure, often only wall
 *     time)
 * @param error the engine's message when the outcome is FAILED_MEMORY, TIMED_OUT or SQL_ERROR
 */
public record QueryResult(
    Outcome outcome,
    List<String> columns,
    List<List<Object>> rows,
    long rowCount,
    QueryProfile profile,
    Optional<String> error) {

  public QueryResult {
    Objects.requireNonNull(outcome, "outcome");
    columns = List.copyOf(columns);
    rows = List.copyOf(rows);
    Objects.requireNonNull(profile, "profile");
    Objects.requireNonNull(error, "error");
    if (rowCount < rows.size()) {
      throw new IllegalArgumentException("rowCount must be >= rows.size() = " + rows.size() + ", was " + rowCount);
    }
  }

  /** True for COMPLETED and SPILLED: the rows are the query's answer. */
  public boolean succeeded() {
    return outcome == Outcome.COMPLETED || outcome == Outcome.SPILLED;
  }

  static QueryResult failed(Outcome outcome, long wallNanos, String message) {
    return new QueryResult(outcome, List.of(), List.of(), 0, new QueryProfile(0, 0, wallNanos, 0, 0, 0, 0),
        Optional.of(message == null ? outcome.name() : message));
  }
}
