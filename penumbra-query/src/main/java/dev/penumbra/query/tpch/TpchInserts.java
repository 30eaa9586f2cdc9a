package dev.penumbra.query.tpch;

import dev.penumbra.core.Checks;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collections;

/** Adds rows to an existing TPC-H database, as a live system would, continuing the key sequences. */
public final class TpchInserts {
  private TpchInserts() {}

  /**
   * Inserts {@code count} new orders, each with 1-7 lineitems, in one transaction. Keys continue after the
   * largest existing o_orderkey; customers, parts and suppliers are drawn from the existing ones (the scale
   * factor is read from {@code tpch_metadata}), so referential integrity holds. Rows are a function of
   * ({@code seed}, key): the same call on two copies of a database inserts identical rows.
   *
   * @throws IllegalArgumentException when count < 1
   * @throws IllegalStateException when the database has no TPC-H metadata
   */
  public static InsertedOrders newOrders(Connection c, int count, long seed) throws SQLException {
    Checks.atLeast("count", count, 1);
    TpchMetadata meta = Tpch.metadata(c).orElseThrow(
        () -> new IllegalStateException("no " + Tpch.METADATA_TABLE + " table: not a TPC-H database"));
    long max;
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT coalesce(max(o_orderkey), 0) FROM orders")) {
      rs.next();
      max = rs.getLong(1);
    }
    // A seed of its own so new orders differ from the generated ones at the same keys of another database.
    TpchGenerator gen = new TpchGenerator(meta.scale(), Rng.mix(seed ^ meta.seed()));
    boolean auto = c.getAutoCommit();
    c.setAutoCommit(false);
    try (PreparedStatement o = c.prepareStatement(insert(TpchTable.ORDERS));
        PreparedStatement l = c.prepareStatement(insert(TpchTable.LINEITEM))) {
      long[] lines = {0};
      RowSink lineSink = new Sinks.Batch(l) {
        @Override
        public void endRow() {
          super.endRow();
          lines[0]++;
        }
      };
      try {
        gen.orders(max + 1, max + count, new Sinks.Batch(o), lineSink);
      } catch (RowSink.LoadFailure e) {
        throw (SQLException) e.getCause();
      }
      o.executeBatch();
      l.executeBatch();
      c.commit();
      return new InsertedOrders(max + 1, max + count, lines[0]);
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(auto);
    }
  }

  private static String insert(TpchTable t) {
    int n = t.columns().size();
    return "INSERT INTO " + t.sqlName() + " VALUES (" + String.join(", ", Collections.nCopies(n, "?")) + ")";
  }
}
