package dev.penumbra.core;

import java.util.Locale;

/**
 * How much a piece of work matters. The priority chooses how conservatively its reservation is sized (the
 * forecast quantile) and what it may preempt: only strictly lower priorities.
 */
public enum Priority {
  /** Latency-critical work: sized at the forecast's p99, may preempt standard and batch work. */
  CRITICAL(0.99),
  /** Interactive work: sized at p90, may preempt batch work. */
  STANDARD(0.90),
  /** Throughput work: sized at the median, never preempts. */
  BATCH(0.50);

  private final double quantile;

  Priority(double quantile) {
    this.quantile = quantile;
  }

  /** The forecast quantile a reservation of this priority is sized from. */
  public double quantile() {
    return quantile;
  }

  /** True when this priority may preempt work of {@code other}: strictly higher only. */
  public boolean outranks(Priority other) {
    return ordinal() < other.ordinal();
  }

  /** Parses "critical", "standard" or "batch" (case-insensitive). */
  public static Priority parse(String text) {
    if (text != null) {
      for (Priority p : values()) {
        if (p.name().equalsIgnoreCase(text.trim())) {
          return p;
        }
      }
    }
    throw new IllegalArgumentException("priority '" + text + "' is not one of critical, standard, batch");
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
