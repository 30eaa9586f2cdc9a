package dev.penumbra.query.workload;

import static dev.penumbra.query.workload.Params.day;
import static dev.penumbra.query.workload.Params.dec;
import static dev.penumbra.query.workload.Params.lit;
import static dev.penumbra.query.workload.Params.pick;
import static dev.penumbra.query.workload.Params.width;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.function.BiFunction;

/**
 * The query workload over the TPC-H schema: parameterised templates spanning the {@link CostClass}es, in
 * portable SQL (DuckDB and PostgreSQL). {@link #sample} draws a template uniformly among the training
 * templates and fills its parameters; {@link #sampleHeldOut} draws from the held-out ones.
 *
 * <pre>{@code
 * Workload w = Workload.tpch(1.0);
 * Random r = new Random(7);
 * QuerySpec q = w.sample(r);   // e.g. nation_revenue with region 'ASIA' and a 214-day window
 * }</pre>
 */
public final class Workload {
  static final String[] SEGMENTS = {"AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY", "HOUSEHOLD"};
  static final String[] REGIONS = {"AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"};
  static final String[] NATIONS = {"FRANCE", "GERMANY", "BRAZIL", "CHINA", "JAPAN", "KENYA", "PERU", "RUSSIA",
      "UNITED STATES", "INDIA", "EGYPT", "CANADA"};
  static final String[] PRIORITIES = {"1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"};
  static final String[] SHIP_MODES = {"REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB"};
  static final String[] METALS = {"TIN", "NICKEL", "BRASS", "STEEL", "COPPER"};
  static final String[] CONTAINERS = {"SM CASE", "LG BOX", "MED BAG", "JUMBO JAR", "WRAP PKG", "SM PACK"};
  static final String[] WORDS = {"special", "pending", "unusual", "express", "furious", "careful", "regular"};
  static final String[] NOUNS = {"requests", "packages", "accounts", "deposits", "instructions", "ideas"};

  private final Params params;
  private final List<QueryTemplate> templates;
  private final List<QueryTemplate> training;
  private final List<QueryTemplate> heldOut;

  public Workload(Params params, List<QueryTemplate> templates) {
    this.params = Objects.requireNonNull(params, "params");
    this.templates = List.copyOf(templates);
    this.training = this.templates.stream().filter(t -> !t.heldOut()).toList();
    this.heldOut = this.templates.stream().filter(QueryTemplate::heldOut).toList();
    if (training.isEmpty()) {
      throw new IllegalArgumentException("templates must include at least one that is not held out, were "
          + this.templates.size() + " held-out templates");
    }
    if (this.templates.stream().map(QueryTemplate::name).distinct().count() != this.templates.size()) {
      throw new IllegalArgumentException("template names must be unique");
    }
  }

  /** The standard templates with the key ranges of a TPC-H database at {@code scale}. */
  public static Workload tpch(double scale) {
    return new Workload(Params.tpch(scale), standardTemplates());
  }

  public Params params() {
    return params;
  }

  /** All templates, training and held out. */
  public List<QueryTemplate> templates() {
    return templates;
  }

  public List<QueryTemplate> trainingTemplates() {
    return training;
  }

  public List<QueryTemplate> heldOutTemplates() {
    return heldOut;
  }

  public QueryTemplate template(String name) {
    return templates.stream().filter(t -> t.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("template '" + name + "' is not in the workload"));
  }

  /** A query from a training template chosen uniformly, with random parameters. */
  public QuerySpec sample(Random random) {
    return training.get(random.nextInt(training.size())).instantiate(params, random);
  }

  /** A query from a held-out template; throws when there is none. */
  public QuerySpec sampleHeldOut(Random random) {
    if (heldOut.isEmpty()) {
      throw new IllegalStateException("the workload has no held-out templates");
    }
    return heldOut.get(random.nextInt(heldOut.size())).instantiate(params, random);
  }

  /** A query from the named template. */
  public QuerySpec sample(String template, Random random) {
    return template(template).instantiate(params, random);
  }

  private static QueryTemplate t(String name, CostClass c, BiFunction<Params, Random, String> sql) {
    return new QueryTemplate(name, c, false, sql);
  }

  private static QueryTemplate held(String name, CostClass c, BiFunction<Params, Random, String> sql) {
    return new QueryTemplate(name, c, true, sql);
  }

