package dev.penumbra.query.shadow;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which rows of each table a sampled replica keeps.
 *
 * <p>A <em>hashed</em> table keeps a row when {@code hash(key, group) mod 1e6 < fraction · 1e6}: the decision
 * depends only on the key, so tables hashed on the same key in the same group (orders and lineitem on the order
 * key) keep exactly the same keys — every sampled order keeps all its lineitems and joins on that key stay
 * complete. Different groups hash independently. A <em>whole</em> table is copied entirely. Tables of the primary
 * the rule does not name are copied whole once and not replicated afterwards.
 *
 * <p>A key column, when present, is also the replication watermark: rows are assumed to be appended with keys
 * above the current maximum, all rows of one key in one transaction (as TPC-H's refresh inserts do).
 *
 * @param tables the rule per table (lower-case names, unique)
 */
public record SamplingRule(List<TableRule> tables) {

  /**
   * How one table is sampled.
   *
   * @param table the table name (lower case)
   * @param keyColumn the sampling key and watermark column; null for a whole table copied once
   * @param group the hash group of a sampled table; null for a table copied whole
   */
  public record TableRule(String table, String keyColumn, String group) {
    public TableRule {
      if (table == null || table.isBlank()) {
        throw new IllegalArgumentException("table must not be blank, was '" + table + "'");
      }
      table = table.toLowerCase(Locale.ROOT);
      if (group != null && keyColumn == null) {
        throw new IllegalArgumentException("table '" + table + "': a sampled table needs a key column");
      }
    }

    public static TableRule hashed(String table, String keyColumn, String group) {
      return new TableRule(table, keyColumn, group);
    }

    public static TableRule whole(String table, String keyColumn) {
      return new TableRule(table, keyColumn, null);
    }

    public boolean sampled() {
      return group != null;
    }
  }

  public SamplingRule {
    Map<String, TableRule> byName = new LinkedHashMap<>();
    for (TableRule r : tables) {
      if (byName.put(r.table(), r) != null) {
        throw new IllegalArgumentException("table '" + r.table() + "' appears twice in the sampling rule");
      }
    }
    tables = List.copyOf(tables);
  }

  /**
   * The TPC-H rule: orders and lineitem hashed on the order key (group "orderkey"), partsupp on the part key
   * (group "partkey"), region, nation, supplier copied whole; customer and part whole unless
   * {@code sampleCustomerAndPart}, in which case customer is hashed on the customer key and part on the part key
   * (same group as partsupp, so a sampled part keeps its partsupp rows).
   */
  public static SamplingRule tpch(boolean sampleCustomerAndPart) {
    List<TableRule> t = new ArrayList<>();
    t.add(TableRule.whole("region", null));
    t.add(TableRule.whole("nation", null));
    t.add(TableRule.whole("supplier", "s_suppkey"));
    if (sampleCustomerAndPart) {
      t.add(TableRule.hashed("customer", "c_custkey", "custkey"));
      t.add(TableRule.hashed("part", "p_partkey", "partkey"));
    } else {
      t.add(TableRule.whole("customer", "c_custkey"));
      t.add(TableRule.whole("part", "p_partkey"));
    }
    t.add(TableRule.hashed("partsupp", "ps_partkey", "partkey"));
    t.add(TableRule.hashed("orders", "o_orderkey", "orderkey"));
    t.add(TableRule.hashed("lineitem", "l_orderkey", "orderkey"));
    return new SamplingRule(t);
  }

  /** {@link #tpch(boolean) tpch(false)}: customer and part copied whole. */
  public static SamplingRule tpch() {
    return tpch(false);
  }

  public Optional<TableRule> rule(String table) {
    String t = table.toLowerCase(Locale.ROOT);
    return tables.stream().filter(r -> r.table().equals(t)).findFirst();
  }

  /** The share of a table's rows a replica of {@code fraction} holds: the fraction when hashed, else 1. */
  public double fraction(String table, double fraction) {
    return rule(table).filter(TableRule::sampled).isPresent() ? fraction : 1.0;
  }

  /**
   * The effective sampling fraction of a query touching {@code tables}: {@code fraction^g} where g is the
   * number of distinct hash groups among them (1 when it touches only whole tables). Joins inside one group keep
   * whole keys, so they shrink by the fraction once; independent groups multiply.
   */
  public double effectiveFraction(Collection<String> tables, double fraction) {
    return Math.pow(fraction, groups(tables).size());
  }

  /** The distinct hash groups of the sampled tables among {@code tables}. */
  public Set<String> groups(Collection<String> tables) {
    Set<String> groups = new LinkedHashSet<>();
    for (String t : tables) {
      rule(t).filter(TableRule::sampled).ifPresent(r -> groups.add(r.group()));
    }
    return groups;
  }

  /** The SQL predicate selecting a hashed table's sampled rows, or "true" for a whole table. */
  String predicate(TableRule r, double fraction) {
    if (!r.sampled()) {
      return "true";
    }
    long threshold = Math.round(fraction * 1_000_000);
    return "hash(" + quote(r.keyColumn()) + ", '" + r.group().replace("'", "''") + "') % 1000000 < " + threshold;
  }

  static String quote(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }
}
