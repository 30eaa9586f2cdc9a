package dev.penumbra.core.loop;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Priority;
import dev.penumbra.core.Resources;
import dev.penumbra.core.Resources.Dimension;

/**
 * The one cost function every loop scores its rules with: slack (held but unused) priced per resource, shortfall
 * (needed but not held: stall, queueing, OOM, lag) priced per resource and by priority, and each actuation
 * (acquire, resize) at a fixed price. Units: a cost per core-second, per GiB-second, per MB/s-second.
 *
 * @param cpuPerCoreSecond slack price of one idle core for one second
 * @param memoryPerGibSecond slack price of one idle GiB for one second
 * @param ioPerMbSecond slack price of one idle MB/s of IO (or network) for one second
 * @param shortfallFactor how many times its slack price a missing unit costs, for standard priority; critical
 *     costs {@code shortfallFactor * criticalWeight}, batch {@code shortfallFactor / criticalWeight}
 * @param criticalWeight how much more a critical shortfall costs than a standard one (>= 1)
 * @param perActuation the price of one acquire or resize
 */
public record CostModel(double cpuPerCoreSecond, double memoryPerGibSecond, double ioPerMbSecond,
    double shortfallFactor, double criticalWeight, double perActuation) {

  /**
   * Default prices: a core-second at 1, a GiB-second at 0.25 (the ratio of public cloud on-demand prices of a
   * vCPU and a GiB), IO at 0.01 per MB/s; a standard shortfall 10x its slack, critical 10x more, batch 10x less;
   * an actuation at the price of 0.05 core-seconds.
   */
  public static final CostModel DEFAULT = new CostModel(1.0, 0.25, 0.01, 10, 10, 0.05);

  public CostModel {
    Checks.atLeast("cpuPerCoreSecond", cpuPerCoreSecond, 0.0);
    Checks.atLeast("memoryPerGibSecond", memoryPerGibSecond, 0.0);
    Checks.atLeast("ioPerMbSecond", ioPerMbSecond, 0.0);
    Checks.atLeast("shortfallFactor", shortfallFactor, 0.0);
    Checks.atLeast("perActuation", perActuation, 0.0);
    Checks.atLeast("criticalWeight", criticalWeight, 1.0);
  }

  /** The cost of holding {@code held} for {@code seconds} of work that used {@code used} meanwhile. */
  public double cost(Resources held, Resources used, double seconds, Priority priority) {
    double weight = switch (priority) {
      case CRITICAL -> shortfallFactor * criticalWeight;
      case STANDARD -> shortfallFactor;
      case BATCH -> shortfallFactor / criticalWeight;
    };
    double total = 0;
    for (Dimension d : Dimension.values()) {
      double h = held.get(d);
      double u = used.get(d);
      double price = unitPrice(d);
      total += seconds * price * (Math.max(0, h - u) + weight * Math.max(0, u - h));
    }
    return total;
  }

  private double unitPrice(Dimension d) {
    return switch (d) {
      case CPU -> cpuPerCoreSecond / 1000.0;
      case MEMORY -> memoryPerGibSecond / (1024.0 * 1024 * 1024);
      case IO, NETWORK -> ioPerMbSecond / 1_000_000.0;
    };
  }
}
