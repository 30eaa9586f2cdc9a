package dev.penumbra.eval.replay;

/** A named, typed score of one policy on one trace; reporters iterate these generically. */
public enum Metric {
  SLACK("slack", Type.FRACTION, "sum(max(alloc - used, 0)) / sum(alloc)"),
  VIOLATION_RATE("violation_rate", Type.FRACTION, "share of intervals with used > alloc"),
  SHORTFALL("shortfall", Type.FRACTION, "sum(max(used - alloc, 0)) / sum(used)"),
  ACTUATIONS("actuations", Type.COUNT, "number of allocation changes"),
  MARGIN_AT_BUDGET("margin_at_budget", Type.FACTOR, "smallest factor m on the allocations whose violation rate is within the budget"),
  SLACK_AT_BUDGET("slack_at_budget", Type.FRACTION, "slack of m * alloc"),
  ORACLE_GAP("oracle_gap", Type.FRACTION, "sum(m * alloc) / sum(used) - 1: over-allocation beyond the oracle's at the budget");

  /** How a value is read and printed. */
  public enum Type {
    /** A share in [0, 1], printed as a percentage. */
    FRACTION,
    /** A whole number of events. */
    COUNT,
    /** A multiplier. */
    FACTOR
  }

  private final String label;
  private final Type type;
  private final String description;

  Metric(String label, Type type, String description) {
    this.label = label;
    this.type = type;
    this.description = description;
  }

  /** The snake_case name used in CSV headers and JSON fields. */
  public String label() {
    return label;
  }

  public Type type() {
    return type;
  }

  public String description() {
    return description;
  }

  /** The value for humans: percentages with two decimals, counts whole, factors with three decimals. */
  public String format(double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return "n/a";
    }
    return switch (type) {
      case FRACTION -> String.format(java.util.Locale.ROOT, "%.2f%%", value * 100);
      case COUNT -> String.format(java.util.Locale.ROOT, "%d", Math.round(value));
      case FACTOR -> String.format(java.util.Locale.ROOT, "%.3f", value);
    };
  }
}
