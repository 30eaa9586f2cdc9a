package dev.penumbra.query.tpch;

import java.util.List;

/**
 * The eight TPC-H tables, with the spec's table and column names. Column types are portable between DuckDB
 * and PostgreSQL: INTEGER keys (BIGINT order keys, so large scale factors fit), DECIMAL(15,2) money, DATE,
 * VARCHAR text.
 */
public enum TpchTable {
  REGION("region", "r_regionkey", """
      r_regionkey INTEGER NOT NULL, r_name VARCHAR(25) NOT NULL, r_comment VARCHAR(152) NOT NULL"""),
  NATION("nation", "n_nationkey", """
      n_nationkey INTEGER NOT NULL, n_name VARCHAR(25) NOT NULL, n_regionkey INTEGER NOT NULL,
      n_comment VARCHAR(152) NOT NULL"""),
  SUPPLIER("supplier", "s_suppkey", """
      s_suppkey INTEGER NOT NULL, s_name VARCHAR(25) NOT NULL, s_address VARCHAR(40) NOT NULL,
      s_nationkey INTEGER NOT NULL, s_phone VARCHAR(15) NOT NULL, s_acctbal DECIMAL(15,2) NOT NULL,
      s_comment VARCHAR(101) NOT NULL"""),
  CUSTOMER("customer", "c_custkey", """
      c_custkey INTEGER NOT NULL, c_name VARCHAR(25) NOT NULL, c_address VARCHAR(40) NOT NULL,
      c_nationkey INTEGER NOT NULL, c_phone VARCHAR(15) NOT NULL, c_acctbal DECIMAL(15,2) NOT NULL,
      c_mktsegment VARCHAR(10) NOT NULL, c_comment VARCHAR(117) NOT NULL"""),
  PART("part", "p_partkey", """
      p_partkey INTEGER NOT NULL, p_name VARCHAR(55) NOT NULL, p_mfgr VARCHAR(25) NOT NULL,
      p_brand VARCHAR(10) NOT NULL, p_type VARCHAR(25) NOT NULL, p_size INTEGER NOT NULL,
      p_container VARCHAR(10) NOT NULL, p_retailprice DECIMAL(15,2) NOT NULL, p_comment VARCHAR(23) NOT NULL"""),
  PARTSUPP("partsupp", "ps_partkey, ps_suppkey", """
      ps_partkey INTEGER NOT NULL, ps_suppkey INTEGER NOT NULL, ps_availqty INTEGER NOT NULL,
      ps_supplycost DECIMAL(15,2) NOT NULL, ps_comment VARCHAR(199) NOT NULL"""),
  ORDERS("orders", "o_orderkey", """
      o_orderkey BIGINT NOT NULL, o_custkey INTEGER NOT NULL, o_orderstatus VARCHAR(1) NOT NULL,
      o_totalprice DECIMAL(15,2) NOT NULL, o_orderdate DATE NOT NULL, o_orderpriority VARCHAR(15) NOT NULL,
      o_clerk VARCHAR(15) NOT NULL, o_shippriority INTEGER NOT NULL, o_comment VARCHAR(79) NOT NULL"""),
  LINEITEM("lineitem", "l_orderkey, l_linenumber", """
      l_orderkey BIGINT NOT NULL, l_partkey INTEGER NOT NULL, l_suppkey INTEGER NOT NULL,
      l_linenumber INTEGER NOT NULL, l_quantity DECIMAL(15,2) NOT NULL, l_extendedprice DECIMAL(15,2) NOT NULL,
      l_discount DECIMAL(15,2) NOT NULL, l_tax DECIMAL(15,2) NOT NULL, l_returnflag VARCHAR(1) NOT NULL,
      l_linestatus VARCHAR(1) NOT NULL, l_shipdate DATE NOT NULL, l_commitdate DATE NOT NULL,
      l_receiptdate DATE NOT NULL, l_shipinstruct VARCHAR(25) NOT NULL, l_shipmode VARCHAR(10) NOT NULL,
      l_comment VARCHAR(44) NOT NULL""");

  private final String sqlName;
  private final String primaryKey;
  private final String columnsDdl;

  TpchTable(String sqlName, String primaryKey, String columnsDdl) {
    this.sqlName = sqlName;
    this.primaryKey = primaryKey;
    this.columnsDdl = columnsDdl;
  }

  /** The table's SQL name, e.g. {@code lineitem}. */
  public String sqlName() {
    return sqlName;
  }

  /** The primary key's columns, comma-separated. */
  public String primaryKey() {
    return primaryKey;
  }

  /** The column names in table order. */
  public List<String> columns() {
    return columnsDdl.lines()
        .flatMap(l -> java.util.Arrays.stream(l.split(",")))
        .map(String::trim)
        .filter(s -> !s.isEmpty() && !Character.isDigit(s.charAt(0)))
        .map(s -> s.substring(0, s.indexOf(' ')))
        .toList();
  }

  String createTable() {
    return "CREATE TABLE " + sqlName + " (" + columnsDdl.replace('\n', ' ') + ")";
  }

  /** Rows of this table at a scale factor (lineitem: the expected value, about 4 per order). */
  public long expectedRows(double scale) {
    TpchCounts c = TpchCounts.of(scale);
    return switch (this) {
      case REGION -> 5;
      case NATION -> 25;
      case SUPPLIER -> c.suppliers();
      case CUSTOMER -> c.customers();
      case PART -> c.parts();
      case PARTSUPP -> c.parts() * TpchCounts.SUPPLIERS_PER_PART;
      case ORDERS -> c.orders();
      case LINEITEM -> c.orders() * 4;
    };
  }
}
