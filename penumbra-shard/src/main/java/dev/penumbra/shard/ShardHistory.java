package dev.penumbra.shard;

import dev.penumbra.core.Checks;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;

/**
 * The history of finished shards in a real database: embedded DuckDB by default ({@code jdbc:duckdb:} in memory or
 * {@code jdbc:duckdb:/path/file.db}), PostgreSQL when given a {@code jdbc:postgresql:} URL; one JDBC schema for both
 * (table {@code shard_profile}).
 *
 * <p>{@link #estimate} answers from the most similar level that has at least {@code minSamples} profiles: same request
 * type, function and unit size (within a factor of two either way, by {@code floor(log2(unit keys))}), then same
 * type and function, then same type; with none, the prior. Quantiles are SQL's {@code percentile_cont} over
 * milliseconds per key, reused per (type, function, size bucket) until {@value #REUSE_MIN} or a tenth more profiles than it
 * rests on (whichever is more) were recorded here. Thread-safe (one connection, serialized).
 */
public final class ShardHistory implements AutoCloseable {

  static final String SCHEMA = "CREATE TABLE IF NOT EXISTS shard_profile ("
      + "request_id VARCHAR(200), request_type VARCHAR(200) NOT NULL, function_name VARCHAR(200) NOT NULL,"
      + " request_keys BIGINT NOT NULL, unit_keys BIGINT NOT NULL, shard_keys BIGINT NOT NULL,"
      + " size_bucket INTEGER NOT NULL, cpu_millis BIGINT NOT NULL, memory_bytes BIGINT NOT NULL,"
      + " duration_millis DOUBLE PRECISION NOT NULL, millis_per_key DOUBLE PRECISION NOT NULL)";

  private final Connection connection;
  private final int minSamples;
  private final CostEstimate prior;
  private final String url;
  private record Cached(CostEstimate estimate, long recordedAt) {}

  /** Estimates by (type, function, size bucket) and how many profiles had been recorded then. */
  private final java.util.Map<String, Cached> cache = new java.util.HashMap<>();
  private long recorded;

  private ShardHistory(String url, int minSamples, CostEstimate prior) throws SQLException {
    if (url == null || !(url.startsWith("jdbc:duckdb:") || url.startsWith("jdbc:postgresql:"))) {
      throw new IllegalArgumentException("history url must start with jdbc:duckdb: or jdbc:postgresql:, was '" + url + "'");
    }
    Checks.atLeast("history minSamples", minSamples, 1);
    this.url = url;
    this.minSamples = minSamples;
    this.prior = prior;
    this.connection = DriverManager.getConnection(url);
    try (Statement s = connection.createStatement()) {
      s.execute(SCHEMA);
    }
  }

  /** An in-memory DuckDB history; with no profiles yet, units are predicted at {@code priorMillisPerKey}. */
  public static ShardHistory inMemory(double priorMillisPerKey) throws SQLException {
    return open("jdbc:duckdb:", 5, priorMillisPerKey);
  }

  /**
   * A history at a JDBC URL (DuckDB or PostgreSQL).
   *
   * @param minSamples profiles a similarity level needs before it answers
   * @param priorMillisPerKey the estimate with no history (median; the upper quantiles are 4x and 10x it)
   */
  public static ShardHistory open(String url, int minSamples, double priorMillisPerKey) throws SQLException {
    if (!(priorMillisPerKey > 0) || Double.isInfinite(priorMillisPerKey)) {
      throw new IllegalArgumentException("history prior must be > 0 ms per key, was " + priorMillisPerKey);
    }
    return new ShardHistory(url, minSamples,
        new CostEstimate(priorMillisPerKey, 4 * priorMillisPerKey, 10 * priorMillisPerKey, 0, "prior"));
  }

  public String url() {
    return url;
  }

  static int sizeBucket(long keys) {
    return 63 - Long.numberOfLeadingZeros(Math.max(1, keys));
  }

  public void record(ShardProfile p) {
    record(List.of(p));
  }

  /** Rows per INSERT statement: row-at-a-time JDBC batches are slow on DuckDB. */
  static final int ROWS_PER_INSERT = 500;
  /** Fewest new profiles after which a cached estimate is recomputed. */
  static final int REUSE_MIN = 200;

