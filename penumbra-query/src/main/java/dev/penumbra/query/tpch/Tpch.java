package dev.penumbra.query.tpch;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
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
   * Creates the eight tables in an empty DuckDB database and fills them (generated text files, then COPY); records the
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
    // The appender costs ~0.5 us per value through JNI (50 s at SF 1); tab-separated text files read by
    // DuckDB's COPY take 32 s (see docs/query-engines.md).
    Path tmp;
    try {
      tmp = Files.createTempDirectory("penumbra-tpch-");
    } catch (IOException e) {
      throw new SQLException("cannot create a temporary directory for the TPC-H text files: " + e.getMessage(), e);
    }
    try (Statement st = conn.createStatement()) {
      Map<TpchTable, Path> files = new EnumMap<>(TpchTable.class);
      for (TpchTable t : TpchTable.values()) {
        files.put(t, tmp.resolve(t.sqlName() + ".tsv"));
      }
      writeText(files, TpchTable.REGION, null, gen);
      writeText(files, TpchTable.NATION, null, gen);
      writeText(files, TpchTable.SUPPLIER, null, gen);
      writeText(files, TpchTable.CUSTOMER, null, gen);
      writeText(files, TpchTable.PART, TpchTable.PARTSUPP, gen);
      writeText(files, TpchTable.ORDERS, TpchTable.LINEITEM, gen);
      for (TpchTable t : TpchTable.values()) {
        st.execute("COPY " + t.sqlName() + " FROM '" + files.get(t)
            + "' (FORMAT csv, DELIMITER '\t', HEADER false, QUOTE '', ESCAPE '')");
        Files.delete(files.get(t));
      }
    } catch (IOException e) {
      throw new SQLException("cannot write TPC-H text files under " + tmp + ": " + e.getMessage(), e);
    } finally {
      deleteTree(tmp);
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
        org.postgresql.copy.CopyIn in = copy.copyIn("COPY " + t.sqlName() + " FROM STDIN");
        try {
          Sinks.Text sink = Sinks.Text.copyIn(in);
          gen.generate(t, sink);
          sink.flush();
          in.endCopy();
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

  /** Writes one table, or a parent and child table generated in the same pass, as text files. */
  private static void writeText(Map<TpchTable, Path> files, TpchTable t, TpchTable child, TpchGenerator gen)
      throws IOException, SQLException {
    try (OutputStream a = new BufferedOutputStream(Files.newOutputStream(files.get(t)), 1 << 16);
        OutputStream b = child == null ? OutputStream.nullOutputStream()
            : new BufferedOutputStream(Files.newOutputStream(files.get(child)), 1 << 16)) {
      Sinks.Text sa = Sinks.Text.stream(a);
      Sinks.Text sb = Sinks.Text.stream(b);
      try {
        switch (t) {
          case PART -> gen.parts(sa, sb);
          case ORDERS -> gen.orders(1, gen.counts.orders(), sa, sb);
          default -> gen.generate(t, sa);
        }
        sa.flush();
        sb.flush();
      } catch (RowSink.LoadFailure e) {
        if (e.getCause() instanceof IOException io) {
          throw io;
        }
        throw new SQLException(e.getMessage(), e.getCause());
      }
    }
  }

  private static void deleteTree(Path dir) {
    try (var files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.deleteIfExists(f);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // A leftover temp directory is harmless; the load itself succeeded or already threw.
    }
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
