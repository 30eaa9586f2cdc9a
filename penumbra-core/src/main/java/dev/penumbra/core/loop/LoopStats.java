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
 * @param guard the baseline guard's state
 */
public record LoopStats(String loop, int live, int waiting, long placed, long completed, long ended, long preempted,
    ResourceTime reserved, ResourceTime used, Guard guard) {

  /**
   * The baseline guard: which rule acts and the running (decayed) cost of each on the same measured use.
   *
   * @param baseline the baseline rule's name, or null when the loop carries none
   * @param acting the rule sizing new work now
   * @param penumbraCost Penumbra's decayed cost
   * @param baselineCost the baseline's decayed cost
   * @param scored spans of measured use both were scored on
   * @param switches how often the acting rule changed
   */
  public record Guard(String baseline, ControlLoop.Rule acting, double penumbraCost, double baselineCost, long scored,
      long switches) {}

  /** Reserved over used CPU time (NaN before anything was used). */
  public double cpuReservedPerUsed() {
    return used.cpuMilliSeconds() > 0 ? reserved.cpuMilliSeconds() / used.cpuMilliSeconds() : Double.NaN;
  }

  /** Reserved over used memory time (NaN before anything was used). */
  public double memoryReservedPerUsed() {
    return used.memoryByteSeconds() > 0 ? reserved.memoryByteSeconds() / used.memoryByteSeconds() : Double.NaN;
  }
}