  /** Adds profiles, many rows per statement. */
  public synchronized void record(List<ShardProfile> profiles) {
    for (int from = 0; from < profiles.size(); from += ROWS_PER_INSERT) {
      List<ShardProfile> chunk = profiles.subList(from, Math.min(profiles.size(), from + ROWS_PER_INSERT));
      StringBuilder sql = new StringBuilder("INSERT INTO shard_profile VALUES ");
      for (int i = 0; i < chunk.size(); i++) {
        sql.append(i == 0 ? "" : ",").append("(?,?,?,?,?,?,?,?,?,?,?)");
      }
      try (PreparedStatement ps = connection.prepareStatement(sql.toString())) {
        int k = 1;
        for (ShardProfile p : chunk) {
          ps.setString(k++, p.requestId());
          ps.setString(k++, p.requestType());
          ps.setString(k++, p.function());
          ps.setLong(k++, p.requestKeys());
          ps.setLong(k++, p.unitKeys());
          ps.setLong(k++, p.shardKeys());
          ps.setInt(k++, sizeBucket(p.unitKeys()));
          ps.setLong(k++, p.used().cpuMillis());
          ps.setLong(k++, p.used().memoryBytes());
          ps.setDouble(k++, p.durationMillis());
          ps.setDouble(k++, p.durationMillis() / p.shardKeys());
        }
        ps.executeUpdate();
        recorded += chunk.size();
      } catch (SQLException e) {
        throw new IllegalStateException("could not record " + chunk.size() + " shard profiles in " + url + ": "
            + e.getMessage(), e);
      }
    }
  }

  /** How many profiles it holds. */
  public synchronized long size() {
    try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM shard_profile")) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException("could not count shard profiles in " + url + ": " + e.getMessage(), e);
    }
  }

  /** The predicted milliseconds per key of a unit of {@code function} with {@code unitKeys} keys. */
  public synchronized CostEstimate estimate(String requestType, String function, long unitKeys) {
    int b = sizeBucket(unitKeys);
    String key = requestType + "\u0000" + function + "\u0000" + b;
    Cached c = cache.get(key);
    // Quantiles over n profiles barely move with a few more: reuse an estimate until max(200, n/10) new profiles came
    // in (the prior only until the first).
    long fresh = c == null ? 0 : c.estimate.samples() == 0 ? 1 : Math.max(REUSE_MIN, c.estimate.samples() / 10);
    if (c != null && recorded - c.recordedAt < fresh) {
      return c.estimate;
    }
    CostEstimate e = compute(requestType, function, b);
    cache.put(key, new Cached(e, recorded));
    return e;
  }

  private CostEstimate compute(String requestType, String function, int b) {
    try {
      CostEstimate e = query("request_type = ? AND function_name = ? AND size_bucket BETWEEN ? AND ?", "size",
          requestType, function, b - 1, b + 1);
      if (e == null) {
        e = query("request_type = ? AND function_name = ?", "function", requestType, function);
      }
      if (e == null) {
        e = query("request_type = ?", "type", requestType);
      }
      return e != null ? e : prior;
    } catch (SQLException ex) {
      throw new IllegalStateException("could not estimate " + requestType + "/" + function + " from " + url + ": "
          + ex.getMessage(), ex);
    }
  }

  private CostEstimate query(String where, String basis, Object... args) throws SQLException {
    String sql = String.format(Locale.ROOT, "SELECT count(*),"
        + " percentile_cont(0.5) WITHIN GROUP (ORDER BY millis_per_key),"
        + " percentile_cont(0.9) WITHIN GROUP (ORDER BY millis_per_key),"
        + " percentile_cont(0.99) WITHIN GROUP (ORDER BY millis_per_key)"
        + " FROM shard_profile WHERE %s", where);
    try (PreparedStatement ps = connection.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        if (args[i] instanceof String s) {
          ps.setString(i + 1, s);
        } else {
          ps.setInt(i + 1, (Integer) args[i]);
        }
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        long n = rs.getLong(1);
        if (n < minSamples) {
          return null;
        }
        double p50 = rs.getDouble(2);
        double p90 = Math.max(p50, rs.getDouble(3));
        double p99 = Math.max(p90, rs.getDouble(4));
        return new CostEstimate(p50, p90, p99, n, basis);
      }
    }
  }

  @Override
  public synchronized void close() {
    try {
      connection.close();
    } catch (SQLException e) {
      throw new IllegalStateException("could not close history " + url + ": " + e.getMessage(), e);
    }
  }

}
