package dev.penumbra.query.shadow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.penumbra.query.QueryProfile;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import org.duckdb.DuckDBConnection;
import org.duckdb.ProfilerPrintFormat;

/**
 * Runs a query on a DuckDB connection with profiling and reads its measurements from DuckDB's JSON profile:
 *
 * <ul>
 *   <li>cpuNanos: {@code query.cpu_time} (seconds, summed over DuckDB's threads)
 *   <li>peakMemoryBytes: {@code system.total_memory_allocated} — memory the query's operators allocated through
 *       the buffer manager (hash tables, sort runs); DuckDB's {@code peak_buffer_memory} is not used because it
 *       includes table data cached by the database
 *   <li>wallNanos: measured around execute and fetching every row
 *   <li>bytesRead: {@code io.total_bytes_read}; rowsScanned: {@code query.total_rows_scanned}; rowsReturned:
 *       rows fetched; spilledBytes: {@code system.peak_temp_dir_size}
 * </ul>
 *
 * DuckDB answers some queries (e.g. {@code count(*)} of a table) from metadata without a profile; then only
 * the wall time and rows returned are non-zero.
 */
public final class DuckDbProfiler {
  private DuckDbProfiler() {}

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A profiled run: the measurements and DuckDB's JSON profile (missing node when there was none). */
  record Run(QueryProfile profile, JsonNode json) {}

  /** Enables profiling (no printed output) on a DuckDB connection; later queries on it are profiled. */
  public static void enableProfiling(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA enable_profiling='no_output'");
    }
  }

  /** Profiles one query on {@code connection} (a DuckDB connection) and returns what it used. */
  public static QueryProfile measure(Connection connection, String sql) throws SQLException {
    enableProfiling(connection);
    try (Statement s = connection.createStatement()) {
      return run(connection, s, sql).profile();
    }
  }

  static Run run(Connection c, Statement s, String sql) throws SQLException {
    long t0 = System.nanoTime();
    long rows = 0;
    try (ResultSet r = s.executeQuery(sql)) {
      while (r.next()) {
        rows++;
      }
    }
    long wall = System.nanoTime() - t0;
    JsonNode json = profileJson(c);
    JsonNode q = json.path("query");
    JsonNode sys = json.path("system");
    QueryProfile p = new QueryProfile(
        seconds(q.path("cpu_time")),
        nonNegative(sys.path("total_memory_allocated")),
        wall,
        nonNegative(json.path("io").path("total_bytes_read")),
        nonNegative(q.path("total_rows_scanned")),
        rows,
        nonNegative(sys.path("peak_temp_dir_size")));
    return new Run(p, json);
  }

  static JsonNode profileJson(Connection c) throws SQLException {
    String text = c.unwrap(DuckDBConnection.class).getProfilingInformation(ProfilerPrintFormat.JSON);
    try {
      JsonNode node = JSON.readTree(text == null ? "{}" : text);
      return node == null || node.has("result") && !node.has("query") ? JSON.createObjectNode() : node;
    } catch (Exception e) {
      return JSON.createObjectNode();
    }
  }

  static JsonNode parse(String json) throws SQLException {
    try {
      return JSON.readTree(json);
    } catch (Exception e) {
      throw new SQLException("cannot parse DuckDB JSON output: " + e.getMessage(), e);
    }
  }

  private static long seconds(JsonNode n) {
    return n.isNumber() ? Math.max(0, Math.round(n.asDouble() * 1e9)) : 0;
  }

  private static long nonNegative(JsonNode n) {
    return n.isNumber() ? Math.max(0, n.asLong()) : 0;
  }

  /** "memory.main.lineitem" → "lineitem". */
  static String tableName(String qualified) {
    int dot = qualified.lastIndexOf('.');
    return (dot < 0 ? qualified : qualified.substring(dot + 1)).replace("\"", "").toLowerCase(Locale.ROOT);
  }
}
