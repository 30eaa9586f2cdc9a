package dev.penumbra.stream;

import java.util.List;

/**
 * What the planner wants for one partition now.
 *
 * @param partition the partition
 * @param timeMillis when it was planned (the last observation's time)
 * @param workers the workers to run now: enough for the highest upper-bound rate within the lead, plus what
 *     drains the backlog within the lead
 * @param horizons the plan at each configured horizon
 * @param costSecondsPerRecord the CPU seconds per record it assumed
 * @param model the model whose forecast it used, {@code borrowed:...} during cold start
 * @param lowConfidence true during cold start or while the model's interval is provisional
 */
public record PartitionPlan(
    int partition, long timeMillis, int workers, List<HorizonPlan> horizons, double costSecondsPerRecord,
    String model, boolean lowConfidence) {

  public PartitionPlan {
    horizons = List.copyOf(horizons);
  }
}
