package dev.penumbra.query.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.penumbra.query.QueryProfile;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.duckdb.DuckDBConnection;
import org.duckdb.ProfilerPrintFormat;

/**
 * The one definition of what a DuckDB query used, shared by the primary engine and the shadow so that
 * predictions and actuals measure the same thing (docs/query-shadowing.md, "Memory"):
 *
 * <ul>
 *   <li>cpuNanos: {@code query.cpu_time} (seconds, summed over DuckDB's threads)
 *   <li>peakMemoryBytes: {@code system.peak_buffer_memory} minus the buffer memory resident when the query
 *       started ({@link #residentBytes}). That is what {@code memory_limit} bounds: the buffer manager's
 *       memory, the query's operators and the table pages it reads alike. On the primary every query starts on
 *       a freshly attached database, so nothing is resident and the whole peak counts; on an in-memory sample
 *       the table data is resident throughout and only the query's own growth counts.
 *   <li>wallNanos: measured by the caller around execution and fetching
 *   <li>bytesRead: {@code io.total_bytes_read}; rowsScanned: {@code query.total_rows_scanned}; spilledBytes:
 *       {@code system.peak_temp_dir_size}
 * </ul>
 */
public final class DuckDbProfiles {
  private static final ObjectMapper JSON = new ObjectMapper();

  private DuckDbProfiles() {}

  /** Buffer memory DuckDB holds right now on the connection's database instance (all tags). */
  public static long residentBytes(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()")) {
      return r.next() ? Math.max(0, r.getLong(1)) : 0;
    }
  }

  /** DuckDB's JSON profile of the connection's last query (an empty object when there is none). */
  public static JsonNode lastProfile(Connection c) throws SQLException {
    String text = c.unwrap(DuckDBConnection.class).getProfilingInformation(ProfilerPrintFormat.JSON);
    try {
      JsonNode node = JSON.readTree(text == null ? "{}" : text);
      return node == null || node.has("result") && !node.has("query") ? JSON.createObjectNode() : node;
    } catch (Exception e) {
      return JSON.createObjectNode();
    }
  }

  /** The measurements in a profile, with memory counted above {@code residentBefore}. */
  public static QueryProfile of(JsonNode json, long residentBefore, long wallNanos, long rowsReturned) {
    JsonNode q = json.path("query");
    JsonNode sys = json.path("system");
    return new QueryProfile(
        seconds(q.path("cpu_time")),
        Math.max(0, nonNegative(sys.path("peak_buffer_memory")) - residentBefore),
        wallNanos,
        nonNegative(json.path("io").path("total_bytes_read")),
        nonNegative(q.path("total_rows_scanned")),
        rowsReturned,
        nonNegative(sys.path("peak_temp_dir_size")));
  }

  private static long seconds(JsonNode n) {
    return n.isNumber() ? Math.max(0, Math.round(n.asDouble() * 1e9)) : 0;
  }

  private static long nonNegative(JsonNode n) {
    return n.isNumber() ? Math.max(0, n.asLong()) : 0;
  }
}
