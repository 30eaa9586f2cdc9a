package dev.penumbra.query.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.penumbra.core.Checks;
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
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.postgresql.core.NativeQuery;
import org.postgresql.core.Parser;
import org.postgresql.core.SqlCommandType;

/**
 * The PostgreSQL primary engine: a pool of sessions. Before each query its session gets
 * {@code work_mem = memory / threads}, {@code max_parallel_workers_per_gather = threads - 1} and
 * {@code statement_timeout}. The actuals come from the executed query's own plan: the session loads
 * {@code auto_explain} with {@code log_analyze, log_buffers, log_format=json, log_level=notice}, so the plan
 * with actual rows, buffers and temp blocks arrives as a NOTICE on the same run that returns the rows (loading
 * it needs a superuser, or {@code session_preload_libraries = 'auto_explain'} on the server).
 *
 * <p>Sandbox (docs/query.md): client SQL runs as a role that can only read. Given a superuser URL, {@link #open}
 * creates the role {@value #READER} (SELECT on the public schema's tables, {@code default_transaction_read_only},
 * auto_explain preloaded by the superuser's role settings) and opens its sessions as that role; given any other
 * role it checks the role cannot write. Every query is exactly one SELECT/WITH statement (pgjdbc's parser, which
 * knows dollar quoting and escape strings, splits the text), runs as a read-only transaction on a session whose
 * state was discarded first ({@code DISCARD ALL}), so no client sees another's settings.
 */
public final class PostgresEngine implements PrimaryEngine {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int BLOCK = 8192;
  private static final long MIN_WORK_MEM_KB = 64;
  /** The read-only role sessions log in as when the given URL names a superuser. */
  static final String READER = "penumbra_reader";
  private static final List<String> PROFILING = List.of(
      "auto_explain.log_min_duration = 0", "auto_explain.log_analyze = on", "auto_explain.log_buffers = on",
      "auto_explain.log_timing = off", "auto_explain.log_format = 'json'", "auto_explain.log_level = 'notice'",
      "client_min_messages = 'notice'", "hash_mem_multiplier = 1");

  private final int maxRows;
  private final BlockingQueue<Connection> pool;
  private final List<Connection> all = new ArrayList<>();

  private PostgresEngine(int sessions, int maxRows) {
    this.maxRows = maxRows;
    this.pool = new ArrayBlockingQueue<>(sessions);
  }

  /** Opens {@code sessions} sessions to the database at {@code jdbcUrl}. */
  public static PostgresEngine open(String jdbcUrl, int sessions, int maxRows) throws SQLException {
    Checks.atLeast("sessions", sessions, 1);
    Checks.atLeast("maxRows", maxRows, 0);
    PostgresEngine e = new PostgresEngine(sessions, maxRows);
    try {
      Properties reader = readerLogin(jdbcUrl);
      String url = reader == null ? jdbcUrl : JdbcUrls.withoutCredentials(jdbcUrl);
      for (int i = 0; i < sessions; i++) {
        Connection c = reader == null ? DriverManager.getConnection(jdbcUrl) : DriverManager.getConnection(url, reader);
        e.all.add(c);
        if (reader == null) {
          requireReadOnlyRole(c);
        }
        e.pool.add(c);
      }
    } catch (SQLException | RuntimeException ex) {
      e.close();
      throw ex;
    }
    return e;
  }

