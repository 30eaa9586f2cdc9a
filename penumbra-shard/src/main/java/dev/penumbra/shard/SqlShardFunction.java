package dev.penumbra.shard;

import dev.penumbra.core.Checks;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Analytic SQL on a shard's keys, on a DuckDB instance of its own (one per backend: DuckDB's threads and memory
 * limit are per instance) with the data attached read-only. The query's {@code {keys}} placeholder becomes the
 * shard's key predicate on {@code keyColumn}. The query must return group columns first, then mergeable
 * aggregates (sums and counts); {@link #merge} adds the partial results up per group.
 */
public final class SqlShardFunction implements ShardFunction, AutoCloseable {

  private final Connection connection;
  private final String query;
  private final String keyColumn;

  /**
   * @param database a DuckDB database file, attached read-only as {@code db} and used as the default schema
   * @param query SQL containing {@code {keys}}
   * @param keyColumn the integer column shards are cut on
   * @param threads DuckDB threads of this instance (>= 1)
   */
  public SqlShardFunction(String database, String query, String keyColumn, int threads) throws SQLException {
    if (query == null || !query.contains("{keys}")) {
      throw new IllegalArgumentException("shard query must contain {keys}, was '" + query + "'");
    }
    Checks.atLeast("threads", threads, 1);
    Subset.of(KeyRange.of(0, 1)).sqlPredicate(keyColumn);
    this.query = query;
    this.keyColumn = keyColumn;
    this.connection = DriverManager.getConnection("jdbc:duckdb:");
    try (Statement s = connection.createStatement()) {
      s.execute("SET autoinstall_known_extensions=false");
      s.execute("SET threads=" + threads);
      s.execute("ATTACH '" + database.replace("'", "''") + "' AS db (READ_ONLY)");
      s.execute("USE db");
    }
  }

  @Override
  public synchronized Object apply(Shard shard) throws SQLException {
    return run(connection, query.replace("{keys}", shard.subset().sqlPredicate(keyColumn)));
  }

  /** Runs the query over all keys at once (the unsharded answer). */
  public synchronized List<List<Object>> unsharded() throws SQLException {
    return run(connection, query.replace("{keys}", "TRUE"));
  }

  static List<List<Object>> run(Connection c, String sql) throws SQLException {
    List<List<Object>> rows = new ArrayList<>();
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      ResultSetMetaData md = rs.getMetaData();
      while (rs.next()) {
        List<Object> row = new ArrayList<>();
        for (int i = 1; i <= md.getColumnCount(); i++) {
          row.add(rs.getObject(i));
        }
        rows.add(row);
      }
    }
    return rows;
  }

  /**
   * Adds partial results up: rows with equal first {@code groupColumns} values are one group; every other column
   * is summed exactly (integers as longs, decimals as BigDecimal). Groups come out sorted by their text form.
   */
  public static List<List<Object>> merge(List<List<List<Object>>> partials, int groupColumns) {
    Map<String, List<Object>> groups = new TreeMap<>();
    for (List<List<Object>> part : partials) {
      for (List<Object> row : part) {
        String key = Arrays.toString(row.subList(0, groupColumns).toArray());
        List<Object> acc = groups.get(key);
        if (acc == null) {
          groups.put(key, new ArrayList<>(row));
          continue;
        }
        for (int i = groupColumns; i < row.size(); i++) {
          acc.set(i, add(acc.get(i), row.get(i)));
        }
      }
    }
    return List.copyOf(groups.values());
  }

  /** Sorts rows the way {@link #merge} does, for comparing with an unsharded answer. */
  public static List<List<Object>> sorted(List<List<Object>> rows, int groupColumns) {
    return merge(List.of(rows), groupColumns);
  }

  private static Object add(Object a, Object b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    if (a instanceof BigDecimal x && b instanceof BigDecimal y) {
      return x.add(y);
    }
    if (a instanceof Long || a instanceof Integer || a instanceof java.math.BigInteger) {
      return new java.math.BigInteger(a.toString()).add(new java.math.BigInteger(b.toString())).longValueExact();
    }
    throw new IllegalArgumentException("cannot merge non-exact aggregate values " + a + " and " + b
        + " (" + a.getClass().getSimpleName() + "); use sums and counts of integers or decimals");
  }

  @Override
  public synchronized void close() throws SQLException {
    connection.close();
  }
}
