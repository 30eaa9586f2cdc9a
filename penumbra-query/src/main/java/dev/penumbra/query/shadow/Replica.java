package dev.penumbra.query.shadow;

import dev.penumbra.query.engine.DuckDbProfiles;
import dev.penumbra.query.engine.DuckDbSandbox;
import dev.penumbra.query.shadow.SamplingRule.TableRule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.duckdb.DuckDBConnection;

/**
 * One sampled replica: its own in-memory DuckDB instance (own threads and memory_limit), loaded from the primary
 * and kept fresh by {@link #poll}. Rows travel as Parquet files in a private temporary directory, which keeps
 * every column type intact and needs no second handle on the primary's database file.
 */
final class Replica implements AutoCloseable {

  private final double fraction;
  private final SamplingRule rule;
  private final DuckDBConnection root;
  private final Connection writer;
  private final Path dir;
  /** Highest key copied per table with a key column; tables without one are copied once. */
  private final Map<String, Object> watermarks = new HashMap<>();
  private final List<TableRule> tables = new ArrayList<>();
  private long files;
  /** Rows per sampling key of each hashed table (lineitem: about 4 lines per order), measured at load. */
  private volatile Map<String, Double> rowsPerKey = Map.of();
  /** Buffer memory resident between queries (the table data): measured after each load and copy. */
  private volatile long resident;

  Replica(double fraction, SamplingRule rule, int threads, String memoryLimit, Path tempRoot) throws SQLException {
    this.fraction = fraction;
    this.rule = rule;
    this.root = (DuckDBConnection) DriverManager.getConnection("jdbc:duckdb:");
    try (Statement s = root.createStatement()) {
      s.execute("SET threads = " + threads);
      s.execute("SET memory_limit = '" + memoryLimit.replace("'", "") + "'");
      if (COMPRESSED) {
        s.execute("ATTACH ':memory:' AS " + CATALOG + " (COMPRESS)");
      }
    }
    this.writer = connect();
    try {
      this.dir = Files.createTempDirectory(tempRoot,
          "penumbra-shadow-" + ProcessHandle.current().pid() + "-");
    } catch (IOException e) {
      throw new SQLException("cannot create a temporary directory under " + tempRoot + ": " + e.getMessage(), e);
    }
  }

  double fraction() {
    return fraction;
  }

  /**
   * Buffer memory the replica holds between queries: its tables, which stay in memory. Measured after loading
   * and after every copy of new rows, so a shadow need not query it before each run.
   */
  long residentBytes() {
    return resident;
  }

  private void measureResident() throws SQLException {
    resident = DuckDbProfiles.residentBytes(writer);
  }

  /**
   * Closes the replica's instance to the host (see {@link DuckDbSandbox#lock}): external access only to its own
   * transfer directory, which {@link #poll} still reads. The configuration stays open because each shadow
   * connection enables its own profiling; client SQL reaches a replica only as one checked SELECT. Call once,
   * after {@link #load}.
   */
  synchronized void lock() throws SQLException {
    DuckDbSandbox.lock(writer, List.of(dir), false);
  }

  /**
   * A design variant, off by default: {@code -Dpenumbra.query.compressedSample=true} stores the sample's tables
   * compressed as the primary's file stores them. DuckDB keeps in-memory tables uncompressed, and a scan of a string
   * column compressed as dictionary + FSST costs 2-4x more per row than of the plain strings (SF 1 orders, 1% sample,
   * operator time: {@code o_comment = 'x'} 0.12 ms plain, 0.45 ms compressed), which the per-operator rule scales as
   * if the primary paid the sample's price. Measured (docs/benchmarks.md) it brought a string scan's estimate closer
   * but made the page share of a top-N over a compressed string column 10x high: the scan's bytes then count the
   * dictionary in every chunk.
   */
  static final boolean COMPRESSED =
      Boolean.parseBoolean(System.getProperty("penumbra.query.compressedSample", "false"));

  /** The in-memory database (compressed) that holds the sample's tables. */
  static final String CATALOG = "sample";

  /** A new connection to this replica (cheap: shares the instance), using the sample's database. */
  Connection connect() throws SQLException {
    Connection c = root.duplicate();
    if (COMPRESSED) {
      try (Statement s = c.createStatement()) {
        s.execute("USE " + CATALOG);
      } catch (SQLException e) {
        c.close();
        throw e;
      }
    }
    return c;
  }

  /**
   * Compresses what was written since the last checkpoint: DuckDB compresses an in-memory table's row groups only when
   * it checkpoints them. A checkpoint that cannot run now (a sample run holds a transaction open) leaves the new rows
   * uncompressed until the next copy; they are correct either way.
   */
  private void compress() {
    if (!COMPRESSED) {
      return;
    }
    try (Statement s = writer.createStatement()) {
      s.execute("CHECKPOINT " + CATALOG);
    } catch (SQLException e) {
      // Rows stay uncompressed until the next checkpoint: only the sample's per-row cost is a little lower.
    }
  }