  /**
   * When {@code jdbcUrl} logs in as a superuser: creates or refreshes the reader role (new random password,
   * SELECT on every table of the public schema, read-only by default, profiling preloaded) and returns its
   * login. Otherwise null: the given role is used as it is (and checked).
   */
  private static Properties readerLogin(String jdbcUrl) throws SQLException {
    try (Connection admin = DriverManager.getConnection(jdbcUrl); Statement st = admin.createStatement()) {
      boolean superuser;
      try (ResultSet r = st.executeQuery("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) {
        superuser = r.next() && r.getBoolean(1);
      }
      if (!superuser) {
        return null;
      }
      String password = java.util.HexFormat.of().formatHex(new java.security.SecureRandom().generateSeed(16));
      boolean exists;
      try (ResultSet r = st.executeQuery("SELECT 1 FROM pg_roles WHERE rolname = '" + READER + "'")) {
        exists = r.next();
      }
      String attrs = " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '" + password + "'";
      st.execute((exists ? "ALTER ROLE " : "CREATE ROLE ") + READER + attrs);
      String db;
      try (ResultSet r = st.executeQuery("SELECT current_database()")) {
        r.next();
        db = r.getString(1);
      }
      st.execute("GRANT CONNECT ON DATABASE \"" + db.replace("\"", "\"\"") + "\" TO " + READER);
      st.execute("REVOKE TEMPORARY ON DATABASE \"" + db.replace("\"", "\"\"") + "\" FROM PUBLIC");
      st.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
      st.execute("GRANT USAGE ON SCHEMA public TO " + READER);
      st.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + READER);
      st.execute("ALTER ROLE " + READER + " SET default_transaction_read_only = on");
      // The superuser sets these for the role: auto_explain's settings are superuser-only, so the reader can
      // neither load the module nor change how it reports.
      st.execute("LOAD 'auto_explain'");
      st.execute("ALTER ROLE " + READER + " SET session_preload_libraries = 'auto_explain'");
      for (String setting : PROFILING) {
        st.execute("ALTER ROLE " + READER + " SET " + setting);
      }
      Properties p = new Properties();
      p.setProperty("user", READER);
      p.setProperty("password", password);
      return p;
    }
  }