  /** The 35 standard templates (4 held out). */
  public static List<QueryTemplate> standardTemplates() {
    List<QueryTemplate> l = new ArrayList<>();
    // ---- point lookups
    l.add(t("order_by_key", CostClass.POINT_LOOKUP, (p, r) ->
        "SELECT o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate FROM orders WHERE o_orderkey = "
            + p.orderKey(r)));
    l.add(t("customer_by_key", CostClass.POINT_LOOKUP, (p, r) ->
        "SELECT c_name, c_address, c_phone, c_acctbal FROM customer WHERE c_custkey = " + p.custKey(r)));
    l.add(t("order_lines", CostClass.POINT_LOOKUP, (p, r) ->
        "SELECT l_linenumber, l_partkey, l_quantity, l_extendedprice FROM lineitem WHERE l_orderkey = "
            + p.orderKey(r) + " ORDER BY l_linenumber"));
    l.add(t("part_suppliers", CostClass.POINT_LOOKUP, (p, r) ->
        "SELECT ps_suppkey, ps_availqty, ps_supplycost FROM partsupp WHERE ps_partkey = " + p.partKey(r)));
    // ---- selective scans
    l.add(t("orders_in_range", CostClass.SELECTIVE_SCAN, (p, r) -> {
      int w = width(r, 1, 90);
      LocalDate d = day(r, w);
      return "SELECT o_orderkey, o_totalprice FROM orders WHERE o_orderdate BETWEEN " + lit(d) + " AND "
          + lit(d.plusDays(w)) + " AND o_orderpriority = '" + pick(r, PRIORITIES) + "'";
    }));
    l.add(t("discounted_revenue", CostClass.SELECTIVE_SCAN, (p, r) -> {
      int w = width(r, 7, 730);
      LocalDate d = day(r, w);
      double disc = 0.01 * r.nextInt(9);
      return "SELECT count(*) AS lines, sum(l_extendedprice * l_discount) AS revenue FROM lineitem"
          + " WHERE l_shipdate >= " + lit(d) + " AND l_shipdate < " + lit(d.plusDays(w))
          + " AND l_discount BETWEEN " + dec(disc) + " AND " + dec(disc + 0.02)
          + " AND l_quantity < " + (5 + r.nextInt(46));
    }));
    l.add(t("rich_customers", CostClass.SELECTIVE_SCAN, (p, r) ->
        "SELECT c_custkey, c_name, c_acctbal FROM customer WHERE c_acctbal > " + (2000 + r.nextInt(7900))
            + " AND c_mktsegment = '" + pick(r, SEGMENTS) + "'"));
    l.add(t("parts_by_type", CostClass.SELECTIVE_SCAN, (p, r) -> {
      int a = 1 + r.nextInt(50);
      return "SELECT p_partkey, p_name, p_retailprice FROM part WHERE p_type LIKE '%" + pick(r, METALS)
          + "' AND p_size BETWEEN " + a + " AND " + (a + r.nextInt(20));
    }));
    l.add(held("comment_search", CostClass.SELECTIVE_SCAN, (p, r) ->
        "SELECT count(*) AS matches FROM orders WHERE o_comment LIKE '%" + pick(r, WORDS) + "%"
            + pick(r, NOUNS) + "%'"));
    // ---- full scans
    l.add(t("pricing_summary", CostClass.FULL_SCAN, (p, r) ->
        "SELECT l_returnflag, l_linestatus, sum(l_quantity) AS qty, sum(l_extendedprice) AS base,"
            + " sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS charge, avg(l_discount) AS disc,"
            + " count(*) AS lines FROM lineitem WHERE l_shipdate <= " + lit(day(r, 0))
            + " GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus"));
    l.add(t("late_shipments_by_mode", CostClass.FULL_SCAN, (p, r) -> {
      int w = width(r, 90, 2400);
      LocalDate d = day(r, w);
      return "SELECT l_shipmode, count(*) AS late, avg(l_quantity) AS qty FROM lineitem"
          + " WHERE l_receiptdate > l_commitdate AND l_shipdate BETWEEN " + lit(d) + " AND " + lit(d.plusDays(w))
          + " GROUP BY l_shipmode ORDER BY l_shipmode";
    }));
    l.add(t("yearly_order_totals", CostClass.FULL_SCAN, (p, r) ->
        "SELECT extract(year FROM o_orderdate) AS yr, o_orderstatus, count(*) AS n, sum(o_totalprice) AS total"
            + " FROM orders WHERE o_totalprice > " + (1000 * r.nextInt(200))
            + " GROUP BY extract(year FROM o_orderdate), o_orderstatus ORDER BY yr, o_orderstatus"));
    l.add(t("distinct_parts_shipped", CostClass.FULL_SCAN, (p, r) -> {
      int w = width(r, 30, 2400);
      LocalDate d = day(r, w);
      return "SELECT count(DISTINCT l_partkey) AS parts, count(DISTINCT l_suppkey) AS suppliers FROM lineitem"
          + " WHERE l_shipdate BETWEEN " + lit(d) + " AND " + lit(d.plusDays(w));
    }));
    // ---- joins
    l.add(t("segment_orders", CostClass.JOIN, (p, r) -> {
      int w = width(r, 30, 2400);
      LocalDate d = day(r, w);
      return "SELECT c_mktsegment, count(*) AS n, sum(o_totalprice) AS total FROM customer"
          + " JOIN orders ON c_custkey = o_custkey WHERE o_orderdate BETWEEN " + lit(d) + " AND "
          + lit(d.plusDays(w)) + " GROUP BY c_mktsegment ORDER BY c_mktsegment";
    }));
    l.add(t("nation_revenue", CostClass.JOIN, (p, r) -> {
      int w = width(r, 30, 730);
      LocalDate d = day(r, w);
      return "SELECT n_name, sum(l_extendedprice * (1 - l_discount)) AS revenue FROM customer"
          + " JOIN orders ON c_custkey = o_custkey JOIN lineitem ON l_orderkey = o_orderkey"
          + " JOIN supplier ON l_suppkey = s_suppkey AND c_nationkey = s_nationkey"
          + " JOIN nation ON s_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey"
          + " WHERE r_name = '" + pick(r, REGIONS) + "' AND o_orderdate >= " + lit(d) + " AND o_orderdate < "
          + lit(d.plusDays(w)) + " GROUP BY n_name ORDER BY revenue DESC";
    }));
    l.add(t("cheapest_suppliers", CostClass.JOIN, (p, r) ->
        "SELECT s_name, s_acctbal, p_partkey, p_mfgr, ps_supplycost FROM part"
            + " JOIN partsupp ON p_partkey = ps_partkey JOIN supplier ON ps_suppkey = s_suppkey"
            + " WHERE p_size = " + (1 + r.nextInt(50)) + " AND p_type LIKE '%" + pick(r, METALS) + "'"
            + " ORDER BY ps_supplycost, s_acctbal DESC, p_partkey LIMIT " + (10 + r.nextInt(191))));
    l.add(t("late_lines_by_nation", CostClass.JOIN, (p, r) -> {
      int w = width(r, 30, 1500);
      LocalDate d = day(r, w);
      return "SELECT n_name, count(*) AS late FROM lineitem JOIN orders ON l_orderkey = o_orderkey"
          + " JOIN supplier ON l_suppkey = s_suppkey JOIN nation ON s_nationkey = n_nationkey"
          + " WHERE l_receiptdate > l_commitdate AND o_orderstatus = 'F' AND o_orderdate BETWEEN " + lit(d)
          + " AND " + lit(d.plusDays(w)) + " GROUP BY n_name ORDER BY late DESC, n_name";
    }));
    l.add(t("brand_container_volume", CostClass.JOIN, (p, r) ->
        "SELECT p_brand, p_container, sum(l_quantity) AS qty, avg(l_extendedprice) AS price FROM lineitem"
            + " JOIN part ON l_partkey = p_partkey WHERE p_brand = 'Brand#" + (1 + r.nextInt(5)) + (1 + r.nextInt(5))
            + "' AND p_container = '" + pick(r, CONTAINERS) + "' AND l_quantity BETWEEN " + r.nextInt(20)
            + " AND " + (20 + r.nextInt(31)) + " GROUP BY p_brand, p_container"));
    l.add(held("trade_between_nations", CostClass.JOIN, (p, r) -> {
      int w = width(r, 60, 1500);
      LocalDate d = day(r, w);
      return "SELECT sn.n_name AS supp_nation, cn.n_name AS cust_nation, extract(year FROM l_shipdate) AS yr,"
          + " sum(l_extendedprice * (1 - l_discount)) AS volume FROM supplier"
          + " JOIN lineitem ON s_suppkey = l_suppkey JOIN orders ON o_orderkey = l_orderkey"
          + " JOIN customer ON c_custkey = o_custkey JOIN nation sn ON s_nationkey = sn.n_nationkey"
          + " JOIN nation cn ON c_nationkey = cn.n_nationkey WHERE sn.n_name = '" + pick(r, NATIONS)
          + "' AND cn.n_name = '" + pick(r, NATIONS) + "' AND l_shipdate BETWEEN " + lit(d) + " AND "
          + lit(d.plusDays(w)) + " GROUP BY sn.n_name, cn.n_name, extract(year FROM l_shipdate)"
          + " ORDER BY supp_nation, cust_nation, yr";
    }));
    // ---- high-cardinality aggregation
    l.add(t("spend_per_customer", CostClass.AGGREGATION, (p, r) ->
        "SELECT o_custkey, count(*) AS n, sum(o_totalprice) AS total FROM orders WHERE o_orderdate >= "
            + lit(day(r, 30)) + " GROUP BY o_custkey HAVING count(*) > " + r.nextInt(10)));
    l.add(t("part_supplier_volume", CostClass.AGGREGATION, (p, r) -> {
      int w = width(r, 30, 2400);
      LocalDate d = day(r, w);
      return "SELECT l_partkey, l_suppkey, sum(l_quantity) AS qty FROM lineitem WHERE l_shipdate BETWEEN "
          + lit(d) + " AND " + lit(d.plusDays(w)) + " GROUP BY l_partkey, l_suppkey"
          + " ORDER BY qty DESC, l_partkey, l_suppkey LIMIT 50";
    }));
    l.add(t("top_order_revenue", CostClass.AGGREGATION, (p, r) ->
        "SELECT l_orderkey, sum(l_extendedprice * (1 - l_discount)) AS revenue FROM lineitem"
            + " WHERE l_shipdate > " + lit(day(r, 30)) + " GROUP BY l_orderkey ORDER BY revenue DESC, l_orderkey"
            + " LIMIT " + (10 + r.nextInt(91))));
    l.add(t("daily_shipments", CostClass.AGGREGATION, (p, r) -> {
      int w = width(r, 30, 2400);
      LocalDate d = day(r, w);
      return "SELECT l_shipdate, l_shipmode, count(*) AS n, sum(l_quantity) AS qty FROM lineitem"
          + " WHERE l_shipdate BETWEEN " + lit(d) + " AND " + lit(d.plusDays(w)) + " GROUP BY l_shipdate, l_shipmode";
    }));
    l.add(t("clerk_productivity", CostClass.AGGREGATION, (p, r) ->
        "SELECT o_clerk, date_trunc('month', o_orderdate) AS month, count(*) AS n, sum(o_totalprice) AS total"
            + " FROM orders WHERE o_orderpriority <= '" + pick(r, PRIORITIES) + "'"
            + " GROUP BY o_clerk, date_trunc('month', o_orderdate)"));
    // ---- large sorts
    l.add(t("sorted_lines", CostClass.SORT, (p, r) -> {
      int w = width(r, 7, 2400);
      LocalDate d = day(r, w);
      return "SELECT l_orderkey, l_linenumber, l_partkey, l_extendedprice, l_comment FROM lineitem"
          + " WHERE l_shipdate BETWEEN " + lit(d) + " AND " + lit(d.plusDays(w))
          + " ORDER BY l_extendedprice DESC, l_orderkey, l_linenumber";
    }));
    l.add(t("orders_by_comment", CostClass.SORT, (p, r) ->
        "SELECT o_orderkey, o_comment FROM orders WHERE o_orderdate >= " + lit(day(r, 30))
            + " ORDER BY o_comment, o_orderkey LIMIT " + (100 + r.nextInt(5000))));
    l.add(t("customers_by_nation_balance", CostClass.SORT, (p, r) ->
        "SELECT c_custkey, c_name, c_nationkey, c_acctbal, c_comment FROM customer WHERE c_acctbal > "
            + (-1000 + r.nextInt(10000)) + " ORDER BY c_nationkey, c_acctbal DESC, c_custkey"));
    // ---- window functions
    l.add(t("running_customer_spend", CostClass.WINDOW, (p, r) -> {
      int w = width(r, 30, 2400);
      LocalDate d = day(r, w);
      return "SELECT o_custkey, o_orderkey, o_orderdate, sum(o_totalprice) OVER (PARTITION BY o_custkey"
          + " ORDER BY o_orderdate, o_orderkey) AS running FROM orders WHERE o_orderdate BETWEEN " + lit(d)
          + " AND " + lit(d.plusDays(w));
    }));
    l.add(t("top_suppliers_per_nation", CostClass.WINDOW, (p, r) ->
        "SELECT s_nationkey, s_suppkey, s_acctbal, rnk FROM (SELECT s_nationkey, s_suppkey, s_acctbal,"
            + " rank() OVER (PARTITION BY s_nationkey ORDER BY s_acctbal DESC, s_suppkey) AS rnk FROM supplier) x"
            + " WHERE rnk <= " + (1 + r.nextInt(20))));
    l.add(held("line_moving_average", CostClass.WINDOW, (p, r) -> {
      int w = width(r, 7, 1500);
      LocalDate d = day(r, w);
      return "SELECT l_orderkey, l_linenumber, avg(l_quantity) OVER (ORDER BY l_shipdate, l_orderkey,"
          + " l_linenumber ROWS BETWEEN " + (1 + r.nextInt(50)) + " PRECEDING AND CURRENT ROW) AS moving"
          + " FROM lineitem WHERE l_shipdate BETWEEN " + lit(d) + " AND " + lit(d.plusDays(w));
    }));
    l.add(t("price_quartiles_per_brand", CostClass.WINDOW, (p, r) ->
        "SELECT p_brand, p_partkey, p_retailprice, ntile(4) OVER (PARTITION BY p_brand ORDER BY p_retailprice,"
            + " p_partkey) AS quartile FROM part WHERE p_size <= " + (5 + r.nextInt(46))));
    // ---- subqueries
    l.add(t("customers_without_recent_orders", CostClass.SUBQUERY, (p, r) ->
        "SELECT count(*) AS idle FROM customer WHERE c_mktsegment = '" + pick(r, SEGMENTS) + "' AND NOT EXISTS"
            + " (SELECT 1 FROM orders WHERE o_custkey = c_custkey AND o_orderdate >= " + lit(day(r, 30)) + ")"));
    l.add(t("parts_above_brand_average", CostClass.SUBQUERY, (p, r) -> {
      String brand = "Brand#" + (1 + r.nextInt(5)) + (1 + r.nextInt(5));
      return "SELECT p_partkey, p_name, p_retailprice FROM part WHERE p_brand = '" + brand + "' AND p_retailprice"
          + " > (SELECT " + dec(1 + r.nextDouble() * 0.3) + " * avg(p_retailprice) FROM part WHERE p_brand = '"
          + brand + "')";
    }));
    l.add(t("large_order_customers", CostClass.SUBQUERY, (p, r) ->
        "SELECT c_name, o_orderkey, o_totalprice FROM customer JOIN orders ON c_custkey = o_custkey"
            + " WHERE o_orderkey IN (SELECT l_orderkey FROM lineitem GROUP BY l_orderkey HAVING sum(l_quantity) > "
            + (150 + r.nextInt(160)) + ") ORDER BY o_totalprice DESC, o_orderkey LIMIT 100"));
    l.add(held("suppliers_with_excess_stock", CostClass.SUBQUERY, (p, r) -> {
      int w = width(r, 90, 730);
      LocalDate d = day(r, w);
      return "SELECT s_name, s_address FROM supplier WHERE s_suppkey IN (SELECT ps_suppkey FROM partsupp"
          + " WHERE ps_availqty > (SELECT " + dec(0.2 + r.nextDouble()) + " * sum(l_quantity) FROM lineitem"
          + " WHERE l_partkey = ps_partkey AND l_suppkey = ps_suppkey AND l_shipdate BETWEEN " + lit(d)
          + " AND " + lit(d.plusDays(w)) + ")) ORDER BY s_name";
    }));
    return l;
  }
}
