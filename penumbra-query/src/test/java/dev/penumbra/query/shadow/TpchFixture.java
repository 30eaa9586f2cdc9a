package dev.penumbra.query.shadow;

import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import org.duckdb.DuckDBConnection;

/** A small TPC-H-shaped primary database in memory, seeded (setseed) so every run builds the same data. */
public final class TpchFixture {
  private TpchFixture() {}

  public static DuckDBConnection primary(int orders) throws SQLException {
    DuckDBConnection c = (DuckDBConnection) DriverManager.getConnection("jdbc:duckdb:");
    try (Statement s = c.createStatement()) {
      s.execute("SET threads = 1");
      s.execute("SELECT setseed(0.42)");
      s.execute("CREATE TABLE region AS SELECT range AS r_regionkey, 'R' || range AS r_name FROM range(5)");
      s.execute("CREATE TABLE nation AS SELECT range AS n_nationkey, 'N' || range AS n_name, range % 5 AS n_regionkey"
          + " FROM range(25)");
      s.execute("CREATE TABLE supplier AS SELECT range AS s_suppkey, range % 25 AS s_nationkey,"
          + " round(random() * 10000, 2) AS s_acctbal FROM range(100)");
      s.execute("CREATE TABLE customer AS SELECT range AS c_custkey, range % 25 AS c_nationkey,"
          + " 'C' || range AS c_name, round(random() * 10000, 2) AS c_acctbal FROM range(1500)");
      s.execute("CREATE TABLE part AS SELECT range AS p_partkey, 'P' || range AS p_name,"
          + " (random() * 50)::INTEGER AS p_size FROM range(2000)");
      s.execute("CREATE TABLE partsupp AS SELECT p.range AS ps_partkey, (p.range + k.range * 25) % 100 AS ps_suppkey,"
          + " round(random() * 1000, 2) AS ps_supplycost FROM range(2000) p, range(4) k");
      s.execute("CREATE TABLE orders AS SELECT range AS o_orderkey, (random() * 1499)::BIGINT AS o_custkey,"
          + " DATE '1992-01-01' + (random() * 2400)::INTEGER AS o_orderdate,"
          + " round(random() * 100000, 2) AS o_totalprice FROM range(" + orders + ")");
      s.execute("CREATE TABLE lineitem AS SELECT o_orderkey AS l_orderkey, n.range AS l_linenumber,"
          + " (random() * 1999)::BIGINT AS l_partkey, (random() * 99)::BIGINT AS l_suppkey,"
          + " (1 + random() * 49)::INTEGER AS l_quantity, round(random() * 10000, 2) AS l_extendedprice,"
          + " o_orderdate + (random() * 120)::INTEGER AS l_shipdate"
          + " FROM orders, range(7) n WHERE n.range < 1 + o_orderkey % 7");
    }
    return c;
  }
}
