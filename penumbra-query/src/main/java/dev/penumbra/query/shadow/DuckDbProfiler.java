package dev.penumbra.query.shadow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.penumbra.query.QueryProfile;
import dev.penumbra.query.engine.DuckDbProfiles;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;

/**
 * Runs a query on a DuckDB connection with profiling and reads its measurements with {@link DuckDbProfiles},
 * the definition the primary engine uses too (memory: peak buffer memory above what was resident at the start).
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
      return run(connection, s, sql, DuckDbProfiles.residentBytes(connection)).profile();
    }
  }

  /** Runs {@code sql}, counting memory above {@code resident} (the buffer memory held before it started). */
  static Run run(Connection c, Statement s, String sql, long resident) throws SQLException {
    long t0 = System.nanoTime();
    long rows = 0;
    try (ResultSet r = s.executeQuery(sql)) {
      while (r.next()) {
        rows++;
      }
    }
    long wall = System.nanoTime() - t0;
    JsonNode json = DuckDbProfiles.lastProfile(c);
    return new Run(DuckDbProfiles.of(json, resident, wall, rows), json);
  }

  static JsonNode parse(String json) throws SQLException {
    try {
      return JSON.readTree(json);
    } catch (Exception e) {
      throw new SQLException("cannot parse DuckDB JSON output: " + e.getMessage(), e);
    }
  }

  /** "memory.main.lineitem" → "lineitem". */
  static String tableName(String qualified) {
    int dot = qualified.lastIndexOf('.');
    return (dot < 0 ? qualified : qualified.substring(dot + 1)).replace("\"", "").toLowerCase(Locale.ROOT);
  }
}
