package dev.penumbra.query.tpch;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import org.duckdb.DuckDBAppender;
import org.duckdb.DuckDBConnection;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * Generates the TPC-H database (deterministic by scale and seed) into DuckDB or PostgreSQL.
 *
 * <pre>{@code
 * TpchDatabase db = TpchDatabase.duckdb(Path.of("tpch-sf1.duckdb"), 1.0, 42);   // generated once, then reused
 * try (Connection pg = DriverManager.getConnection(url)) {
 *   Tpch.loadPostgres(pg, 0.01, 42);
 * }
 * }</pre>
 */
public final class Tpch {
  /** Changes whenever the generated rows change for the same (scale, seed). */
  public static final int FORMAT_VERSION = 1;
  static final String METADATA_TABLE = "tpch_metadata";

  private Tpch() {}

  /**
   * Creates the eight tables in an empty DuckDB database and fills them through the appender; records the
   * metadata. No indexes: DuckDB scans columnar data and uses min/max zone maps instead.
   *
   * @throws IllegalStateException if the database already has TPC-H tables
   */
  public static void loadDuckDb(Connection duckdb, double scale, long seed) throws SQLException {
    TpchCounts.checkScale(scale);
    DuckDBConnection conn = duckdb.unwrap(DuckDBConnection.class);
    if (metadata(conn).isPresent()) {
      throw new IllegalStateException("database already holds TPC-H tables: " + metadata(conn).get());
    }
    TpchGenerator gen = new TpchGenerator(scale, seed);
    try (Statement st = conn.createStatement()) {
      for (TpchTable t : TpchTable.values()) {
        st.execute(t.createTable());
      }
    }
    try {
      for (TpchTable t : new TpchTable[] {TpchTable.REGION, TpchTable.NATION, TpchTable.SUPPLIER,
          TpchTable.CUSTOMER}) {
        try (DuckDBAppender a = conn.createAppender(t.sqlName())) {
          gen.generate(t, new Sinks.Appender(a));
        }
      }
      // One pass for part+partsupp and one for orders+lineitem: the child rows come from the parent's stream.
      try (DuckDBAppender p = conn.createAppender(TpchTable.PART.sqlName());
          DuckDBAppender ps = conn.createAppender(TpchTable.PARTSUPP.sqlName())) {
        gen.parts(new Sinks.Appender(p), new Sinks.Appender(ps));
      }
      try (DuckDBAppender o = conn.createAppender(TpchTable.ORDERS.sqlName());
          DuckDBAppender l = conn.createAppender(TpchTable.LINEITEM.sqlName())) {
        gen.orders(1, gen.counts.orders(), new Sinks.Appender(o), new Sinks.Appender(l));
      }
    } catch (RowSink.LoadFailure e) {
      throw (SQLException) e.getCause();
    }
    writeMetadata(conn, scale, seed);
  }

  /**
   * Loads the tables into PostgreSQL with COPY, then adds primary keys, a few foreign-key indexes and runs
   * ANALYZE. When the database already holds the same (scale, seed, format) it does nothing and returns
   * false; TPC-H tables from another (scale, seed) are dropped and regenerated.
   *
   * @return true when it loaded, false when the existing data was reused
   */
  public static boolean loadPostgres(Connection pg, double scale, long seed) throws SQLException {
    TpchCounts.checkScale(scale);
    Optional<TpchMetadata> existing = metadata(pg);
    if (existing.isPresent() && existing.get().equals(new TpchMetadata(scale, seed, FORMAT_VERSION))) {
      return false;
    }
    boolean auto = pg.getAutoCommit();
    pg.setAutoCommit(false);
    try (Statement st = pg.createStatement()) {
      st.execute("DROP TABLE IF EXISTS " + METADATA_TABLE);
      for (TpchTable t : TpchTable.values()) {
        st.execute("DROP TABLE IF EXISTS " + t.sqlName());
        st.execute(t.createTable());
      }
      CopyManager copy = pg.unwrap(PGConnection.class).getCopyAPI();
      TpchGenerator gen = new TpchGenerator(scale, seed);
      for (TpchTable t : TpchTable.values()) {
        Sinks.Copy sink = new Sinks.Copy(copy.copyIn("COPY " + t.sqlName() + " FROM STDIN"));
        try {
          gen.generate(t, sink);
          sink.finish();
        } catch (RowSink.LoadFailure e) {
          throw (SQLException) e.getCause();
        }
      }
      for (TpchTable t : TpchTable.values()) {
        st.execute("ALTER TABLE " + t.sqlName() + " ADD PRIMARY KEY (" + t.primaryKey() + ")");
      }
      st.execute("CREATE INDEX orders_custkey ON orders (o_custkey)");
      st.execute("CREATE INDEX orders_orderdate ON orders (o_orderdate)");
      st.execute("CREATE INDEX lineitem_part_supp ON lineitem (l_partkey, l_suppkey)");
      st.execute("CREATE INDEX customer_nationkey ON customer (c_nationkey)");
      st.execute("CREATE INDEX supplier_nationkey ON supplier (s_nationkey)");
      writeMetadata(pg, scale, seed);
      pg.commit();
      st.execute("ANALYZE");
    } catch (SQLException | RuntimeException e) {
      pg.rollback();
      throw e;
    } finally {
      pg.setAutoCommit(auto);
    }
    return true;
  }

  private static void writeMetadata(Connection c, double scale, long seed) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute("CREATE TABLE " + METADATA_TABLE
          + " (scale DOUBLE PRECISION NOT NULL, seed BIGINT NOT NULL, format_version INTEGER NOT NULL)");
    }
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + METADATA_TABLE + " VALUES (?, ?, ?)")) {
      ps.setDouble(1, scale);
      ps.setLong(2, seed);
      ps.setInt(3, FORMAT_VERSION);
      ps.executeUpdate();
    }
  }

  /** The metadata of the TPC-H data in this database (in its current schema), or empty when there is none. */
  public static Optional<TpchMetadata> metadata(Connection c) throws SQLException {
    if (!tableExists(c, METADATA_TABLE)) {
      return Optional.empty();
    }
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT scale, seed, format_version FROM " + METADATA_TABLE)) {
      return rs.next() ? Optional.of(new TpchMetadata(rs.getDouble(1), rs.getLong(2), rs.getInt(3)))
          : Optional.empty();
    }
  }

  static boolean tableExists(Connection c, String table) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = current_schema()")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1) > 0;
      }
    }
  }

  /** Row counts of the eight tables. */
  public static Map<TpchTable, Long> rowCounts(Connection c) throws SQLException {
    Map<TpchTable, Long> counts = new EnumMap<>(TpchTable.class);
    try (Statement st = c.createStatement()) {
      for (TpchTable t : TpchTable.values()) {
        try (ResultSet rs = st.executeQuery("SELECT count(*) FROM " + t.sqlName())) {
          rs.next();
          counts.put(t, rs.getLong(1));
        }
      }
    }
    return counts;
  }
}
