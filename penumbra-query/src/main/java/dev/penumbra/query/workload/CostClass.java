package dev.penumbra.query.workload;

/** The kind of work a query template does, which broadly sets how much CPU and memory it needs. */
public enum CostClass {
  /** A primary-key lookup: a handful of rows. */
  POINT_LOOKUP,
  /** A scan with selective predicates (date ranges, value ranges) returning a small share of a table. */
  SELECTIVE_SCAN,
  /** A scan and aggregation over most of a large table. */
  FULL_SCAN,
  /** Joins of 2 to 6 tables. */
  JOIN,
  /** GROUP BY with many groups (hash tables proportional to the input). */
  AGGREGATION,
  /** ORDER BY over many rows (memory or spill for the sort). */
  SORT,
  /** Window functions (partitioned and ordered state). */
  WINDOW,
  /** Correlated or uncorrelated subqueries (EXISTS, IN, scalar). */
  SUBQUERY
}