  /** Copies every table of the primary's main schema: sampled, whole, or (not in the rule) whole once. */
  synchronized void load(Connection primary) throws SQLException {
    List<String> names = new ArrayList<>();
    try (Statement s = primary.createStatement();
        ResultSet r = s.executeQuery(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND database_name = current_database()"
                + " ORDER BY table_name")) {
      while (r.next()) {
        names.add(r.getString(1));
      }
    }
    for (String name : names) {
      TableRule tr = rule.rule(name).orElse(TableRule.whole(name.toLowerCase(Locale.ROOT), null));
      tables.add(tr);
      Object max = tr.keyColumn() == null ? null : maxKey(primary, name, tr.keyColumn());
      String where = rule.predicate(tr, fraction)
          + (max == null ? "" : " AND " + SamplingRule.quote(tr.keyColumn()) + " <= " + literal(max));
      Path file = export(primary, name, where);
      try (Statement s = writer.createStatement()) {
        s.execute("CREATE OR REPLACE TABLE " + SamplingRule.quote(name) + " AS SELECT * FROM read_parquet('"
            + file + "')");
      } finally {
        delete(file);
      }
      if (tr.keyColumn() != null) {
        watermarks.put(name, max);
      }
    }
    Map<String, Double> perKey = new HashMap<>();
    for (TableRule tr : tables) {
      if (tr.sampled()) {
        try (Statement s = writer.createStatement(); ResultSet r = s.executeQuery("SELECT count(*)::DOUBLE / greatest(1,"
            + " count(DISTINCT " + SamplingRule.quote(tr.keyColumn()) + ")) FROM " + SamplingRule.quote(tr.table()))) {
          perKey.put(tr.table(), r.next() ? Math.max(1.0, r.getDouble(1)) : 1.0);
        }
      }
    }
    rowsPerKey = Map.copyOf(perKey);
    compress();
    measureResident();
  }

  /**
   * Rows per sampling key of each hashed table: a sample keeps or drops whole keys, so distinct values are
   * estimated over keys, not rows (see {@link OperatorScaling}).
   */
  Map<String, Double> rowsPerKey() {
    return rowsPerKey;
  }

  /** Copies rows above each table's watermark (sampled ones only); returns the number of rows copied. */
  synchronized long poll(Connection primary) throws SQLException {
    long copied = 0;
    for (TableRule tr : tables) {
      if (tr.keyColumn() == null) {
        continue;
      }
      Object max = maxKey(primary, tr.table(), tr.keyColumn());
      Object wm = watermarks.get(tr.table());
      if (max == null || wm != null && compare(max, wm) <= 0) {
        continue;
      }
      String key = SamplingRule.quote(tr.keyColumn());
      String where = rule.predicate(tr, fraction) + " AND " + key + " <= " + literal(max)
          + (wm == null ? "" : " AND " + key + " > " + literal(wm));
      Path file = export(primary, tr.table(), where);
      try (Statement s = writer.createStatement()) {
        copied += s.executeUpdate("INSERT INTO " + SamplingRule.quote(tr.table())
            + " SELECT * FROM read_parquet('" + file + "')");
      } finally {
        delete(file);
      }
      watermarks.put(tr.table(), max);
    }
    if (copied > 0) {
      compress();
      measureResident();
    }
    return copied;
  }

  private Path export(Connection primary, String table, String where) throws SQLException {
    Path file = dir.resolve("t" + (files++) + ".parquet");
    try (Statement s = primary.createStatement()) {
      s.execute("COPY (SELECT * FROM " + SamplingRule.quote(table) + " WHERE " + where + ") TO '" + file
          + "' (FORMAT parquet)");
    }
    return file;
  }

  private static Object maxKey(Connection c, String table, String key) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT max(" + SamplingRule.quote(key) + ") FROM " + SamplingRule.quote(table))) {
      r.next();
      return r.getObject(1);
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static int compare(Object a, Object b) {
    if (a instanceof Number x && b instanceof Number y) {
      return Double.compare(x.doubleValue(), y.doubleValue());
    }
    return ((Comparable) a).compareTo(b);
  }

  private static String literal(Object v) {
    if (v instanceof Number) {
      return v.toString();
    }
    return "'" + v.toString().replace("'", "''") + "'";
  }

  private static void delete(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException ignored) {
      // A leftover file in our own temporary directory is removed on close.
    }
  }

  @Override
  public synchronized void close() {
    try {
      writer.close();
      root.close();
    } catch (SQLException ignored) {
      // Closing an in-memory instance releases its memory either way.
    }
    try (var files = Files.list(dir)) {
      files.forEach(Replica::delete);
      Files.deleteIfExists(dir);
    } catch (IOException ignored) {
      // Best effort: the directory lives under the temporary root.
    }
  }
}
