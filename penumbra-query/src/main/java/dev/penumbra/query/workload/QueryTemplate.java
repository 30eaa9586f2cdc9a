package dev.penumbra.query.workload;

import java.util.Objects;
import java.util.Random;
import java.util.function.BiFunction;

/**
 * A parameterised query shape. {@link #instantiate} draws its parameters from the given random source, so
 * cost varies within a template (date ranges of different widths, selectivities, limits).
 *
 * @param name unique snake_case name
 * @param costClass what kind of work it does
 * @param heldOut true for the templates kept out of training (the benchmark tests on them as unseen shapes)
 * @param sql builds the SQL text from the random source and the workload's key ranges
 */
public record QueryTemplate(
    String name, CostClass costClass, boolean heldOut, BiFunction<Params, Random, String> sql) {

  public QueryTemplate {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(costClass, "costClass");
    Objects.requireNonNull(sql, "sql");
  }

  public QuerySpec instantiate(Params params, Random random) {
    return new QuerySpec(name, costClass, heldOut, sql.apply(params, random));
  }
}