  /** Refuses a role that could change anything: a superuser, or one with any write privilege on a table. */
  private static void requireReadOnlyRole(Connection c) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet r = st.executeQuery(
        "SELECT current_user, (SELECT count(*) FROM pg_tables t WHERE t.schemaname NOT IN ('pg_catalog',"
            + " 'information_schema') AND has_table_privilege(format('%I.%I', t.schemaname, t.tablename),"
            + " 'INSERT,UPDATE,DELETE,TRUNCATE')) FROM pg_roles WHERE rolname = current_user")) {
      if (r.next() && r.getLong(2) > 0) {
        throw new IllegalArgumentException("PostgreSQL role '" + r.getString(1) + "' may write "
            + r.getLong(2) + " table(s): give the engine a role that can only read, or a superuser URL so it"
            + " creates " + READER);
      }
    }
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
    Optional<String> refusal = refusal(sql);
    if (refusal.isPresent()) {
      return QueryResult.failed(Outcome.SQL_ERROR, 0, refusal.get());
    }
    int threads = PrimaryEngine.threadsFor(reservation);
    long workMemKb = Math.max(MIN_WORK_MEM_KB, reservation.memoryBytes() / threads / 1024);
    try (Statement setup = c.createStatement()) {
      // Whatever an earlier query changed in this session (settings, prepared statements) is gone. The query
      // then runs as its own read-only transaction: within it, read-write can no longer be switched on. (An
      // explicit transaction would hold auto_explain's plan back until the rollback.)
      setup.execute("DISCARD ALL");
      setup.execute("SET default_transaction_read_only = on");
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
      QueryProfile profile = profile(plan(st.getWarnings()), wall, rows.count(), workMemKb);
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

  /**
   * Why {@code sql} must not run, or empty when it is exactly one SELECT or WITH statement. pgjdbc's parser
   * splits the text as the server will (dollar quotes, escape strings, nested comments); the READ ONLY
   * transaction and the reader role stop what a WITH could still try to write.
   */
  static Optional<String> refusal(String sql) {
    List<NativeQuery> parsed;
    try {
      parsed = Parser.parseJdbcSql(sql, true, false, true, false, false);
    } catch (SQLException e) {
      return Optional.of("cannot parse the query: " + e.getMessage());
    }
    List<NativeQuery> statements = parsed.stream().filter(q -> !q.nativeSql.isBlank()).toList();
    if (statements.size() != 1) {
      return Optional.of("only one statement per query is accepted, got " + statements.size());
    }
    SqlCommandType type = statements.get(0).getCommand().getType();
    if (type != SqlCommandType.SELECT && type != SqlCommandType.WITH) {
      return Optional.of("only one read query (SELECT / WITH) is accepted: the statement is not a SELECT");
    }
    return Optional.empty();
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
   * Reads the plan: the root's temp written blocks (spill) and shared+local read and hit blocks (bytes read); summed
   * over the tree: actual rows of scan nodes (rows scanned), the memory the sort and hash nodes needed
   * ({@link #memoryNeedKb}), workers launched. PostgreSQL has no per-query CPU counter: CPU is approximated as wall
   * time x (1 + workers launched), an upper bound that assumes every process was busy for the whole run.
   *
   * @param workMemKb the work_mem the run had, per process: what a node that spilled held in memory before it did
   */
  static QueryProfile profile(JsonNode plan, long wallNanos, long rowsReturned, long workMemKb) {
    long[] acc = new long[5]; // temp blocks, read blocks, rows scanned, memory kB, workers
    if (plan != null) {
      walk(plan, acc, workMemKb, 1);
      // Buffer and temp counters of a node include its children's: the root holds the query's totals.
      acc[0] = plan.path("Temp Written Blocks").asLong(0);
      acc[1] = plan.path("Shared Read Blocks").asLong(0) + plan.path("Shared Hit Blocks").asLong(0)
          + plan.path("Local Read Blocks").asLong(0) + plan.path("Local Hit Blocks").asLong(0);
    }
    return new QueryProfile(wallNanos * (1 + acc[4]), acc[3] * 1024, wallNanos, acc[1] * BLOCK, acc[2],
        rowsReturned, acc[0] * BLOCK);
  }

  /**
   * A design variant for comparison ({@code -Dpenumbra.query.pg.memory=inMemory}): count only the sort and hash
   * memory PostgreSQL reports in memory, so a sort that went to disk counts 0 bytes (the definition before).
   */
  static final boolean IN_MEMORY_ONLY = "inMemory".equals(System.getProperty("penumbra.query.pg.memory", "need"));

  /**
   * The memory one sort or hash node of one process needed, kB: what it would have held to run in memory. In memory:
   * its sort space or its hash table's peak. Spilled: what it held (work_mem: a sort fills it before writing a run)
   * plus what it wrote to disk ({@code Sort Method: external merge  Disk: N kB}, a hash aggregate's {@code Disk
   * Usage}); a hash join's build side split into batches held one batch at a time, so its peak times the batches.
   * Both the actual and the prediction (a sample run that never spills, scaled) then speak of the same amount; the
   * disk form of a sorted run is more compact than the in-memory one, so a spilled node's need is a little low.
   */
  static long memoryNeedKb(JsonNode n, long workMemKb) {
    String type = n.path("Node Type").asText("");
    long need = 0;
    String sortSpace = n.path("Sort Space Type").asText("");
    if (sortSpace.equals("Memory")) {
      need += n.path("Sort Space Used").asLong(0);
    } else if (sortSpace.equals("Disk") && !IN_MEMORY_ONLY) {
      need += workMemKb + n.path("Sort Space Used").asLong(0);
    }
    long peak = n.path("Peak Memory Usage").asLong(0);
    if (type.equals("Hash") && !IN_MEMORY_ONLY) {
      peak *= Math.max(1, n.path("Hash Batches").asLong(1));
    }
    need += peak;
    if (!IN_MEMORY_ONLY) {
      need += n.path("Disk Usage").asLong(0);
    }
    return need;
  }

  /**
   * @param copies processes that each build this node's state: a hash table under a Gather that is not parallel
   *     aware is built by the leader and every worker
   */
  private static void walk(JsonNode n, long[] acc, long workMemKb, long copies) {
    if (n.path("Node Type").asText("").contains("Scan") && !n.has("Plans")) {
      acc[2] += n.path("Actual Rows").asLong(0) * Math.max(1, n.path("Actual Loops").asLong(1));
    }
    long own = memoryNeedKb(n, workMemKb);
    boolean perWorker = n.path("Workers").isArray() && n.path("Workers").size() > 0;
    if (perWorker && !IN_MEMORY_ONLY) {
      // Sorts and hash aggregates in a parallel plan report the leader's figures on the node and each worker's
      // apart: every process held its own.
      for (JsonNode w : n.path("Workers")) {
        own += memoryNeedKb(w, workMemKb);
      }
    } else if (n.path("Node Type").asText("").equals("Hash") && !n.path("Parallel Aware").asBoolean(false)
        && !IN_MEMORY_ONLY) {
      own *= copies;
    }
    acc[3] += own;
    long launched = n.path("Workers Launched").asLong(0);
    acc[4] += launched;
    for (JsonNode child : n.path("Plans")) {
      walk(child, acc, workMemKb, launched > 0 ? launched + 1 : copies);
    }
  }

  @Override
  public void close() {
    Sessions.closeAll(all);
  }
}
