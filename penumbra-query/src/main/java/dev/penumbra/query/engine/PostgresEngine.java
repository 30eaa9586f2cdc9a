package dev.penumbra.query.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.penumbra.core.Resources;
import dev.penumbra.query.QueryProfile;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The PostgreSQL primary engine: a pool of sessions. Before each query its session gets
 * {@code work_mem = memory / threads}, {@code max_parallel_workers_per_gather = threads - 1} and
 * {@code statement_timeout}. The actuals come from the executed query's own plan: the session loads
 * {@code auto_explain} with {@code log_analyze, log_buffers, log_format=json, log_level=notice}, so the plan
 * with actual rows, buffers and temp blocks arrives as a NOTICE on the same run that returns the rows (loading
 * it needs a superuser, or {@code session_preload_libraries = 'auto_explain'} on the server).
 */
public final class PostgresEngine implements PrimaryEngine {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int BLOCK = 8192;
  private static final long MIN_WORK_MEM_KB = 64;

  private final int maxRows;
  private final BlockingQueue<Connection> pool;
  private final List<Connection> all = new ArrayList<>();

  private PostgresEngine(int sessions, int maxRows) {
    this.maxRows = maxRows;
    this.pool = new ArrayBlockingQueue<>(sessions);
  }

  /** Opens {@code sessions} sessions to the database at {@code jdbcUrl}. */
  public static PostgresEngine open(String jdbcUrl, int sessions, int maxRows) throws SQLException {
    if (sessions < 1) {
      throw new IllegalArgumentException("sessions must be >= 1, was " + sessions);
    }
    if (maxRows < 0) {
      throw new IllegalArgumentException("maxRows must be >= 0, was " + maxRows);
    }
    PostgresEngine e = new PostgresEngine(sessions, maxRows);
    try {
      for (int i = 0; i < sessions; i++) {
        Connection c = DriverManager.getConnection(jdbcUrl);
        e.all.add(c);
        try (Statement st = c.createStatement()) {
          st.execute("LOAD 'auto_explain'");
          st.execute("SET auto_explain.log_min_duration = 0");
          st.execute("SET auto_explain.log_analyze = on");
          st.execute("SET auto_explain.log_buffers = on");
          st.execute("SET auto_explain.log_timing = off");
          st.execute("SET auto_explain.log_format = 'json'");
          st.execute("SET auto_explain.log_level = 'notice'");
          st.execute("SET client_min_messages = 'notice'");
          st.execute("SET hash_mem_multiplier = 1");
        }
        e.pool.add(c);
      }
    } catch (SQLException | RuntimeException ex) {
      e.close();
      throw ex;
    }
    return e;
  }

  @Override
  public String name() {
    return "postgresql";
  }

  @Override
  public QueryResult execute(String sql, Resources reservation, Duration timeout) {
    PrimaryEngine.checkArguments(sql, reservation, timeout);
    Connection c;
    try {
      c = pool.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return QueryResult.failed(Outcome.SQL_ERROR, 0, "interrupted while waiting for a session");
    }
    try {
      return run(c, sql, reservation, timeout);
    } finally {
      pool.add(c);
    }
  }

  private QueryResult run(Connection c, String sql, Resources reservation, Duration timeout) {
    int threads = PrimaryEngine.threadsFor(reservation);
    long workMemKb = Math.max(MIN_WORK_MEM_KB, reservation.memoryBytes() / threads / 1024);
    try (Statement setup = c.createStatement()) {
      setup.execute("SET work_mem = '" + workMemKb + "kB'");
      setup.execute("SET max_parallel_workers_per_gather = " + (threads - 1));
      setup.execute("SET statement_timeout = " + Math.max(1, timeout.toMillis()));
    } catch (SQLException e) {
      return QueryResult.failed(Outcome.SQL_ERROR, 0, "cannot apply the reservation: " + e.getMessage());
    }
    long start = System.nanoTime();
    try (Statement st = c.createStatement()) {
      Rows rows;
      try (ResultSet rs = st.executeQuery(sql)) {
        rows = Rows.read(rs, maxRows);
      }
      long wall = System.nanoTime() - start;
      QueryProfile profile = profile(plan(st.getWarnings()), wall, rows.count());
      Outcome outcome = profile.spilledBytes() > 0 ? Outcome.SPILLED : Outcome.COMPLETED;
      return new QueryResult(outcome, rows.columns(), rows.rows(), rows.count(), profile, Optional.empty());
    } catch (SQLException e) {
      long wall = System.nanoTime() - start;
      String msg = e.getMessage() == null ? e.toString() : e.getMessage();
      String state = e.getSQLState() == null ? "" : e.getSQLState();
      if (state.equals("57014")) { // query_canceled: statement_timeout
        return QueryResult.failed(Outcome.TIMED_OUT, wall, msg);
      }
      if (state.equals("53200") || state.equals("53100")) { // out_of_memory, disk_full (temp files)
        return QueryResult.failed(Outcome.FAILED_MEMORY, wall, msg);
      }
      return QueryResult.failed(Outcome.SQL_ERROR, wall, msg);
    }
  }

  /** The auto_explain JSON plan among the statement's notices, or null. */
  private static JsonNode plan(SQLWarning w) {
    for (; w != null; w = w.getNextWarning()) {
      String m = w.getMessage();
      int brace = m == null ? -1 : m.indexOf('{');
      if (brace >= 0 && m.contains("\"Plan\"")) {
        try {
          return JSON.readTree(m.substring(brace)).path("Plan");
        } catch (IOException e) {
          return null;
        }
      }
    }
    return null;
  }

  /**
   * Reads the plan: the root's temp written blocks (spill) and shared+local read and hit blocks (bytes read); summed over the tree: actual rows
   * of scan nodes (rows scanned), sort and hash memory (peak memory, per node summed), workers launched.
   * PostgreSQL has no per-query CPU counter: CPU is approximated as wall time x (1 + workers launched), an
   * upper bound that assumes every process was busy for the whole run.
   */
  static QueryProfile profile(JsonNode plan, long wallNanos, long rowsReturned) {
    long[] acc = new long[5]; // temp blocks, read blocks, rows scanned, memory kB, workers
    if (plan != null) {
      walk(plan, acc);
      // Buffer and temp counters of a node include its children's: the root holds the query's totals.
      acc[0] = plan.path("Temp Written Blocks").asLong(0);
      acc[1] = plan.path("Shared Read Blocks").asLong(0) + plan.path("Shared Hit Blocks").asLong(0)
          + plan.path("Local Read Blocks").asLong(0) + plan.path("Local Hit Blocks").asLong(0);
    }
    return new QueryProfile(wallNanos * (1 + acc[4]), acc[3] * 1024, wallNanos, acc[1] * BLOCK, acc[2],
        rowsReturned, acc[0] * BLOCK);
  }

  private static void walk(JsonNode n, long[] acc) {
    if (n.path("Node Type").asText("").contains("Scan") && !n.has("Plans")) {
      acc[2] += n.path("Actual Rows").asLong(0) * Math.max(1, n.path("Actual Loops").asLong(1));
    }
    if ("Memory".equals(n.path("Sort Space Type").asText(""))) {
      acc[3] += n.path("Sort Space Used").asLong(0);
    }
    acc[3] += n.path("Peak Memory Usage").asLong(0);
    acc[4] += n.path("Workers Launched").asLong(0);
    for (JsonNode child : n.path("Plans")) {
      walk(child, acc);
    }
  }

  @Override
  public void close() {
    for (Connection c : all) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // Best effort.
      }
    }
  }
}
