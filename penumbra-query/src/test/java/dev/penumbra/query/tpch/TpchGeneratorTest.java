package dev.penumbra.query.tpch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TpchGeneratorTest {
  @TempDir static Path dir;
  static TpchDatabase db;

  @BeforeAll
  static void generate() throws Exception {
    db = TpchDatabase.duckdb(dir.resolve("tpch.duckdb"), 0.01, 42);
  }

  /** A checksum per table over every generated value, computed from the generator itself. */
  static Map<TpchTable, Long> checksums(double scale, long seed) {
    Map<TpchTable, Long> sums = new EnumMap<>(TpchTable.class);
    for (TpchTable t : TpchTable.values()) {
      long[] h = {17};
      new TpchGenerator(scale, seed).generate(t, new RowSink() {
        void add(long v) {
          h[0] = Rng.mix(h[0] * 31 + v);
        }

        @Override public void int4(int v) { add(v); }
        @Override public void int8(long v) { add(v); }
        @Override public void cents(long v) { add(v); }
        @Override public void date(int d) { add(d); }
        @Override public void text(String v) { add(v.hashCode()); }
        @Override public void endRow() { add(-1); }
      });
      sums.put(t, h[0]);
    }
    return sums;
  }

  @Test
  void sameSeedGivesIdenticalRowsAndAnotherSeedDifferentOnes() {
    Map<TpchTable, Long> a = checksums(0.01, 42);
    assertThat(checksums(0.01, 42)).isEqualTo(a);
    Map<TpchTable, Long> b = checksums(0.01, 43);
    for (TpchTable t : TpchTable.values()) {
      assertThat(b.get(t)).as(t.sqlName()).isNotEqualTo(a.get(t));
    }
  }

  @Test
  void loadedDatabaseMatchesTheGeneratorChecksum() throws Exception {
    try (Connection c = db.connect(true); Statement st = c.createStatement()) {
      // The same values read back from DuckDB, in key order, hashed the same way as the generator's sink.
      try (ResultSet rs = st.executeQuery("SELECT * FROM lineitem ORDER BY l_orderkey, l_linenumber")) {
        long h = 17;
        int n = rs.getMetaData().getColumnCount();
        while (rs.next()) {
          for (int i = 1; i <= n; i++) {
            Object v = rs.getObject(i);
            long x = switch (v) {
              case java.math.BigDecimal d -> d.movePointRight(2).longValueExact();
              case java.time.LocalDate d -> d.toEpochDay();
              case java.sql.Date d -> d.toLocalDate().toEpochDay();
              case Number num -> num.longValue();
              default -> v.toString().hashCode();
            };
            h = Rng.mix(h * 31 + x);
          }
          h = Rng.mix(h * 31 - 1);
        }
        assertThat(h).isEqualTo(checksums(0.01, 42).get(TpchTable.LINEITEM));
      }
    }
  }

  @Test
  void rowCountsFollowTheSpecRatios() throws Exception {
    try (Connection c = db.connect(true)) {
      Map<TpchTable, Long> counts = Tpch.rowCounts(c);
      assertThat(counts.get(TpchTable.REGION)).isEqualTo(5);
      assertThat(counts.get(TpchTable.NATION)).isEqualTo(25);
      assertThat(counts.get(TpchTable.SUPPLIER)).isEqualTo(100);
      assertThat(counts.get(TpchTable.CUSTOMER)).isEqualTo(1_500);
      assertThat(counts.get(TpchTable.PART)).isEqualTo(2_000);
      assertThat(counts.get(TpchTable.PARTSUPP)).isEqualTo(8_000);
      assertThat(counts.get(TpchTable.ORDERS)).isEqualTo(15_000);
      // 1..7 lines per order, 4 on average: 60k +- a few percent.
      assertThat(counts.get(TpchTable.LINEITEM)).isBetween(57_000L, 63_000L);
      assertThat(Tpch.metadata(c)).contains(new TpchMetadata(0.01, 42, Tpch.FORMAT_VERSION));
    }
  }

  static long scalar(Connection c, String sql) throws Exception {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void keysAndForeignKeysAreConsistent() throws Exception {
    try (Connection c = db.connect(true)) {
      assertThat(scalar(c, "SELECT count(*) FROM lineitem l LEFT JOIN orders o ON l_orderkey = o_orderkey"
          + " WHERE o_orderkey IS NULL")).isZero();
      assertThat(scalar(c, "SELECT count(*) FROM lineitem l LEFT JOIN partsupp ps"
          + " ON l_partkey = ps_partkey AND l_suppkey = ps_suppkey WHERE ps_partkey IS NULL")).isZero();
      assertThat(scalar(c, "SELECT count(*) FROM orders LEFT JOIN customer ON o_custkey = c_custkey"
          + " WHERE c_custkey IS NULL")).isZero();
      assertThat(scalar(c, "SELECT count(*) FROM partsupp LEFT JOIN supplier ON ps_suppkey = s_suppkey"
          + " WHERE s_suppkey IS NULL")).isZero();
      assertThat(scalar(c, "SELECT count(*) - count(DISTINCT (ps_partkey, ps_suppkey)) FROM partsupp")).isZero();
      assertThat(scalar(c, "SELECT count(*) - count(DISTINCT (l_orderkey, l_linenumber)) FROM lineitem")).isZero();
      assertThat(scalar(c, "SELECT count(*) FROM customer LEFT JOIN nation ON c_nationkey = n_nationkey"
          + " WHERE n_nationkey IS NULL")).isZero();
      assertThat(scalar(c, "SELECT count(*) FROM orders WHERE o_custkey % 3 = 0")).isZero();
    }
  }

  @Test
  void valuesStayInTheSpecDomains() throws Exception {
    try (Connection c = db.connect(true)) {
      assertThat(scalar(c, "SELECT count(*) FROM lineitem WHERE l_quantity < 1 OR l_quantity > 50"
          + " OR l_discount < 0 OR l_discount > 0.10 OR l_tax > 0.08")).isZero();
      assertThat(scalar(c, "SELECT count(*) FROM lineitem WHERE l_shipdate < DATE '1992-01-02'"
          + " OR l_receiptdate > DATE '1998-12-31' OR l_receiptdate <= l_shipdate")).isZero();
      assertThat(scalar(c, "SELECT count(DISTINCT l_shipmode) FROM lineitem")).isEqualTo(7);
      assertThat(scalar(c, "SELECT count(DISTINCT l_returnflag || l_linestatus) FROM lineitem")).isEqualTo(4);
      assertThat(scalar(c, "SELECT count(DISTINCT o_orderstatus) FROM orders")).isEqualTo(3);
      // o_totalprice is the sum of its lines' extendedprice * (1 + tax) * (1 - discount).
      assertThat(scalar(c, "SELECT count(*) FROM orders o JOIN (SELECT l_orderkey, sum(l_extendedprice"
          + " * (1 + l_tax) * (1 - l_discount)) AS t FROM lineitem GROUP BY l_orderkey) x"
          + " ON o_orderkey = l_orderkey WHERE abs(o_totalprice - t) > 0.01 * 7")).isZero();
    }
  }

  @Test
  void anExistingFileIsReusedAndAMismatchIsRefused() throws Exception {
    long modified = java.nio.file.Files.getLastModifiedTime(db.file()).toMillis();
    TpchDatabase again = TpchDatabase.duckdb(db.file(), 0.01, 42);
    assertThat(again).isEqualTo(db);
    assertThat(java.nio.file.Files.getLastModifiedTime(db.file()).toMillis()).isEqualTo(modified);
    assertThatThrownBy(() -> TpchDatabase.duckdb(db.file(), 0.01, 7))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("seed=42").hasMessageContaining("seed=7");
    assertThatThrownBy(() -> TpchDatabase.duckdb(dir.resolve("x.duckdb"), 0, 7))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scale").hasMessageContaining("0.0");
  }

  @Test
  void insertsContinueTheKeySequenceAndKeepIntegrity() throws Exception {
    Path copy = dir.resolve("inserts.duckdb");
    java.nio.file.Files.copy(db.file(), copy);
    try (Connection c = TpchDatabase.open(copy, false)) {
      long before = scalar(c, "SELECT count(*) FROM lineitem");
      InsertedOrders ins = TpchInserts.newOrders(c, 50, 9);
      assertThat(ins.firstOrderKey()).isEqualTo(15_001);
      assertThat(ins.lastOrderKey()).isEqualTo(15_050);
      assertThat(ins.lineitems()).isBetween(50L, 350L);
      assertThat(scalar(c, "SELECT count(*) FROM lineitem")).isEqualTo(before + ins.lineitems());
      assertThat(scalar(c, "SELECT count(*) FROM lineitem l LEFT JOIN partsupp ps"
          + " ON l_partkey = ps_partkey AND l_suppkey = ps_suppkey WHERE ps_partkey IS NULL")).isZero();
      assertThat(scalar(c, "SELECT count(*) FROM orders o LEFT JOIN customer ON o_custkey = c_custkey"
          + " WHERE c_custkey IS NULL")).isZero();
      InsertedOrders next = TpchInserts.newOrders(c, 1, 9);
      assertThat(next.firstOrderKey()).isEqualTo(15_051);
      assertThatThrownBy(() -> TpchInserts.newOrders(c, 0, 9))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("count").hasMessageContaining("0");
    }
  }
}
