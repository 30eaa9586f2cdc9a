package dev.penumbra.query.workload;

import java.util.Objects;

/**
 * One concrete query drawn from the workload.
 *
 * @param template the template's name, e.g. {@code nation_revenue}
 * @param costClass the template's cost class
 * @param heldOut whether the template is in the held-out set (shapes a model must not train on)
 * @param sql the SQL text with its parameters filled in; runs on DuckDB and PostgreSQL
 */
public record QuerySpec(String template, CostClass costClass, boolean heldOut, String sql) {
  public QuerySpec {
    Objects.requireNonNull(template, "template");
    Objects.requireNonNull(costClass, "costClass");
    Objects.requireNonNull(sql, "sql");
  }
}
