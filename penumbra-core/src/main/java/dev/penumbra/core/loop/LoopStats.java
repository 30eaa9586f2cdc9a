package dev.penumbra.core.loop;

/**
 * A loop's running totals, for metrics and the dashboard.
 *
 * @param loop the loop's name
 * @param live grants holding a reservation now
 * @param waiting grants waiting to be placed
 * @param placed grants placed so far
 * @param completed grants completed with a measured outcome
 * @param ended grants ended otherwise (released without outcome, expired, preempted, failed before placement)
 * @param preempted grants whose reservation was preempted by higher-priority work
 * @param reserved what the loop's reservations held, integrated over time (between measurements)
 * @param used what the work was measured to use, integrated over the same spans
 */
public record LoopStats(String loop, int live, int waiting, long placed, long completed, long ended, long preempted,
    ResourceTime reserved, ResourceTime used) {

  /** Reserved over used CPU time (NaN before anything was used). */
  public double cpuReservedPerUsed() {
    return used.cpuMilliSeconds() > 0 ? reserved.cpuMilliSeconds() / used.cpuMilliSeconds() : Double.NaN;
  }

  /** Reserved over used memory time (NaN before anything was used). */
  public double memoryReservedPerUsed() {
    return used.memoryByteSeconds() > 0 ? reserved.memoryByteSeconds() / used.memoryByteSeconds() : Double.NaN;
  }
}
