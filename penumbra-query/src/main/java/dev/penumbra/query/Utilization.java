package dev.penumbra.query;

/**
 * The share of the node's cores the queries' own work takes of late: a running mean of the CPU per query over a
 * running mean of the time between arrivals, per core. It answers whether a second thread for one query pays: a
 * parallel plan costs more CPU in all (its threads exchange and merge), which only a core that stays free for the
 * query's run can give for nothing. A free core at the moment of admission says little when the next query is due
 * within the run. Thread-safe.
 */
final class Utilization {

  /** The weight of the newest observation in each running mean (about the last 20 queries). */
  static final double ALPHA = 0.05;

  private final int cores;
  private long lastArrivalNanos = Long.MIN_VALUE;
  private double meanGapNanos = Double.NaN;
  private double meanCpuNanos = Double.NaN;

  Utilization(int cores) {
    this.cores = Math.max(1, cores);
  }

  /** A query arrived at {@code nanos} (a monotonic clock). */
  synchronized void arrived(long nanos) {
    if (lastArrivalNanos != Long.MIN_VALUE) {
      double gap = Math.max(0, nanos - lastArrivalNanos);
      meanGapNanos = Double.isNaN(meanGapNanos) ? gap : meanGapNanos + ALPHA * (gap - meanGapNanos);
    }
    lastArrivalNanos = nanos;
  }

  /** A query's run took {@code cpuNanos} of CPU. */
  synchronized void ran(long cpuNanos) {
    double c = Math.max(0, cpuNanos);
    meanCpuNanos = Double.isNaN(meanCpuNanos) ? c : meanCpuNanos + ALPHA * (c - meanCpuNanos);
  }

  /** The cores' busy share the recent arrivals ask for, or 0 before two arrivals and one run are seen. */
  synchronized double share() {
    if (Double.isNaN(meanGapNanos) || Double.isNaN(meanCpuNanos)) {
      return 0;
    }
    return meanCpuNanos / Math.max(1, meanGapNanos) / cores;
  }
}
