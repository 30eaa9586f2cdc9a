package dev.penumbra.query.shadow;

import java.util.Set;

/**
 * What the primary's optimizer says about the full query ({@code EXPLAIN (FORMAT JSON)}), before it runs.
 *
 * @param estimatedRows the estimated cardinality of the plan's root (result rows)
 * @param estimatedRowsScanned the sum of the estimated cardinalities of the table scans
 * @param maxEstimatedCardinality the largest estimated cardinality of any operator
 * @param operators number of physical operators
 * @param joins hash, nested-loop, merge, inequality and delim joins and cross products
 * @param aggregates grouped and ungrouped aggregates
 * @param sorts ORDER BY and TOP_N operators
 * @param windows window operators
 * @param filters filter operators
 * @param tables the base tables the plan scans (lower case, without catalog/schema)
 */
public record PlanFeatures(
    double estimatedRows,
    double estimatedRowsScanned,
    double maxEstimatedCardinality,
    int operators,
    int joins,
    int aggregates,
    int sorts,
    int windows,
    int filters,
    Set<String> tables) {

  public PlanFeatures {
    tables = Set.copyOf(tables);
  }
}
