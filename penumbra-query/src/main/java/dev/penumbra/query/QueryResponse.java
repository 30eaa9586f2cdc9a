package dev.penumbra.query;

import java.util.List;
import java.util.Objects;

/**
 * The answer to a {@link QueryRequest}: the result (empty when the query did not complete; see the report's
 * outcome) and the report of what Penumbra predicted, reserved and measured.
 *
 * @param columns the result's column names
 * @param rows the first rows (at most the gateway's row cap), values as JDBC returns them
 * @param rowCount all rows of the result
 * @param report what happened on the way
 */
public record QueryResponse(List<String> columns, List<List<Object>> rows, long rowCount, QueryReport report) {

  public QueryResponse {
    columns = List.copyOf(columns);
    rows = List.copyOf(rows);
    Objects.requireNonNull(report, "report");
  }
}
