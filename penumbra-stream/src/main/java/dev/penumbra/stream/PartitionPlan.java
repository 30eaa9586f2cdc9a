package dev.penumbra.stream;

import dev.penumbra.core.Demand;
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
 * @param demand what the partition needs now, as the loop reserves it: CPU for the point and for the upper bound
 *     (the priority's quantile) of the highest rate within the lead plus draining the backlog within the lead, at
 *     the target utilisation; memory for the workers that CPU runs
 */
public record PartitionPlan(
    int partition, long timeMillis, int workers, List<HorizonPlan> horizons, double costSecondsPerRecord,
    String model, boolean lowConfidence, Demand demand) {

  public PartitionPlan {
    horizons = List.copyOf(horizons);
  }
}
