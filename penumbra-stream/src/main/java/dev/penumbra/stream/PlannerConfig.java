package dev.penumbra.stream;

import dev.penumbra.core.Checks;
import dev.penumbra.core.Priority;
import java.time.Duration;
import java.util.List;

/**
 * Options of the {@link StreamPlanner}, validated at construction.
 *
 * @param interval the observation step (one arrival-rate value per partition per step), > 0
 * @param horizons the plan's horizons (default 5 s, 1 min, 5 min), each > 0
 * @param lead how far ahead the current worker count must already cover: at least the time a new worker needs
 *     to start, > 0
 * @param priority sizes by its quantile: the rate's upper bound at p50 (batch), p90 (standard) or p99 (critical)
 * @param targetUtilisation the share of a worker's time planned busy, in (0, 1]
 * @param minWorkers lower bound per partition, >= 1
 * @param maxWorkers upper bound per partition, >= minWorkers
 * @param workerMemoryBytes memory reserved per worker, >= 0
 * @param defaultCostSeconds CPU seconds per record assumed before any partition has measured one, > 0
 * @param minHistory observations before a partition's own model is used (before that it borrows), >= 1
 */
public record PlannerConfig(
    Duration interval, List<Duration> horizons, Duration lead, Priority priority, double targetUtilisation,
    int minWorkers, int maxWorkers, long workerMemoryBytes, double defaultCostSeconds, int minHistory) {

  public static final List<Duration> DEFAULT_HORIZONS =
      List.of(Duration.ofSeconds(5), Duration.ofMinutes(1), Duration.ofMinutes(5));

  public PlannerConfig {
    positive("interval", interval);
    if (horizons == null || horizons.isEmpty()) {
      throw new IllegalArgumentException("horizons must name at least one horizon, was " + horizons);
    }
    for (Duration h : horizons) {
      positive("horizon", h);
    }
    horizons = List.copyOf(horizons);
    positive("lead", lead);
    if (priority == null) {
      throw new IllegalArgumentException("priority is missing");
    }
    Checks.share("targetUtilisation", targetUtilisation);
    Checks.atLeast("minWorkers", minWorkers, 1);
    if (maxWorkers < minWorkers) {
      throw new IllegalArgumentException("maxWorkers must be >= minWorkers (" + minWorkers + "), was " + maxWorkers);
    }
    Checks.atLeast("workerMemoryBytes", workerMemoryBytes, 0);
    if (!(defaultCostSeconds > 0 && Double.isFinite(defaultCostSeconds))) {
      throw new IllegalArgumentException("defaultCostSeconds must be > 0, was " + defaultCostSeconds);
    }
    Checks.atLeast("minHistory", minHistory, 1);
  }

  /** 1 s steps, horizons 5 s / 1 min / 5 min, lead 5 s, standard priority, 80% utilisation, 1..64 workers. */
  public static PlannerConfig defaults() {
    return new PlannerConfig(Duration.ofSeconds(1), DEFAULT_HORIZONS, Duration.ofSeconds(5), Priority.STANDARD,
        0.8, 1, 64, 64L << 20, 1e-3, 10);
  }

  public PlannerConfig withHorizons(List<Duration> h) {
    return new PlannerConfig(interval, h, lead, priority, targetUtilisation, minWorkers, maxWorkers,
        workerMemoryBytes, defaultCostSeconds, minHistory);
  }

  public PlannerConfig withLead(Duration l) {
    return new PlannerConfig(interval, horizons, l, priority, targetUtilisation, minWorkers, maxWorkers,
        workerMemoryBytes, defaultCostSeconds, minHistory);
  }

  public PlannerConfig withPriority(Priority p) {
    return new PlannerConfig(interval, horizons, lead, p, targetUtilisation, minWorkers, maxWorkers,
        workerMemoryBytes, defaultCostSeconds, minHistory);
  }

  public PlannerConfig withWorkers(int min, int max) {
    return new PlannerConfig(interval, horizons, lead, priority, targetUtilisation, min, max,
        workerMemoryBytes, defaultCostSeconds, minHistory);
  }

  public PlannerConfig withTargetUtilisation(double u) {
    return new PlannerConfig(interval, horizons, lead, priority, u, minWorkers, maxWorkers,
        workerMemoryBytes, defaultCostSeconds, minHistory);
  }

  public PlannerConfig withDefaultCostSeconds(double c) {
    return new PlannerConfig(interval, horizons, lead, priority, targetUtilisation, minWorkers, maxWorkers,
        workerMemoryBytes, c, minHistory);
  }

  /** Steps of {@link #interval} covering {@code d}, at least 1. */
  public int steps(Duration d) {
    long n = (d.toNanos() + interval.toNanos() - 1) / interval.toNanos();
    return (int) Math.max(1, Math.min(4096, n));
  }

  private static void positive(String field, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(field + " must be > 0, was " + d);
    }
  }
}
