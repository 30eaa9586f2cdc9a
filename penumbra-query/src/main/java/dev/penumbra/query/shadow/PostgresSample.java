package dev.penumbra.query.shadow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.penumbra.query.engine.JdbcUrls;
import dev.penumbra.query.engine.Sessions;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * A sample of a PostgreSQL database kept in that database, and the per-operator profile of a query's run on it:
 * {@code EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)} of the query on the sample, scaled to the full data node by node
 * ({@link PgOperatorScaling}).
 *
 * <p>{@link #open} copies every table the rule names from schema {@code public} into its own schema ({@code
 * penumbra_sample_<per mille>}): a hashed table keeps a row when {@code hashint8extended(key, seed of its group) mod
 * 1e6 < fraction · 1e6}, so tables of one group keep the same keys (every sampled order keeps all its lineitems); a
 * whole table is copied entirely. Indexes are copied with the tables ({@code LIKE ... INCLUDING INDEXES}) and the
 * sample is analyzed, so its plans have the full database's access paths. The copy is made once, when the schema
 * does not exist yet; inserts into the primary afterwards are not copied.
 *
 * <p>Sample runs are made as a role that can only read the sample's schema ({@code penumbra_sampler}, created
 * here), in read-only transactions with the sample schema as the search path, no parallel workers (so node times
 * are one process's) and a work_mem large enough that the sample neither spills nor splits a hash table. Needs a
 * superuser URL to create the schema and the role. Thread-safe: {@code sessions} runs at once, more wait.
 *
 * <pre>{@code
 * try (PostgresSample s = PostgresSample.open(superuserUrl, 0.1, SamplingRule.tpch(), 2)) {
 *   ScaledProfile p = s.profile("SELECT o_custkey, count(*) FROM orders GROUP BY 1", Duration.ofSeconds(2));
 * }
 * }</pre>
 */
public final class PostgresSample implements OperatorProfiler, AutoCloseable {
  static final String ROLE = "penumbra_sampler";
  /** The role that plans (EXPLAIN without ANALYZE, which runs nothing) a query on the full tables. */
  static final String PLANNER_ROLE = "penumbra_planner";

  /**
   * Where a profile's time comes from (a design variant, {@code -Dpenumbra.query.pg.time}): {@code operators} (the
   * sample's nodes scaled one by one, {@link PgOperatorScaling}), {@code plan} (the optimizer's cost of the query on
   * the full tables, priced at this query's own sample run: its execution time per unit of its sample plan's cost) or
   * {@code meet} (the geometric mean of the two). The full plan knows what the sample's cannot: that the full run
   * takes another access path, sorts on disk at its work_mem, or hashes in batches.
   */
  static final String TIME = System.getProperty("penumbra.query.pg.time", "plan");

  /**
   * The work_mem the full plan is costed with: the gateway's smallest reservation (16 MiB), which the primary's run
   * has at least.
   */
  static final String PLAN_WORK_MEM = "16MB";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final double fraction;
  private final SamplingRule rule;
  private final String schema;
  private final Map<String, Double> rowsPerKey;
  private final BlockingQueue<Connection> sessions;
  private final List<Connection> all = new ArrayList<>();
  /** A session as {@link #PLANNER_ROLE} on the full tables, or null when the time comes from the operators only. */
  private Connection planner;

  private PostgresSample(double fraction, SamplingRule rule, String schema, Map<String, Double> rowsPerKey,
      int sessions) {
    this.fraction = fraction;
    this.rule = rule;
    this.schema = schema;
    this.rowsPerKey = Map.copyOf(rowsPerKey);
    this.sessions = new ArrayBlockingQueue<>(sessions, true);
  }

  /**
   * Creates the sample (when its schema does not exist yet) and opens {@code sessions} read-only sessions on it.
   *
   * @param superuserUrl a JDBC URL of a superuser of the database holding the tables in schema {@code public}
   * @param fraction the share of each hashed table's keys kept, in (0, 1]
   * @param rule which tables are hashed on which key, which are copied whole
   * @param sessions sample runs at once (>= 1)
   * @throws IllegalArgumentException naming the argument when one is out of range
   * @throws SQLException when the sample cannot be created, e.g. the URL's user is not a superuser
   */
  public static PostgresSample open(String superuserUrl, double fraction, SamplingRule rule, int sessions)
      throws SQLException {
    if (superuserUrl == null || superuserUrl.isBlank()) {
      throw new IllegalArgumentException("superuserUrl must not be blank, was '" + superuserUrl + "'");
    }
    if (!(fraction > 0 && fraction <= 1)) {
      throw new IllegalArgumentException("fraction must be in (0, 1], was " + fraction);
    }
    if (rule == null) {
      throw new IllegalArgumentException("rule must not be null");
    }
    if (sessions < 1) {
      throw new IllegalArgumentException("sessions must be >= 1, was " + sessions);
    }
    String schema = "penumbra_sample_" + Math.round(fraction * 1000);
    String password = HexFormat.of().formatHex(new java.security.SecureRandom().generateSeed(16));
    Map<String, Double> perKey = new HashMap<>();
    try (Connection c = DriverManager.getConnection(superuserUrl); Statement st = c.createStatement()) {
      boolean exists;
      try (ResultSet r = st.executeQuery(
          "SELECT 1 FROM information_schema.schemata WHERE schema_name = '" + schema + "'")) {
        exists = r.next();
      }
      if (!exists) {
        copy(c, schema, fraction, rule);
      }
      for (SamplingRule.TableRule t : rule.tables()) {
        if (t.sampled()) {
          try (ResultSet r = st.executeQuery("SELECT count(*)::float8 / greatest(1, count(DISTINCT "
              + SamplingRule.quote(t.keyColumn()) + ")) FROM " + schema + "." + SamplingRule.quote(t.table()))) {
            r.next();
            perKey.put(t.table(), Math.max(1, r.getDouble(1)));
          }
        }
      }
      boolean role;
      try (ResultSet r = st.executeQuery("SELECT 1 FROM pg_roles WHERE rolname = '" + ROLE + "'")) {
        role = r.next();
      }
      st.execute((role ? "ALTER ROLE " : "CREATE ROLE ") + ROLE
          + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '" + password + "'");
      st.execute("GRANT USAGE ON SCHEMA " + schema + " TO " + ROLE);
      st.execute("GRANT SELECT ON ALL TABLES IN SCHEMA " + schema + " TO " + ROLE);
      st.execute("ALTER ROLE " + ROLE + " SET default_transaction_read_only = on");
      if (!TIME.equals("operators")) {
        try (ResultSet r = st.executeQuery("SELECT 1 FROM pg_roles WHERE rolname = '" + PLANNER_ROLE + "'")) {
          role = r.next();
        }
        st.execute((role ? "ALTER ROLE " : "CREATE ROLE ") + PLANNER_ROLE
            + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '" + password + "'");
        st.execute("GRANT USAGE ON SCHEMA public TO " + PLANNER_ROLE);
        st.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + PLANNER_ROLE);
        st.execute("ALTER ROLE " + PLANNER_ROLE + " SET default_transaction_read_only = on");
      }
    }
    PostgresSample s = new PostgresSample(fraction, rule, schema, perKey, sessions);
    Properties p = new Properties();
    p.setProperty("user", ROLE);
    p.setProperty("password", password);
    String url = JdbcUrls.withoutCredentials(superuserUrl);
    try {
      for (int i = 0; i < sessions; i++) {
        Connection c = DriverManager.getConnection(url, p);
        s.all.add(c);
        try (Statement st = c.createStatement()) {
          st.execute("SET search_path = " + schema);
          st.execute("SET max_parallel_workers_per_gather = 0");
          st.execute("SET work_mem = '1GB'");
        }
        // Every sample run is its own read-only transaction, rolled back: whatever the query changed in the
        // session (set_config of the search path, say) is undone before the next one.
        c.setAutoCommit(false);
        s.sessions.add(c);
      }
      if (!TIME.equals("operators")) {
        Properties pp = new Properties();
        pp.setProperty("user", PLANNER_ROLE);
        pp.setProperty("password", password);
        Connection c = DriverManager.getConnection(url, pp);
        s.all.add(c);
        try (Statement st = c.createStatement()) {
          st.execute("SET search_path = public");
          st.execute("SET max_parallel_workers_per_gather = 0");
          st.execute("SET work_mem = '" + PLAN_WORK_MEM + "'");
        }
        c.setAutoCommit(false);
        s.planner = c;
      }
    } catch (SQLException e) {
      s.close();
      throw e;
    }
    return s;
  }

  private static void copy(Connection c, String schema, double fraction, SamplingRule rule) throws SQLException {
    boolean auto = c.getAutoCommit();
    c.setAutoCommit(false);
    try (Statement st = c.createStatement()) {
      st.execute("CREATE SCHEMA " + schema);
      st.execute("REVOKE ALL ON SCHEMA " + schema + " FROM PUBLIC");
      for (SamplingRule.TableRule t : rule.tables()) {
        String src = "public." + SamplingRule.quote(t.table());
        String dst = schema + "." + SamplingRule.quote(t.table());
        st.execute("CREATE TABLE " + dst + " (LIKE " + src + " INCLUDING INDEXES)");
        st.execute("INSERT INTO " + dst + " SELECT * FROM " + src + " WHERE " + predicate(t, fraction));
      }
      c.commit();
      for (SamplingRule.TableRule t : rule.tables()) {
        st.execute("ANALYZE " + schema + "." + SamplingRule.quote(t.table()));
      }
      c.commit();
    } catch (SQLException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(auto);
    }
  }

  /** The predicate keeping a hashed table's sampled keys (its group seeds the hash), or "true" for a whole one. */
  static String predicate(SamplingRule.TableRule t, double fraction) {
    if (!t.sampled()) {
      return "true";
    }
    long threshold = Math.round(fraction * 1_000_000);
    return "abs(hashint8extended(" + SamplingRule.quote(t.keyColumn()) + "::bigint, " + t.group().hashCode()
        + ") % 1000000) < " + threshold;
  }

  /** The share of each hashed table's keys the sample keeps. */
  public double fraction() {
    return fraction;
  }

  /** The schema the sample lives in. */
  public String schema() {
    return schema;
  }

  /** Rows per sampling key of each hashed table, measured on the sample (about 4 lineitems per order). */
  public Map<String, Double> rowsPerKey() {
    return rowsPerKey;
  }

  /** {@code EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)} of {@code sql} on the sample: the run's plan with actuals. */
  public JsonNode explain(String sql, Duration cap) throws SQLException {
    return explain(sql, cap, "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ");
  }

  private JsonNode explain(String sql, Duration cap, String explain) throws SQLException {
    if (sql == null || sql.isBlank()) {
      throw new IllegalArgumentException("sql must not be blank, was '" + sql + "'");
    }
    if (cap == null || cap.isNegative() || cap.isZero()) {
      throw new IllegalArgumentException("cap must be > 0, was " + cap);
    }
    Connection c;
    try {
      c = sessions.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLException("interrupted while waiting for a sample session", e);
    }
    try (Statement st = c.createStatement()) {
      st.execute("SET TRANSACTION READ ONLY");
      st.execute("SET LOCAL statement_timeout = " + Math.max(1, cap.toMillis()));
      try (ResultSet r = st.executeQuery(explain + sql)) {
        StringBuilder out = new StringBuilder();
        while (r.next()) {
          out.append(r.getString(1));
        }
        return JSON.readTree(out.toString());
      } catch (IOException e) {
        throw new SQLException("cannot parse PostgreSQL's EXPLAIN JSON: " + e.getMessage(), e);
      }
    } finally {
      try {
        c.rollback();
      } finally {
        sessions.add(c);
      }
    }
  }

  /** How long the plan alone (EXPLAIN without ANALYZE) of a cut-off sample run may take. */
  private static final Duration PLAN_CAP = Duration.ofSeconds(1);

  /**
   * The sample run scaled per operator. A run that outlasts {@code cap} is cancelled; the time it ran is then a lower
   * bound of the sample's, and the plan (EXPLAIN without ANALYZE, which runs nothing) says how it grows: a {@link
   * ScaledProfile#cutOff() cut-off} profile (see {@link PgOperatorScaling#lowerBound}). Without it a correlated
   * subquery that takes minutes on the full data would be predicted from the whole-query model alone, at seconds.
   */
  @Override
  public ScaledProfile profile(String sql, Duration cap) throws SQLException {
    long t0 = System.nanoTime();
    try {
      JsonNode run = explain(sql, cap);
      learnCost(run);
      ScaledProfile ops = PgOperatorScaling.scale(run, rule, fraction, rowsPerKey);
      return ops == null || planner == null ? ops : priced(ops, run, fullPlanCost(sql), TIME);
    } catch (SQLException e) {
      if (!CANCELLED.equals(e.getSQLState()) || !LOWER_BOUND) {
        throw e;
      }
      long ran = System.nanoTime() - t0;
      JsonNode plan = explain(sql, PLAN_CAP, "EXPLAIN (FORMAT JSON) ");
      // The run took longer than it was given; the optimizer's cost, priced as the runs that finished were, may say
      // how much longer.
      double cost = (plan.isArray() ? plan.path(0) : plan).path("Plan").path("Total Cost").asDouble(0);
      long priced = (long) (cost * nanosPerCost());
      return PgOperatorScaling.lowerBound(plan, rule, fraction, Math.max(ran, priced));
    }
  }

  /**
   * {@code ops} with its time from the full plan's cost ({@code fullCost}) priced at this sample run's execution time
   * per unit of its own plan's cost ({@code run}), alone ({@code mode} "plan") or met with the operators' ("meet", see
   * {@link #TIME}); {@code ops} as it is when either cost is unknown.
   */
  static ScaledProfile priced(ScaledProfile ops, JsonNode run, double fullCost, String mode) {
    JsonNode top = run.isArray() ? run.path(0) : run;
    double sampleCost = top.path("Plan").path("Total Cost").asDouble(0);
    double executionNanos = top.path("Execution Time").asDouble(0) * 1e6;
    if (!(sampleCost > 0) || !(fullCost > 0) || !(executionNanos > 0)) {
      return ops;
    }
    double plan = fullCost * executionNanos / sampleCost;
    double cpu = mode.equals("plan") ? plan : Math.sqrt(plan * Math.max(1, ops.cpuNanos()));
    return new ScaledProfile(cpu, ops.workingBytes(), ops.scanBytes(), cpu / executionNanos, ops.memoryGrowth(),
        ops.scanShare(), ops.joinShare(), ops.aggregateShare(), ops.sortShare(), ops.windowShare(),
        ops.boundedShare(), ops.sampleRows(), ops.fallback(), ops.pageShare(), ops.resultRows(), ops.cutOff());
  }

  /** The optimizer's total cost of {@code sql} on the full tables (EXPLAIN, which runs nothing); 0 when unknown. */
  private double fullPlanCost(String sql) {
    synchronized (planner) {
      try (Statement st = planner.createStatement()) {
        st.execute("SET TRANSACTION READ ONLY");
        st.execute("SET LOCAL statement_timeout = " + PLAN_CAP.toMillis());
        StringBuilder out = new StringBuilder();
        try (ResultSet r = st.executeQuery("EXPLAIN (FORMAT JSON) " + sql)) {
          while (r.next()) {
            out.append(r.getString(1));
          }
        }
        JsonNode plan = JSON.readTree(out.toString());
        return (plan.isArray() ? plan.path(0) : plan).path("Plan").path("Total Cost").asDouble(0);
      } catch (SQLException | IOException e) {
        return 0;
      } finally {
        try {
          planner.rollback();
        } catch (SQLException ignored) {
          // The next plan starts its own transaction.
        }
      }
    }
  }

  /** Sample runs that finished, as execution time per unit of the optimizer's cost (the last 200). */
  private final java.util.ArrayDeque<Double> costPrices = new java.util.ArrayDeque<>();

  /**
   * A design variant for comparison: {@code -Dpenumbra.query.pg.costPrice=false} takes a cut-off run's time as only
   * what it ran, not what its plan's cost priced at the finished runs' rate says.
   */
  static final boolean COST_PRICE = Boolean.parseBoolean(System.getProperty("penumbra.query.pg.costPrice", "true"));

  private void learnCost(JsonNode explain) {
    JsonNode top = explain.isArray() ? explain.path(0) : explain;
    double cost = top.path("Plan").path("Total Cost").asDouble(0);
    double ms = top.path("Execution Time").asDouble(0);
    // Runs under a millisecond are mostly fixed cost, not work the optimizer priced.
    if (cost > 0 && ms >= 1) {
      synchronized (costPrices) {
        costPrices.addLast(ms * 1e6 / cost);
        while (costPrices.size() > 200) {
          costPrices.removeFirst();
        }
      }
    }
  }

  /**
   * The median execution time per unit of the optimizer's cost over the sample runs that finished (at least 5 of
   * them), 0 before: what the optimizer's cost of a run that did not finish is worth in time.
   */
  double nanosPerCost() {
    synchronized (costPrices) {
      if (!COST_PRICE || costPrices.size() < 5) {
        return 0;
      }
      double[] v = costPrices.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      return v[v.length / 2];
    }
  }

  /** PostgreSQL's SQLSTATE for a statement cancelled by its statement_timeout. */
  private static final String CANCELLED = "57014";

  /**
   * A design variant for comparison: {@code -Dpenumbra.query.pg.lowerBound=false} gives no profile for a sample run
   * that ran out of its cap (the whole-query model answers), as before.
   */
  static final boolean LOWER_BOUND = Boolean.parseBoolean(System.getProperty("penumbra.query.pg.lowerBound", "true"));

  @Override
  public void close() {
    Sessions.closeAll(all);
  }
}
